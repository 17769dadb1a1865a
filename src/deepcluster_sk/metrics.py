"""Clustering metrics and scorers; the diagonal-Gaussian W2 distance and the DVAE similarity loss.

Everything here is a pure function (or a stateless callable), so it can be tested on its own,
without training a model.

- :func:`cluster_accuracy` and :data:`cluster_accuracy_scorer`: unsupervised clustering accuracy
  (best one-to-one matching of clusters to classes by the Hungarian algorithm).
- :func:`make_silhouette_scorer` and :data:`silhouette_scorer`: a label-free scorer for model
  selection.
- :func:`wasserstein_distance_diag`: squared 2-Wasserstein distance between diagonal Gaussians.
- :func:`transition_weights` and :func:`wasserstein_similarity_loss`: the similarity loss of DVAE
  (He Ma, 2022, eqs. 3.8-3.13).

The last three (and :func:`similarity_bandwidth`) are defined in
:mod:`deepcluster_sk.nn.similarity`, next to the networks whose training uses them, and
re-exported here.

NMI and ARI scorers are not duplicated here: use scikit-learn's ``"normalized_mutual_info_score"``
and ``"adjusted_rand_score"`` scoring strings.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import make_scorer, silhouette_score
from sklearn.metrics.cluster import contingency_matrix
from sklearn.utils import check_random_state

from .nn.similarity import (
    similarity_bandwidth,
    transition_weights,
    wasserstein_distance_diag,
    wasserstein_similarity_loss,
)

__all__ = [
    "cluster_accuracy",
    "cluster_accuracy_scorer",
    "make_silhouette_scorer",
    "silhouette_scorer",
    "similarity_bandwidth",
    "transition_weights",
    "wasserstein_distance_diag",
    "wasserstein_similarity_loss",
]


# --------------------------------------------------------------------------------------------------
# Cluster accuracy
# --------------------------------------------------------------------------------------------------
def cluster_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Unsupervised clustering accuracy under the best one-to-one cluster-to-class mapping.

    The predicted cluster ids are matched to the true classes by the Hungarian algorithm on the
    contingency matrix (maximising the number of matched samples). The number of clusters may
    differ from the number of classes: a cluster left without a class (or a class left without a
    cluster) counts all its samples as wrong. Labels may be any sortable values (negative integers,
    strings, ...); only the partition they define matters.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth class labels.
    y_pred : array-like of shape (n_samples,)
        Predicted cluster labels.

    Returns
    -------
    accuracy : float
        Fraction of samples whose cluster is mapped to their class, in [0, 1].

    Raises
    ------
    ValueError
        If the inputs are not 1-D, have different lengths, or are empty.

    References
    ----------
    .. [1] H. W. Kuhn, "The Hungarian method for the assignment problem", Naval Research
       Logistics Quarterly 2(1-2):83-97, 1955.
    .. [2] J. Xie, R. Girshick and A. Farhadi, "Unsupervised deep embedding for clustering
       analysis", ICML 2016 (the ACC metric used in deep clustering papers).

    Examples
    --------
    >>> from deepcluster_sk.metrics import cluster_accuracy
    >>> cluster_accuracy([0, 0, 1, 1, 2, 2], [1, 1, 0, 0, 0, 2])
    0.8333333333333334
    >>> cluster_accuracy(["a", "a", "b"], [7, 7, -1])
    1.0
    """
    return _match_clusters(y_true, y_pred).accuracy


class _Matching(NamedTuple):
    """A contingency table and its Hungarian matching of clusters to classes."""

    table: np.ndarray  # (n_classes, n_clusters): samples of class classes[i] in cluster clusters[j]
    classes: np.ndarray  # sorted class labels, one per row
    clusters: np.ndarray  # sorted cluster labels, one per column
    rows: np.ndarray  # matched rows, ascending
    cols: np.ndarray  # the column matched to each of ``rows``

    @property
    def accuracy(self) -> float:
        """Fraction of the samples in matched (class, cluster) pairs."""
        return float(self.table[self.rows, self.cols].sum() / self.table.sum())


