"""Diagnostic plots for fitted deep clustering estimators.

- :func:`plot_embedding`: the latent space in 2-D (t-SNE or PCA), coloured by the true labels and
  by the predicted clusters, with the cluster centroids marked.
- :func:`plot_confusion`: the confusion matrix after the Hungarian matching of clusters to classes.
- :func:`plot_history`: the per-epoch loss terms recorded in ``history_``, one panel per phase.
- :func:`plot_reconstructions`: original images above their autoencoder reconstructions.

Every function returns the matplotlib :class:`~matplotlib.figure.Figure` it drew on (its axes are
``fig.axes``) and never calls ``plt.show()``: show, save or close the figure yourself.

matplotlib is an optional dependency; install it with ``pip install "deepcluster_sk[plot]"``.

Over 400 lines on purpose: four independent figure functions with their argument checks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._utils import resolve_image_shape
from .metrics import _match_clusters

try:
    import matplotlib  # noqa: F401  (presence check; pyplot is imported lazily in _pyplot)
except ImportError as exc:  # pragma: no cover - exercised by a test that hides matplotlib
    raise ImportError(
        "deepcluster_sk.plotting requires matplotlib, an optional dependency. "
        'Install it with: pip install "deepcluster_sk[plot]"'
    ) from exc

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_confusion", "plot_embedding", "plot_history", "plot_reconstructions"]

_METHODS = ("tsne", "pca")
_AXIS_NAMES = {"tsne": "t-SNE", "pca": "PC", None: "latent"}
# Keys of a history record that are not curves: bookkeeping ...
_RECORD_META = frozenset({"phase", "epoch", "lr", "seconds"})
# ... and diagnostics that are not loss terms (drawn only when asked for through ``terms``).
_RECORD_DIAGNOSTICS = frozenset({"agreement", "occupied", "beta", "min_pi", "sim_grad_ratio"})


def _pyplot() -> Any:
    """Import and return :mod:`matplotlib.pyplot` (deferred so importing this module is cheap)."""
    import matplotlib.pyplot as plt

    return plt


def _check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _n_rows(X: Any) -> int:
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None else len(X)


def _take_rows(X: Any, indices: np.ndarray) -> Any:
    """Rows ``indices`` of an array-like, keeping a DataFrame a DataFrame (feature names)."""
    if hasattr(X, "iloc"):
        return X.iloc[indices]
    return np.asarray(X)[indices]


def _sample_indices(n_rows: int, n_max: int, rng: np.random.RandomState) -> np.ndarray:
    """Sorted random subset of at most ``n_max`` row indices (all rows when they fit)."""
    if n_rows <= n_max:
        return np.arange(n_rows)
    return np.sort(rng.choice(n_rows, size=n_max, replace=False))


def _label_colours(n_labels: int) -> tuple[Any, float, float]:
    """Colormap and (vmin, vmax) giving label code ``i`` its own colour."""
    from matplotlib import colormaps

    if n_labels <= 10:
        cmap = colormaps["tab10"]
    elif n_labels <= 20:
        cmap = colormaps["tab20"]
    else:
        return colormaps["viridis"], 0.0, float(max(n_labels - 1, 1))
    # listed colormap with N colours: code i lands in the middle of colour i
    return cmap, -0.5, cmap.N - 0.5


def _scatter_labels(ax: Axes, points: np.ndarray, labels: np.ndarray, *, legend: bool) -> Any:
    """One scatter of ``points`` coloured by ``labels`` (any sortable values)."""
    names, codes = np.unique(labels, return_inverse=True)
    cmap, vmin, vmax = _label_colours(names.shape[0])
    sc = ax.scatter(
        points[:, 0],
        points[:, 1],
        c=codes.ravel(),
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        s=8,
        alpha=0.8,
        linewidths=0,
    )
    sc.set_gid("points")
    if legend and names.shape[0] <= 20:
        handles, _ = sc.legend_elements(prop="colors", num=None)
        ax.legend(
            handles,
            [str(n) for n in names],
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
            fontsize="small",
            frameon=False,
        )
    return sc


# --------------------------------------------------------------------------------------------------
# Embedding
# --------------------------------------------------------------------------------------------------
def plot_embedding(
    estimator: Any,
    X: ArrayLike,
    y: ArrayLike | None = None,
    *,
    method: str = "tsne",
    n_samples: int = 2000,
    random_state: int | np.random.RandomState | None = None,
    title: str | None = None,
) -> Figure:
    """Plot the latent space of a fitted estimator in 2-D, by true label and by cluster.

    A random subset of at most ``n_samples`` rows of ``X`` is mapped with
    ``estimator.transform`` and labelled with ``estimator.predict``. The codes are reduced to two
    dimensions with t-SNE (``init="pca"``) or PCA; codes that already have at most two
    dimensions are drawn as they are (a 1-D code is drawn against zero).

    Parameters
    ----------
    estimator : fitted estimator
        Any fitted estimator with ``transform`` and ``predict`` (e.g.
        :class:`~deepcluster_sk.AEGMM`, :class:`~deepcluster_sk.ConvAEKMeans`,
        :class:`~deepcluster_sk.DVAEClusterer`).
    X : array-like of shape (n_rows, n_features)
        Data to embed.
    y : array-like of shape (n_rows,), default=None
        True labels. When given, a left panel is coloured by them.
    method : {"tsne", "pca"}, default="tsne"
        2-D reduction of the codes. t-SNE costs O(n log n) per iteration and takes seconds to a
        minute for a few thousand points; its perplexity is ``min(30, (n - 1) / 3)``.
    n_samples : int, default=2000
        Maximum number of rows drawn (a random subset without replacement when ``X`` has more).
    random_state : int, RandomState instance or None, default=None
        Controls the subset and the t-SNE / PCA randomness.
    title : str, default=None
        Figure title (``fig.suptitle``).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure. ``fig.axes`` is ``[ax_true, ax_clusters]`` when ``y`` is given, else
        ``[ax_clusters]``. Each axes holds one scatter of the sampled points (its first
        collection, ``gid="points"``); the clusters axes also holds the centroids, the mean 2-D
        position of each predicted cluster, as a scatter of black ``"x"`` markers
        (``gid="centroids"``) annotated with the cluster ids.

    Raises
    ------
    ValueError
        If ``method`` is not ``"tsne"`` or ``"pca"``, ``n_samples`` is not an integer >= 2, or
        ``y`` does not have one label per row of ``X``.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deepcluster_sk import AEGMM
    >>> from deepcluster_sk.plotting import plot_embedding
    >>> X, y = load_digits(return_X_y=True)
    >>> est = AEGMM(10, hidden_dims=(32,), n_epochs=3, random_state=0).fit(X / 16)
    >>> fig = plot_embedding(est, X / 16, y, method="pca", n_samples=500, random_state=0)
    >>> [ax.get_title() for ax in fig.axes]
    ['true labels', 'clusters']
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    n_samples = _check_positive_int(n_samples, "n_samples", minimum=2)
    n_rows = _n_rows(X)
    if y is not None:
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != n_rows:
            raise ValueError(
                f"y must have one label per row of X: got y of shape {y.shape} for {n_rows} rows."
            )
    rng = check_random_state(random_state)
    idx = _sample_indices(n_rows, n_samples, rng)
    X_sample = _take_rows(X, idx)
    codes = np.asarray(estimator.transform(X_sample), dtype=np.float64)
    codes = codes.reshape(codes.shape[0], -1)
    clusters = np.asarray(estimator.predict(X_sample))

    points, axis_name = _reduce_2d(codes, method, rng)

    plt = _pyplot()
    n_panels = 1 if y is None else 2
    fig, axes = plt.subplots(1, n_panels, figsize=(6.0 * n_panels, 5.0), squeeze=False)
    axes = list(axes[0])
    if y is not None:
        ax_true = axes[0]
        _scatter_labels(ax_true, points, y[idx], legend=True)
        ax_true.set_title("true labels")
    ax_clusters = axes[-1]
    _scatter_labels(ax_clusters, points, clusters, legend=False)
    ids = np.unique(clusters)
    centroids = np.array([points[clusters == k].mean(axis=0) for k in ids])
    marks = ax_clusters.scatter(
        centroids[:, 0], centroids[:, 1], marker="x", c="black", s=60, linewidths=2, zorder=3
    )
    marks.set_gid("centroids")
    for k, (cx, cy) in zip(ids, centroids, strict=True):
        ax_clusters.annotate(
            str(k),
            (cx, cy),
            xytext=(4, 4),
            textcoords="offset points",
            fontweight="bold",
            zorder=4,
        )
    ax_clusters.set_title("clusters")
    for ax in axes:
        ax.set_xlabel(f"{axis_name} 1")
        ax.set_ylabel(f"{axis_name} 2")
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _reduce_2d(
    codes: np.ndarray, method: str, rng: np.random.RandomState
) -> tuple[np.ndarray, str]:
    """2-D points of ``codes`` and the name of their axes."""
    n, dim = codes.shape
    if dim <= 2:
        points = codes if dim == 2 else np.column_stack([codes[:, 0], np.zeros(n)])
        return points, _AXIS_NAMES[None]
    if method == "pca":
        points = PCA(n_components=2, random_state=rng).fit_transform(codes)
    else:
        perplexity = max(min(30.0, (n - 1) / 3.0), 1.0)
        if perplexity >= n:  # only for n <= 2 rows; t-SNE requires perplexity < n
            perplexity = n - 0.5
        points = TSNE(
            n_components=2, init="pca", perplexity=perplexity, random_state=rng
        ).fit_transform(codes)
    return points, _AXIS_NAMES[method]


