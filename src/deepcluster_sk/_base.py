"""The base estimator: validation, the fit template, batched inference, device-safe pickling.

Long on purpose: the template ``fit`` and everything it owns for all the estimators
(parameter constraints, precision, transactional assignment, inference, pickling).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import warnings
from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Iterator
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._manifold import NeighbourExtension, fit_umap_embedding, unit_rows
from ._networks import NETWORK_NAMES, build_autoencoder
from ._training import FitConfig, run_training
from ._utils import (
    as_tensor,
    data_device,
    draw_seed,
    inference_device,
    make_generator,
    random_affine,
    resolve_batch_size,
    resolve_device,
    resolve_precision,
    rows_as_float,
    seeded_torch,
)
from ._version import __version__
from .nn.losses import reconstruction_loss

__all__ = [
    "AutoencoderClusterer",
    "BaseDeepClusterer",
    "ClusterCollapseWarning",
    "best_of_restarts",
]

#: A partition whose largest cluster holds more than this share of the samples is "collapsed".
_COLLAPSE_SHARE = 0.9


class ClusterCollapseWarning(ConvergenceWarning):
    """Warned when a fitted partition leaves clusters empty or puts nearly all samples in one."""


def best_of_restarts(
    fit_one: Callable[[int], Any],
    criterion: Callable[[Any], float],
    n_init: int,
    rng: np.random.RandomState,
) -> tuple[Any, np.ndarray]:
    """Fit ``n_init`` restarts and keep the one with the highest ``criterion``.

    The criterion is unsupervised (a likelihood, minus an inertia): restarts are never
    chosen by labels.

    Parameters
    ----------
    fit_one : callable
        ``fit_one(seed)`` returns one fitted model.
    criterion : callable
        ``criterion(model)``, higher is better.
    n_init : int
        Number of restarts (at least 1).
    rng : numpy.random.RandomState
        Draws the restarts' seeds.

    Returns
    -------
    best : object
        The model with the highest criterion (the first one on ties).
    scores : ndarray of shape (n_init,)
        The criterion of every restart, in order.
    """
    best, scores = None, []
    for _ in range(max(1, int(n_init))):
        model = fit_one(draw_seed(rng))
        score = float(criterion(model))
        if not np.isfinite(score):
            score = -np.inf
        if best is None or score > max(scores):
            best = model
        scores.append(score)
    return best, np.asarray(scores)


def check_partition(labels: np.ndarray, n_clusters: int, estimator: str, hint: str) -> None:
    """Warn with :class:`ClusterCollapseWarning` when a partition has collapsed.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,)
        The fitted partition.
    n_clusters : int
        Number of clusters asked for.
    estimator : str
        Name shown in the message.
    hint : str
        What to change, shown in the message.
    """
    n = labels.shape[0]
    if n_clusters < 2 or n < 2 * n_clusters:
        return
    counts = np.bincount(labels, minlength=n_clusters)
    empty = int((counts == 0).sum())
    share = counts.max() / n
    if empty or share > _COLLAPSE_SHARE:
        warnings.warn(
            f"{estimator} put {share:.0%} of the {n} training samples into one cluster and "
            f"left {empty} of {n_clusters} clusters empty: the partition has collapsed. "
            f"{hint}",
            ClusterCollapseWarning,
            stacklevel=3,
        )


def _looks_like_8bit(X: np.ndarray, block: int = 4096) -> bool:
    """Whether ``X`` (finite, float) holds only integers in [0, 255], the largest above 1.

    Checked ``block`` rows at a time, so no copy of ``X`` is made and typical float data
    are rejected at the first block.
    """
    if not (X.min() >= 0.0 and 1.0 < X.max() <= 255.0):
        return False
    return all(np.array_equal(c, np.floor(c)) for c in np.array_split(X, -(-len(X) // block)))


class BaseDeepClusterer(
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Base class of the deep clustering estimators: a network plus a clustering head.

    It owns :meth:`fit` as a template and leaves small hooks to subclasses:

    - :meth:`_build_module` returns the torch module for the training rows (built from the
      ``encoder``/``decoder`` parameters, see :mod:`deepcluster_sk._networks`);
    - :meth:`_fit_module` trains it (by default: :meth:`_pretrain`, the reconstruction
      training shared by every estimator);
    - :meth:`_fit_head` fits the clustering head on the latent codes of the training data;
    - :meth:`_predict_latent` labels latent codes; :meth:`_transform_latent` maps them to the
      output of :meth:`transform`;
    - :meth:`_on_epoch_end` is called after every training epoch with its history record
      (a no-op; a subclass may extend the record, e.g. to log accuracy in a benchmark).

    The parameters shared by every estimator are ``n_clusters``, the network (``encoder``,
    ``decoder``, ``hidden_dims``, ``channels``, ``latent_dim``, ``input_shape``,
    ``likelihood``), the training settings (``n_epochs``, ``batch_size``, ``lr``,
    ``precision``) and ``device``, ``random_state``, ``verbose``, ``warm_start``. Settings
    that make no measurable difference are private class attributes (``_optimizer``,
    ``_weight_decay``, ``_tol``, ``_gaussian_variance``); a subclass may override them.

    Notes
    -----
    Fitted estimators pickle with their module on the CPU, so a model trained on a GPU
    loads and predicts on a machine without one.
    """

    _parameter_constraints: dict = {  # noqa: RUF012 (sklearn convention)
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "encoder": [StrOptions(set(NETWORK_NAMES)), torch.nn.Module],
        "decoder": [StrOptions(set(NETWORK_NAMES)), torch.nn.Module],
        "hidden_dims": ["array-like", StrOptions({"auto"})],
        "channels": ["array-like"],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "input_shape": ["array-like", StrOptions({"1d"}), None],
        "likelihood": [StrOptions({"auto", "bernoulli", "gaussian"})],
        "n_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "precision": [StrOptions({"auto", "float32", "bfloat16"})],
        "device": "no_validation",  # checked by resolve_device in fit
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    #: Rows per forward pass in transform/predict; keeps memory flat for large X. The last
    #: block is padded to this size, so results do not depend on the batch composition.
    inference_batch_size: int = 1024
    #: Optimizer of every phase ("adam", "adamw" or "sgd").
    _optimizer: str = "adam"
    #: L2 penalty of the optimizer.
    _weight_decay: float = 0.0
    #: Early stopping on the relative decrease of the epoch loss (None: off).
    _tol: float | None = None
    #: Fixed variance of the Gaussian likelihood's per-sample NLL (VAE losses).
    _gaussian_variance: float = 0.5
    #: Rows the head (and a manifold step) is fitted on. Above this, a random subset of
    #: this size (drawn from ``random_state``) fits them and every row is then labelled
    #: through the fitted map: EM with restarts on a million codes would take many times
    #: longer and large temporaries, for a partition that 100,000 rows already determine.
    _head_max_samples: int = 100_000
    #: Rows per call when a fitted head labels or scores codes (bounds its temporaries).
    _head_chunk_rows: int = 65_536
    #: ``batch_size="auto"`` halves the batch (down to 32) while an epoch would hold fewer
    #: than this many mini-batches (see ``resolve_batch_size``).
    _auto_min_batches: int = 10
    #: Denoising pretraining: the fraction of each row's values zeroed at random in the
    #: network's input (the target stays the clean row); 0 trains a plain autoencoder.
    _input_dropout: float = 0.0
    #: Augmented pretraining on images (``input_shape`` of rank 3): each row is moved by a
    #: random affine map before it is both input and target, with shifts up to this
    #: fraction of the height/width and rotations up to ``_augment_rotation`` degrees.
    #: 0 and 0 train on the rows as given; tabular rows are never transformed.
    _augment_shift: float = 0.0
    _augment_rotation: float = 0.0
    #: What the collapse warning suggests changing.
    _collapse_hint: str = (
        "Train longer (n_epochs), lower lr, check the scaling of X, or lower n_clusters."
    )

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _build_module(self, X: np.ndarray) -> torch.nn.Module:
        """Return a freshly initialised module for the training rows ``X``."""

    def _fit_module(
        self, X: torch.Tensor, rng: np.random.RandomState, *, warm: bool = False
    ) -> None:
        """Train ``self.module_`` on the device tensor ``X`` (default: reconstruction).

        ``warm`` is True when ``self.module_`` is a copy of the previous fit's module that
        training continues (``warm_start``); ``history_`` then holds the previous records.
        """
        config = self._fit_config(phase="train", first_epoch=self._epochs_run("train"))
        self._pretrain(X, rng, config, reduction="mean")

    def _encode(self, xb: torch.Tensor) -> torch.Tensor:
        """Latent codes of a batch (eval mode, no grad)."""
        return self.module_.encode(xb)

    @abstractmethod
    def _fit_head(self, Z: np.ndarray, rng: np.random.RandomState) -> None:
        """Fit the clustering head on the training codes ``Z``."""

    @abstractmethod
    def _predict_latent(self, Z: np.ndarray) -> np.ndarray:
        """Cluster labels of codes ``Z``."""

    def _transform_latent(self, Z: np.ndarray) -> np.ndarray:
        """Output of :meth:`transform` for codes ``Z`` (default: the codes)."""
        return Z

    def _fit_head_space(self, Z: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        """Fit the map from codes to the head's input on the training codes (default: none)."""
        return Z

    def _head_space(self, Z: np.ndarray) -> np.ndarray:
        """The head's input for new codes ``Z`` (the fitted map of :meth:`_fit_head_space`)."""
        return Z

    def _on_epoch_end(self, phase: str, epoch: int, record: dict[str, Any]) -> None:
        """Called after every epoch of every phase with the epoch's history record.

        The record may be extended in place (its keys end up in ``history_``). The default
        does nothing; the benchmark harness subclasses an estimator to log accuracy here. An
        override that runs inference must put ``self.module_`` back in training mode.
        """

    # --------------------------------------------------------------- machinery
    def _validate_X(self, X: Any, *, reset: bool) -> np.ndarray:
        return validate_data(
            self,
            X,
            reset=reset,
            # uint8 stays uint8 (8-bit images, scaled batch by batch): no float copy.
            dtype=[np.float32, np.uint8],
            ensure_min_samples=2 if reset else 1,
            order="C",
        )

    def _check_input(self, X: np.ndarray) -> None:
        """Resolve ``likelihood`` into ``likelihood_`` and check the value range it needs."""
        # uint8 rows are 8-bit intensities, divided by 255 as they are used.
        in_unit = X.dtype == np.uint8 or bool(X.min() >= 0.0 and X.max() <= 1.0)
        if self.likelihood == "bernoulli" and not in_unit:
            raise ValueError(
                f"{type(self).__name__} with likelihood='bernoulli' needs X in [0, 1], but X "
                f"ranges over [{X.min():.4g}, {X.max():.4g}]. Scale the data first (e.g. "
                "sklearn.preprocessing.MinMaxScaler, or divide images by 255) or use "
                "likelihood='gaussian'."
            )
        if self.likelihood == "auto":
            self.likelihood_ = "bernoulli" if in_unit else "gaussian"
            if not in_unit and _looks_like_8bit(X):
                warnings.warn(
                    f"X holds integers in [0, 255] (max {X.max():.0f}), like 8-bit images, so "
                    f"likelihood='auto' chose the Gaussian likelihood for "
                    f"{type(self).__name__}. If these are images, divide X by 255 (or by its "
                    "maximum) to get the Bernoulli likelihood on pixel intensities in [0, 1]; "
                    "otherwise pass likelihood='gaussian' to silence this warning.",
                    UserWarning,
                    stacklevel=5,  # _check_input < _fit < fit < _fit_context < the caller
                )
        else:
            self.likelihood_ = self.likelihood

    def _network_params(self) -> dict[str, Any]:
        """The network parameters, as the builders of :mod:`._networks` take them."""
        return {
            "encoder": self.encoder,
            "decoder": self.decoder,
            "input_shape": self.input_shape,
            "hidden_dims": self.hidden_dims,
            "channels": self.channels,
            "latent_dim": self.latent_dim,
        }

    def _epochs_run(self, phase: str) -> int:
        """Number of epochs of ``phase`` in ``history_`` (those a warm fit continues)."""
        return sum(1 for record in self.history_ if record["phase"] == phase)

    def _warm_module(self, X: np.ndarray, seed: int, n_features: int | None) -> torch.nn.Module:
        """A deep copy of the fitted module for a warm fit on ``X``; ValueError if it can't be.

        The network the current parameters would build for ``X`` (initialised from
        ``seed``, as a cold fit would) must have the fitted module's parameter names and
        shapes and read rows with the same shape; otherwise the parameters or the data
        changed since the last fit and continuing it is meaningless.
        """
        name = type(self).__name__
        if n_features is not None and n_features != X.shape[1]:
            raise ValueError(
                f"{name} with warm_start=True continues the previous fit, whose network "
                f"reads {n_features} features, but X has {X.shape[1]}. Set warm_start=False "
                "to train a new network on these data."
            )
        with seeded_torch(seed):
            fresh = self._build_module(X)
        shapes = {k: tuple(v.shape) for k, v in fresh.state_dict().items()}
        fitted = {k: tuple(v.shape) for k, v in self.module_.state_dict().items()}
        if shapes != fitted or fresh.input_shape != self.input_shape_:
            raise ValueError(
                f"{name} with warm_start=True continues the previous fit, but the network "
                "parameters (encoder, decoder, hidden_dims, channels, latent_dim, "
                "input_shape or n_clusters) changed since then, so the fitted network does "
                "not match the one they describe. Set warm_start=False to train a new one."
            )
        return copy.deepcopy(self.module_)

    def _fit_config(self, **overrides: Any) -> FitConfig:
        """Training settings from the estimator's parameters, with overrides."""
        settings: dict[str, Any] = {
            "n_epochs": self.n_epochs,
            "batch_size": self._batch_size,
            "lr": self.lr,
            "optimizer": self._optimizer,
            "weight_decay": self._weight_decay,
            "tol": self._tol,
        }
        settings.update(overrides)
        return FitConfig(**settings)

    def _train(
        self,
        loss_fn: Callable[..., Any],
        data: torch.Tensor | tuple[torch.Tensor, ...],
        config: FitConfig,
        rng: np.random.RandomState,
        **kwargs: Any,
    ) -> list[dict[str, float]]:
        """Run the shared training engine and append its records to ``history_``."""
        inner = kwargs.pop("on_epoch_end", None)

        def on_epoch_end(epoch: int, record: dict[str, Any]) -> bool | None:
            stop = inner(epoch, record) if inner is not None else None
            self._on_epoch_end(config.phase, epoch, record)
            return stop

        records = run_training(
            self.module_,
            loss_fn,
            data,
            config,
            generator=make_generator(draw_seed(rng)),
            verbose=self.verbose,
            on_epoch_end=on_epoch_end,
            device=self._device,
            **kwargs,
        )
        self.history_.extend(records)
        return records

    def _reconstruction_loss(self, output: torch.Tensor, x: torch.Tensor, reduction: str):
        return reconstruction_loss(
            output, x, self.likelihood_, reduction=reduction, variance=self._gaussian_variance
        )

    def _pretrain(
        self,
        X: torch.Tensor,
        rng: np.random.RandomState,
        config: FitConfig,
        *,
        reduction: str,
    ) -> list[dict[str, float]]:
        """Reconstruction training of encoder, code head and decoder: the one pretraining.

        ``reduction`` is that of :func:`~deepcluster_sk.nn.reconstruction_loss`: ``"mean"``
        trains on the mean elementwise loss (the autoencoders'), ``"none"`` on the mean of the
        per-sample negative log-likelihoods (the VAE's).
        """
        module = self.module_
        drop = float(self._input_dropout)
        noise = make_generator(draw_seed(rng), self._device) if drop > 0 else None
        shape = getattr(module, "input_shape", None)
        shift, rotation = float(self._augment_shift), float(self._augment_rotation)
        augment = (
            make_generator(draw_seed(rng), self._device)
            if shape is not None and len(shape) == 3 and (shift > 0 or rotation > 0)
            else None
        )

        def loss_fn(batch, epoch):
            (xb,) = batch
            if augment is not None:
                xb = random_affine(xb, shape, shift, rotation, augment)
            inputs = xb
            if noise is not None:
                # Denoising: the network sees the row with a random fraction of its values
                # zeroed and reconstructs the clean row.
                keep = torch.rand(xb.shape, generator=noise, device=xb.device) >= drop
                inputs = xb * keep
            return self._reconstruction_loss(module(inputs), xb, reduction).mean(), {}

        return self._train(loss_fn, X, config, rng, params=module.autoencoder_parameters())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> BaseDeepClusterer:
        """Train the network and the clustering head on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (images flattened row-major). A ``numpy.memmap`` is read in
            mini-batches, never copied whole. ``uint8`` data are read as 8-bit
            intensities: each batch is divided by 255 as it is used (the same model as
            fitting ``X.astype(np.float32) / 255``, at a quarter of the memory); here and
            in every other method. Other types are converted to float32.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # Transactional: a fit builds new objects (module, head, history) and never mutates
        # the previous ones, so restoring the attribute dict on any exception (including
        # KeyboardInterrupt) leaves a fitted estimator exactly as it was and a fresh one
        # unfitted.
        previous = dict(self.__dict__)
        try:
            self._fit(X)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise
        return self

    def _fit(self, X: Any) -> None:
        warm = bool(self.warm_start) and isinstance(getattr(self, "module_", None), torch.nn.Module)
        n_features = getattr(self, "n_features_in_", None)
        X = self._validate_X(X, reset=True)
        if X.shape[0] < self.n_clusters:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}.")
        self._check_input(X)
        self._device = resolve_device(self.device)
        self._precision = resolve_precision(self.precision, self._device)
        self._batch_size = resolve_batch_size(self.batch_size, X.shape[0], self._auto_min_batches)
        rng = check_random_state(self.random_state)
        seed = draw_seed(rng)
        if warm:
            # Train a copy: an interrupted warm fit leaves the previous module untouched.
            module = self._warm_module(X, seed, n_features)
            self.history_: list[dict[str, float]] = list(self.history_)
        else:
            with seeded_torch(seed):
                module = self._build_module(X)
            self.history_ = []
        self.module_ = module.to(self._device)
        self.input_shape_ = module.input_shape
        # On a GPU the rows are copied there when they fit; otherwise (and always on the
        # CPU) they stay where they are and each mini-batch is gathered from them.
        Xt = as_tensor(X, data_device(X.nbytes, self._device))
        with self._training_precision():
            self._fit_module(Xt, rng, warm=warm)
        codes = self._latent(Xt)
        self._fit_head(self._fit_head_space(self._head_sample(codes, rng), rng), rng)
        codes = self._refine(Xt, codes, rng)
        # The training rows are labelled through the same map as new rows, so ``labels_``
        # equals ``predict`` on the training data (also under a manifold step).
        self.labels_ = self._predict_latent(self._head_space(codes))
        self.n_iter_ = len(self.history_)
        check_partition(self.labels_, self.n_clusters, type(self).__name__, self._collapse_hint)

    @contextlib.contextmanager
    def _training_precision(self) -> Iterator[None]:
        """Run the block with ``module_`` in the training precision (float32 after it)."""
        module = self.module_
        if self._precision == "bfloat16":
            module.compute_dtype = torch.bfloat16
            # channels_last lets oneDNN/cuDNN pick their fast bfloat16 convolution kernels.
            module.channels_last = True
            module.to(memory_format=torch.channels_last)
        try:
            yield
        finally:
            # Inference runs in float32, whatever the training precision.
            module.compute_dtype = None
            module.channels_last = False

    def _refine(self, X: torch.Tensor, codes: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        """Train on after the head's first fit and refit it; return the codes (default: no)."""
        return codes

    def _map_batches(
        self, fn: Callable[[torch.Tensor], torch.Tensor], X: np.ndarray | torch.Tensor
    ) -> np.ndarray:
        """Apply ``fn`` to ``X`` in batches on the inference device; gather on the CPU.

        Each batch's result is copied into one float64 array allocated at the first batch.
        A small array kept per batch would pin the heap between the batches' large freed
        activations, so that glibc could not reuse them and peak memory would grow by one
        batch of activations per batch.
        """
        device = inference_device(getattr(self, "_device", None))
        module = self.module_
        module.to(device).eval()
        out = None
        n, bs = X.shape[0], self.inference_batch_size
        # Inference is float32 even mid-fit (the DVAE partitions its pretrained codes).
        compute_dtype, module.compute_dtype = getattr(module, "compute_dtype", None), None
        try:
            with torch.no_grad():
                for start in range(0, n, bs):
                    chunk = X[start : start + bs]
                    if not torch.is_tensor(chunk):
                        chunk = as_tensor(chunk, torch.device("cpu"))
                    xb = rows_as_float(chunk, device)
                    rows = xb.shape[0]
                    if rows < bs:
                        # Every block has exactly ``bs`` rows (the last is padded with
                        # zeros), so the matrix kernels, whose summation order depends on
                        # the batch size, see one shape: a row's output does not depend on
                        # how many other rows came with it (subset and order invariance).
                        pad = xb.new_zeros((bs - rows, *xb.shape[1:]))
                        xb = torch.cat([xb, pad])
                    yb = fn(xb)[:rows].cpu().numpy()
                    if out is None:
                        # float64 for the scikit-learn heads (EM, k-means, PCA accumulate
                        # in double).
                        out = np.empty((n, *yb.shape[1:]), dtype=np.float64)
                    out[start : start + yb.shape[0]] = yb
                    del xb, yb
        finally:
            module.compute_dtype = compute_dtype
        return out

    def _latent(self, X: np.ndarray | torch.Tensor) -> np.ndarray:
        return self._map_batches(self._encode, X)

    def _head_sample(self, Z: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        """``Z``, or a seeded random ``_head_max_samples`` of its rows (in order) above that."""
        if Z.shape[0] <= self._head_max_samples:
            return Z
        return Z[np.sort(rng.choice(Z.shape[0], self._head_max_samples, replace=False))]

    def _by_chunks(self, fn: Callable[[np.ndarray], np.ndarray], Z: np.ndarray) -> np.ndarray:
        """``fn(Z)`` for a row-wise ``fn``, applied to blocks of ``_head_chunk_rows`` rows.

        scikit-learn's mixture and PCA allocate several ``n_samples x n_components``
        float64 temporaries per call; blocks keep those to a few megabytes on large data.
        """
        n, step = Z.shape[0], self._head_chunk_rows
        if n <= step:
            return fn(Z)
        return np.concatenate([fn(Z[i : i + step]) for i in range(0, n, step)])

    def _require_finite(self, values: np.ndarray, X: np.ndarray, what: str) -> np.ndarray:
        """Return ``values`` computed from ``X``; raise a ValueError if any is NaN or infinite.

        ``X`` itself is finite (validation refuses NaN and infinities), so a non-finite
        result means float32 overflowed in the network: the input is far outside the scale
        the model was trained on. Saying so beats returning NaN, or a head's message that
        blames missing values in the user's data.
        """
        finite = np.isfinite(values)
        if not finite.all():
            n_bad = int((~finite.reshape(finite.shape[0], -1).all(axis=1)).sum())
            raise ValueError(
                f"{type(self).__name__}: {what} is NaN or infinite for {n_bad} of the "
                f"{X.shape[0]} rows of X. X ranges over [{X.min():.3g}, {X.max():.3g}]; float32 "
                "arithmetic in the network overflows for inputs this far outside the scale "
                "of the training data. Scale X as the training data were scaled."
            )
        return values

    def _checked_latent(self, X: Any) -> np.ndarray:
        """Validate new data and map it to the head's input space."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        Z = self._require_finite(self._latent(X), X, "the latent codes")
        return self._head_space(Z)

    def predict(self, X: Any) -> np.ndarray:
        """Assign each sample to a cluster.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster index of each sample.
        """
        return self._predict_latent(self._checked_latent(X))

    def transform(self, X: Any) -> np.ndarray:
        """Map ``X`` to the space the clustering head works in.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            Latent representation.
        """
        return self._transform_latent(self._checked_latent(X))

    def _decode_output(self, z: torch.Tensor) -> torch.Tensor:
        """Decoded means of codes: probabilities for the Bernoulli likelihood."""
        out = self.module_.decode(z)
        return torch.sigmoid(out) if self.likelihood_ == "bernoulli" else out

    def reconstruct(self, X: Any) -> np.ndarray:
        """Pass ``X`` through the network: encode to the code, then decode.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode and decode.

        Returns
        -------
        X_rec : ndarray of shape (n_samples, n_features)
            Reconstructions (probabilities in [0, 1] for the Bernoulli likelihood).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._map_batches(lambda xb: self._decode_output(self._encode(xb)), X)

    @property
    def _n_features_out(self) -> int:
        """Width of :meth:`transform`'s output (the code size unless a subclass says otherwise)."""
        return int(self.module_.latent_dim)

    #: Version of the pickled state's layout; bumped when fitted attributes change shape.
    _STATE_FORMAT = 1

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        module = state.get("module_")
        if isinstance(module, torch.nn.Module):
            on_cpu = all(t.device.type == "cpu" for t in module.state_dict().values())
            if not on_cpu:
                state["module_"] = copy.deepcopy(module).to("cpu")
        state["_deepcluster_sk_version"] = __version__
        state["_deepcluster_sk_state_format"] = self._STATE_FORMAT
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled estimator; parameters added since it was pickled get defaults."""
        state = dict(state)
        signature = inspect.signature(type(self).__init__)
        missing = {
            name: p.default
            for name, p in signature.parameters.items()
            if name != "self" and p.kind is not p.VAR_KEYWORD and name not in state
        }
        if missing:
            version = state.get("_deepcluster_sk_version", "an older version")
            warnings.warn(
                f"This {type(self).__name__} was pickled by deepcluster_sk {version}, which "
                f"had no parameter(s) {sorted(missing)}; they take their defaults "
                f"{missing}. Refit to be sure the model matches this version.",
                UserWarning,
                stacklevel=2,
            )
            state.update(missing)
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags


class AutoencoderClusterer(BaseDeepClusterer):
    """Base of "train an autoencoder, then cluster its codes" estimators (AEGMM, ConvAEKMeans).

    The network is built from the shared parameters and trained by :meth:`_pretrain`;
    subclasses only fit and apply their head.
    """

    def _build_module(self, X: np.ndarray) -> torch.nn.Module:
        return build_autoencoder(X, **self._network_params())

    _parameter_constraints: dict = {  # noqa: RUF012
        **BaseDeepClusterer._parameter_constraints,
        "manifold": [StrOptions({"umap"}), None],
    }

    @property
    def _n_features_out(self) -> int:
        """Width of :meth:`transform`'s output: the manifold's dimension, else the codes'."""
        if getattr(self, "manifold_", None) is not None:
            return int(self.manifold_.embedding_.shape[1])
        return super()._n_features_out

    #: UMAP settings of ``manifold="umap"``: N2D's min_dist 0, and 30 neighbours rather than
    #: N2D's 20, with which the embeddings of some seeds' digits codes cluster worse.
    _umap_n_neighbors: int = 30
    _umap_min_dist: float = 0.0
    #: UMAP neighbours on sets of fewer than ``_small_data_rows`` rows (None: as above).
    _umap_n_neighbors_small: int | None = None
    _small_data_rows: int = 4096
    #: Training neighbours that place a new code in the manifold (see NeighbourExtension).
    _extension_n_neighbors: int = 10
    #: Scale the codes to unit length before UMAP and the neighbour map (cosine geometry):
    #: True, False, or "images" when the network views rows as (channels, height, width).
    _manifold_unit_codes: bool | str = False

    #: Self-training (0 epochs: off). After the head's first fit the network trains for
    #: this many more epochs on its reconstruction plus ``_refine_weight`` times a
    #: cross-entropy that asks a cosine classifier on the code (started at the clusters'
    #: mean directions) for the head's label of each row whose 10 nearest codes mostly
    #: (``_refine_agreement``) share it; image rows are moved at random (shifts up to
    #: ``_refine_shift``, rotations up to ``_refine_rotation`` degrees) first. The head is
    #: then refitted on the new codes. The labels come from the head, never from ``y``.
    #: Only images are refined by default: without the random moves the step gains little
    #: on tables, so tabular rows skip it unless ``_refine_tables`` (then without moves).
    _refine_epochs: int = 0
    _refine_weight: float = 0.1
    _refine_agreement: float = 0.9
    _refine_shift: float = 0.1
    _refine_rotation: float = 10.0
    _refine_scale: float = 10.0
    _refine_tables: bool = False

    def _refine(self, X: torch.Tensor, codes: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        n_epochs = int(self._refine_epochs)
        shape = getattr(self.module_, "input_shape", None)
        images = shape is not None and len(shape) == 3
        if n_epochs <= 0 or not (images or self._refine_tables):
            return codes
        labels = self._predict_latent(self._head_space(codes))
        unit = getattr(self.manifold_, "normalize", False) if self.manifold_ else False
        space = unit_rows(codes) if unit else codes
        near = NearestNeighbors(n_neighbors=min(11, len(space))).fit(space)
        index = near.kneighbors(space, return_distance=False)[:, 1:]
        agreement = (labels[index] == labels[:, None]).mean(axis=1)
        keep = agreement >= self._refine_agreement
        directions = np.zeros((self.n_clusters, codes.shape[1]), dtype=np.float32)
        for k in range(self.n_clusters):
            rows = unit_rows(codes[keep & (labels == k)])
            if len(rows):
                directions[k] = rows.mean(axis=0)
        module = self.module_
        classifier = torch.nn.Linear(codes.shape[1], self.n_clusters, bias=False)
        with torch.no_grad():
            classifier.weight.copy_(torch.from_numpy(directions))
        classifier.to(self._device)
        shift, rotation = float(self._refine_shift), float(self._refine_rotation)
        augment = (
            make_generator(draw_seed(rng), self._device)
            if images and (shift > 0 or rotation > 0)
            else None
        )
        targets = torch.as_tensor(labels, dtype=torch.int64, device=X.device)
        weights = torch.as_tensor(keep, dtype=torch.float32, device=X.device)
        weight, scale = float(self._refine_weight), float(self._refine_scale)

        def loss_fn(batch, epoch):
            xb, yb, wb = batch
            if augment is not None:
                xb = random_affine(xb, shape, shift, rotation, augment)
            z = module.encode(xb)
            recon = self._reconstruction_loss(module.decode(z), xb, "mean").mean()
            logits = (
                scale
                * torch.nn.functional.normalize(z)
                @ torch.nn.functional.normalize(classifier.weight).T
            )
            ce = torch.nn.functional.cross_entropy(logits, yb, reduction="none")
            ce = (ce * wb).sum() / wb.sum().clamp_min(1.0)
            return recon + weight * ce, {"ce": ce.detach(), "recon": recon.detach()}

        config = self._fit_config(phase="refine", n_epochs=n_epochs)
        params = [*module.autoencoder_parameters(), *classifier.parameters()]
        with self._training_precision():
            self._train(loss_fn, (X, targets, weights), config, rng, params=params)
        codes = self._latent(X)
        self._fit_head(self._fit_head_space(self._head_sample(codes, rng), rng), rng)
        return codes

    def _umap_neighbours(self, n_samples: int) -> int:
        """UMAP's ``n_neighbors`` for the manifold of ``n_samples`` codes."""
        small = self._umap_n_neighbors_small
        if small is not None and n_samples < self._small_data_rows:
            return int(small)
        return int(self._umap_n_neighbors)

    def _fit_head_space(self, Z: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        """``manifold="umap"``: embed the codes with UMAP in ``n_clusters`` dimensions."""
        if self.manifold is None:
            self.manifold_ = None
            return Z
        unit = self._manifold_unit_codes
        if unit == "images":
            unit = self.input_shape_ is not None and len(self.input_shape_) == 3
        unit = bool(unit)
        embedding = fit_umap_embedding(
            unit_rows(Z) if unit else Z,
            self.n_clusters,
            self._umap_neighbours(Z.shape[0]),
            self._umap_min_dist,
            rng,
            verbose=self.verbose > 1,
        )
        self.manifold_ = NeighbourExtension(self._extension_n_neighbors, normalize=unit)
        self.manifold_.fit(Z, embedding)
        return embedding

    def _head_space(self, Z: np.ndarray) -> np.ndarray:
        if getattr(self, "manifold_", None) is None:
            return Z
        return self.manifold_.transform(Z)