def _match_clusters(y_true: ArrayLike, y_pred: ArrayLike) -> _Matching:
    """Check two label vectors, build their contingency table and match clusters to classes.

    The one-to-one matching maximises the number of matched samples (Hungarian algorithm);
    with unequal counts, ``min(n_classes, n_clusters)`` pairs are matched. Used by
    :func:`cluster_accuracy` and :func:`deepcluster_sk.plotting.plot_confusion`.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D arrays, got shapes {y_true.shape} and {y_pred.shape}."
        )
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            "y_true and y_pred must have the same length, got "
            f"{y_true.shape[0]} and {y_pred.shape[0]}."
        )
    if y_true.shape[0] == 0:
        raise ValueError("y_true and y_pred must not be empty.")
    # rows and columns in np.unique order, as sklearn builds them
    table = contingency_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return _Matching(table, np.unique(y_true), np.unique(y_pred), rows, cols)


cluster_accuracy_scorer = make_scorer(cluster_accuracy)
"""Scorer for ``GridSearchCV(scoring=...)``: ``cluster_accuracy(y, estimator.predict(X))``."""


# --------------------------------------------------------------------------------------------------
# Silhouette scorer
# --------------------------------------------------------------------------------------------------
class _SilhouetteScorer:
    """Silhouette of ``estimator.transform(X)`` under the labels ``estimator.predict(X)``.

    Call as ``scorer(estimator, X, y=None)``; ``y`` is ignored. Returns -1.0 (the worst value)
    when the labels are degenerate (fewer than 2 distinct labels, or one label per sample), where
    :func:`sklearn.metrics.silhouette_score` would raise. Estimators without ``transform`` are
    scored in the input space ``X``. Build instances with :func:`make_silhouette_scorer`.
    """

    def __init__(self, sample_size: int | None, random_state: Any) -> None:
        self.sample_size = sample_size
        self.random_state = random_state

    def __repr__(self) -> str:
        return (
            f"make_silhouette_scorer(sample_size={self.sample_size!r}, "
            f"random_state={self.random_state!r})"
        )

    def __call__(self, estimator: Any, X: ArrayLike, y: ArrayLike | None = None) -> float:
        labels = np.asarray(estimator.predict(X))
        transform = getattr(estimator, "transform", None)
        embedding = np.asarray(transform(X) if transform is not None else X)
        embedding = embedding.reshape(embedding.shape[0], -1)
        n_samples = embedding.shape[0]
        if self.sample_size is not None and self.sample_size < n_samples:
            # same subsampling as sklearn.metrics.silhouette_score, done here so that a
            # degenerate subsample scores -1.0 instead of raising
            rng = check_random_state(self.random_state)
            indices = rng.permutation(n_samples)[: self.sample_size]
            embedding, labels = embedding[indices], labels[indices]
            n_samples = embedding.shape[0]
        n_labels = np.unique(labels).shape[0]
        if n_labels < 2 or n_labels >= n_samples:
            return -1.0
        return float(silhouette_score(embedding, labels))


def make_silhouette_scorer(
    sample_size: int | None = None, random_state: int | np.random.RandomState | None = None
) -> _SilhouetteScorer:
    """Make an unsupervised scorer: the silhouette of the embedding under the predicted labels.

    The scorer has the signature ``scorer(estimator, X, y=None) -> float`` expected by
    ``GridSearchCV(scoring=...)``. It computes :func:`sklearn.metrics.silhouette_score` of
    ``estimator.transform(X)`` (of ``X`` itself when the estimator has no ``transform``) with the
    labels ``estimator.predict(X)``. ``y`` is ignored. With fewer than 2 distinct labels, or as
    many labels as samples, the silhouette is undefined and the scorer returns -1.0, the worst
    possible value, instead of raising, so that a degenerate candidate simply loses the search.

    Parameters
    ----------
    sample_size : int or None, default=None
        Score a random subset of this many samples (silhouette costs O(n²) memory and time).
        ``None`` uses all samples.
    random_state : int, RandomState instance or None, default=None
        Controls the subset drawn when ``sample_size`` is not None. An int gives the same subset
        on every call with the same number of samples.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float`` in [-1, 1], greater is better.

    Raises
    ------
    ValueError
        If ``sample_size`` is not None and not an integer >= 2.

    References
    ----------
    .. [1] P. J. Rousseeuw, "Silhouettes: a graphical aid to the interpretation and validation of
       cluster analysis", Journal of Computational and Applied Mathematics 20:53-65, 1987.

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> from sklearn.datasets import make_blobs
    >>> from deepcluster_sk.metrics import make_silhouette_scorer
    >>> X, _ = make_blobs(n_samples=60, centers=3, random_state=0)
    >>> scorer = make_silhouette_scorer(sample_size=40, random_state=0)
    >>> km = KMeans(n_clusters=3, n_init=3, random_state=0).fit(X)
    >>> bool(-1.0 <= scorer(km, X) <= 1.0)
    True
    >>> scorer(KMeans(n_clusters=1, n_init=1).fit(X), X)  # one cluster: worst score
    -1.0
    """
    if sample_size is not None and (
        isinstance(sample_size, bool)
        or not isinstance(sample_size, numbers.Integral)
        or sample_size < 2
    ):
        raise ValueError(f"sample_size must be None or an integer >= 2, got {sample_size!r}.")
    return _SilhouetteScorer(sample_size=sample_size, random_state=random_state)


silhouette_scorer = make_silhouette_scorer()
"""Silhouette scorer on all samples: ``make_silhouette_scorer()``."""