# --------------------------------------------------------------------------------------------------
# Confusion matrix
# --------------------------------------------------------------------------------------------------
def plot_confusion(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    normalize: bool = False,
    ax: Axes | None = None,
) -> Figure:
    """Plot the confusion matrix of a clustering after matching clusters to classes.

    Clusters are matched one-to-one to classes by the Hungarian algorithm (the matching of
    :func:`~deepcluster_sk.metrics.cluster_accuracy`). Rows are the true classes; the columns are
    the clusters reordered so that the cluster matched to class ``i`` is column ``i``, followed
    by the clusters left without a class (when there are more clusters than classes). With fewer
    clusters than classes, the columns are the matched clusters in the order of their classes.
    The tick labels show the original cluster ids and the title the accuracy.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class labels.
    y_pred : array-like of shape (n_samples,)
        Predicted cluster labels.
    normalize : bool, default=False
        Divide each row by its sum (the fraction of each class in each cluster).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure holding the plot (``ax.figure`` when ``ax`` is given). The matrix axes holds
        one image (``ax.images[0]``, whose array is the reordered, possibly normalised matrix)
        and a text per cell; a colorbar axes is added to the figure after it.

    Raises
    ------
    ValueError
        If the inputs are not 1-D, have different lengths, or are empty.

    Examples
    --------
    >>> from deepcluster_sk.plotting import plot_confusion
    >>> fig = plot_confusion([0, 0, 1, 1, 2, 2], [2, 2, 0, 0, 0, 1])
    >>> fig.axes[0].get_title()
    'ACC = 0.833'
    >>> fig.axes[0].images[0].get_array().tolist()
    [[2, 0, 0], [0, 2, 0], [0, 1, 1]]
    """
    matching = _match_clusters(y_true, y_pred)  # also validates the inputs
    # the cluster matched to the k-th matched class is column k; unmatched clusters come last
    unmatched = np.setdiff1d(np.arange(matching.clusters.shape[0]), matching.cols)
    order = np.concatenate([matching.cols, unmatched]).astype(np.intp)
    matrix = matching.table[:, order]
    if normalize:
        sums = matrix.sum(axis=1, keepdims=True)
        matrix = matrix / np.maximum(sums, 1)

    plt = _pyplot()
    if ax is None:
        n_rows, n_cols = matrix.shape
        size = (max(4.0, 0.55 * n_cols + 2.5), max(3.5, 0.5 * n_rows + 1.5))
        fig, ax = plt.subplots(figsize=size)
    else:
        fig = ax.figure
    im = ax.imshow(matrix, cmap="Blues", interpolation="nearest", aspect="auto")
    fig.colorbar(im, ax=ax)
    threshold = (matrix.max() + matrix.min()) / 2.0
    fmt = "{:.2f}" if normalize else "{:d}"
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(
            j,
            i,
            fmt.format(value.item()),
            ha="center",
            va="center",
            fontsize="small",
            color="white" if value > threshold else "black",
        )
    ax.set_xticks(np.arange(matrix.shape[1]), [str(c) for c in matching.clusters[order]])
    ax.set_yticks(np.arange(matrix.shape[0]), [str(c) for c in matching.classes])
    ax.set_xlabel("cluster (Hungarian-matched)")
    ax.set_ylabel("true label")
    ax.set_title(f"ACC = {matching.accuracy:.3f}")
    return fig


# --------------------------------------------------------------------------------------------------
# Training history
# --------------------------------------------------------------------------------------------------
def plot_history(estimator: Any, *, terms: Sequence[str] | None = None) -> Figure:
    """Plot the per-epoch loss terms recorded during training, one panel per phase.

    Reads the fitted ``estimator.history_``: one record per epoch with ``"phase"``, ``"epoch"``,
    the total ``"loss"``, the per-term values, ``"lr"`` and ``"seconds"``. Multi-phase
    estimators such as :class:`~deepcluster_sk.DVAEClusterer` (``"pretrain"``,
    ``"classifier"``, ``"train"``) get one panel per phase, in training order.

    Parameters
    ----------
    estimator : fitted estimator
        An estimator with a ``history_`` list of per-epoch dicts.
    terms : sequence of str, default=None
        Keys to draw. None draws the total ``"loss"`` and every loss term of each phase, leaving
        out bookkeeping (``epoch``, ``lr``, ``seconds``) and the DVAE diagnostics
        (``agreement``, ``occupied``, ``beta``, ``min_pi``, ``sim_grad_ratio``), which can be
        asked for by name. A term that a phase did not record is simply absent from that
        phase's panel.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure; ``fig.axes`` has one axes per phase, titled by the phase name, with x the
        epoch, one line per drawn term (labelled by its key) and a legend. The y-axis is
        logarithmic when every drawn value of the panel is positive.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If ``history_`` is empty (fitted with zero epochs), or ``terms`` is empty or names a key
        that no record holds.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deepcluster_sk import AEGMM
    >>> from deepcluster_sk.plotting import plot_history
    >>> X, _ = load_digits(return_X_y=True)
    >>> est = AEGMM(10, hidden_dims=(32,), n_epochs=3, random_state=0).fit(X / 16)
    >>> fig = plot_history(est)
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['loss']
    """
    check_is_fitted(estimator, "history_")
    history = list(estimator.history_)
    if not history:
        raise ValueError(
            f"{type(estimator).__name__}.history_ is empty: the estimator was fitted without "
            "training epochs, so there is nothing to plot."
        )
    if terms is not None:
        if isinstance(terms, str):
            terms = [terms]
        terms = list(terms)
        if not terms:
            raise ValueError("terms must name at least one history key, got an empty sequence.")
        recorded = set().union(*(record.keys() for record in history))
        missing = [t for t in terms if t not in recorded]
        if missing:
            available = sorted(k for k in recorded if k not in ("phase", "epoch"))
            raise ValueError(f"terms {missing} are not in history_; available keys: {available}.")

    phases: dict[str, list[dict[str, Any]]] = {}
    for record in history:
        phases.setdefault(str(record.get("phase", "train")), []).append(record)

    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    n = len(phases)
    fig, axes = plt.subplots(1, n, figsize=(4.5 * n + 0.5, 3.8), squeeze=False)
    for ax, (phase, records) in zip(axes[0], phases.items(), strict=True):
        keys: list[str] = []
        for record in records:
            for key in record:
                if key not in keys:
                    keys.append(key)
        if terms is None:
            drawn = [k for k in keys if k not in _RECORD_META and k not in _RECORD_DIAGNOSTICS]
        else:
            drawn = [k for k in terms if k in keys]
        all_positive = True
        for key in drawn:
            pairs = [(r.get("epoch", i), r[key]) for i, r in enumerate(records) if key in r]
            epochs = [p[0] for p in pairs]
            values = np.asarray([p[1] for p in pairs], dtype=np.float64)
            all_positive &= bool(np.all(values > 0))
            ax.plot(epochs, values, marker="o", markersize=3, label=key)
        if drawn and all_positive:
            ax.set_yscale("log")
        if drawn:
            ax.legend(fontsize="small")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(phase)
        ax.set_xlabel("epoch")
        ax.set_ylabel("value")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Reconstructions
# --------------------------------------------------------------------------------------------------
def _resolve_shape(
    estimator: Any, n_features: int, image_shape: Sequence[int] | None
) -> tuple[int, int, int]:
    """``(C, H, W)`` of the flattened rows, from the argument, the estimator or a square side."""
    if image_shape is None:
        fitted_shape = getattr(estimator, "input_shape_", None)
        if fitted_shape is not None and math.prod(fitted_shape) == n_features:
            return tuple(int(s) for s in fitted_shape)
    return resolve_image_shape(image_shape, n_features, param="image_shape")


def _as_image(row: np.ndarray, shape: tuple[int, int, int], vmin: float, vmax: float) -> np.ndarray:
    """An image for ``imshow``: (H, W) for grey, (H, W, 3) in [0, 1] for RGB."""
    img = row.reshape(shape)
    if shape[0] == 3:
        scale = vmax - vmin if vmax > vmin else 1.0
        return np.clip((img.transpose(1, 2, 0) - vmin) / scale, 0.0, 1.0)
    return img.mean(axis=0)  # one channel; other channel counts are shown as their mean


def plot_reconstructions(
    estimator: Any,
    X: ArrayLike,
    *,
    n_images: int = 10,
    image_shape: Sequence[int] | None = None,
    random_state: int | np.random.RandomState | None = None,
) -> Figure:
    """Plot random images of ``X`` above their reconstructions by the estimator's autoencoder.

    Parameters
    ----------
    estimator : fitted estimator
        A fitted estimator with a ``reconstruct`` method (every estimator of this package).
    X : array-like of shape (n_rows, n_features)
        Flattened images (row-major ``(C, H, W)``).
    n_images : int, default=10
        Number of images (columns); capped by the number of rows of ``X``.
    image_shape : sequence of int, default=None
        ``(H, W)`` or ``(C, H, W)`` of one image. None uses ``estimator.input_shape_`` when the
        estimator has it, else a square single-channel image when ``n_features`` is a perfect
        square.
    random_state : int, RandomState instance or None, default=None
        Controls which rows are drawn.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure; ``fig.axes`` holds ``2 * n_images`` axes without ticks, the originals first
        (top row, the first one with y-label ``"original"``), then the reconstructions (bottom
        row, the first one with y-label ``"reconstruction"``). Each axes holds one image:
        3-channel images are drawn in RGB, one-channel images in grey (other channel counts as
        the mean over channels), all on the value range of the originals.

    Raises
    ------
    TypeError
        If the estimator has no ``reconstruct`` method.
    ValueError
        If ``n_images`` is not a positive integer or the image shape cannot be resolved.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deepcluster_sk import AEGMM
    >>> from deepcluster_sk.plotting import plot_reconstructions
    >>> X, _ = load_digits(return_X_y=True)
    >>> est = AEGMM(10, hidden_dims=(32,), n_epochs=3, random_state=0).fit(X / 16)
    >>> fig = plot_reconstructions(est, X / 16, n_images=5, random_state=0)
    >>> len(fig.axes), fig.axes[0].images[0].get_array().shape
    (10, (8, 8))
    """
    if not callable(getattr(estimator, "reconstruct", None)):
        raise TypeError(
            "plot_reconstructions needs an estimator with a reconstruct method (any of "
            f"deepcluster_sk's estimators); {type(estimator).__name__} has none."
        )
    n_images = _check_positive_int(n_images, "n_images")
    n_rows = _n_rows(X)
    rng = check_random_state(random_state)
    idx = rng.choice(n_rows, size=min(n_images, n_rows), replace=False)
    X_sample = _take_rows(X, idx)
    originals = np.asarray(X_sample, dtype=np.float64)
    originals = originals.reshape(originals.shape[0], -1)
    shape = _resolve_shape(estimator, originals.shape[1], image_shape)
    recon = np.asarray(estimator.reconstruct(X_sample), dtype=np.float64)
    recon = recon.reshape(recon.shape[0], -1)

    vmin, vmax = float(originals.min()), float(originals.max())
    n_cols = originals.shape[0]
    plt = _pyplot()
    fig, axes = plt.subplots(2, n_cols, figsize=(1.2 * n_cols + 0.6, 2.8), squeeze=False)
    for row, (data, name) in enumerate(((originals, "original"), (recon, "reconstruction"))):
        for col in range(n_cols):
            ax = axes[row, col]
            image = _as_image(data[col], shape, vmin, vmax)
            if image.ndim == 2:
                ax.imshow(image, cmap="gray", vmin=vmin, vmax=vmax)
            else:
                ax.imshow(image)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(name)
    fig.tight_layout()
    return fig
