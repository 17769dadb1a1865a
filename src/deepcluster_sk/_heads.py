"""Clustering heads: the models that partition an estimator's latent codes.

A head is a small scikit-learn-style estimator over codes ``Z``: ``fit(Z, random_state)``
sets ``labels_`` (the partition of the rows it was fitted on) and ``n_features_out_``;
``predict`` labels new codes and ``transform`` maps them to the head's space. Heads with a
likelihood also have ``predict_proba``, ``score_samples``, ``bic`` and ``aic``.

- :class:`GaussianMixtureHead`: EM restarts, the most likely kept;
- :class:`KMeansHead`: optional PCA, then k-means;
- :class:`SpectralHead`: spectral clustering of the codes' nearest-neighbour graph;
- :class:`ManifoldHead`: UMAP embedding of the codes (N2D-style), any head fitted on it,
  new codes placed in the embedding through their nearest training codes.

Every head fits on at most ``max_samples`` rows (a seeded random subset above that) and
labels or scores codes in blocks of ``_CHUNK_ROWS`` rows: EM with restarts on a million
codes would take many times longer and large temporaries, for a partition that 100,000
rows already determine. Restarts are chosen by an unsupervised criterion, never by labels.

Over 400 lines because each head is a small estimator with numpydoc docstrings; they share
the base class and the collapse check, so one module keeps them side by side.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, clone
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_random_state
from sklearn.utils._available_if import available_if
from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

from ._manifold import NeighbourExtension, fit_umap_embedding, unit_rows
from ._partitions import spectral_labels
from ._utils import draw_seed

__all__ = [
    "ClusterCollapseWarning",
    "ClusterHead",
    "GaussianMixtureHead",
    "KMeansHead",
    "ManifoldHead",
    "SmallDataWarning",
    "SpectralHead",
    "best_of_restarts",
    "check_partition",
]

#: A partition whose largest cluster holds more than this share of the samples is "collapsed".
_COLLAPSE_SHARE = 0.9


class ClusterCollapseWarning(ConvergenceWarning):
    """Warned when a fitted partition leaves clusters empty or puts nearly all samples in one."""


class SmallDataWarning(UserWarning):
    """Warned when a table is too small for the network to learn more than the raw columns.

    Below about 100 rows per cluster on a table (rows that are not images), the defaults
    are measured under :class:`~sklearn.cluster.KMeans` on the standardised columns
    (scikit-learn's wine data, 59 rows per cluster: every estimator 1.5-4 ACC points
    under it), while on 285 rows per cluster (breast cancer) three of the four estimators
    are 3 points above it. Compare with k-means or a Gaussian mixture on ``X``.
    """


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


#: Rows per call when a fitted head labels or scores codes (bounds its temporaries).
_CHUNK_ROWS = 65_536


def best_of_restarts(
    fit_one: Callable[[int], Any],
    criterion: Callable[[Any], float],
    n_init: int,
    rng: np.random.RandomState,
    n_jobs: int | None = -1,
) -> tuple[Any, np.ndarray]:
    """Fit ``n_init`` restarts and keep the one with the highest ``criterion``.

    The restarts' seeds are drawn first, in order; the restarts then run side by side in
    ``n_jobs`` threads, each with one BLAS and OpenMP thread, so the models, their scores
    and the choice do not depend on ``n_jobs``.

    Parameters
    ----------
    fit_one : callable
        ``fit_one(seed)`` returns one fitted model; it must not depend on the order of
        the calls.
    criterion : callable
        ``criterion(model)``, higher is better (a likelihood, minus an inertia).
    n_init : int
        Number of restarts (at least 1).
    rng : numpy.random.RandomState
        Draws the restarts' seeds.
    n_jobs : int or None, default=-1
        Threads (joblib's convention: -1 is one per CPU core, None or 1 is one).

    Returns
    -------
    best : object
        The model with the highest criterion (the first one on ties).
    scores : ndarray of shape (n_init,)
        The criterion of every restart, in order.
    """
    seeds = [draw_seed(rng) for _ in range(max(1, int(n_init)))]

    def one(seed: int) -> tuple[Any, float]:
        model = fit_one(seed)
        score = float(criterion(model))
        return model, score if np.isfinite(score) else -np.inf

    n_jobs = min(effective_n_jobs(n_jobs), len(seeds))
    # One BLAS/OpenMP thread per restart, whatever n_jobs: a restart's last EM iterations
    # can depend on the BLAS threads' summation order, and its result then on n_jobs.
    with threadpool_limits(limits=1):
        if n_jobs == 1:
            fitted = [one(seed) for seed in seeds]
        else:
            # Numpy and scikit-learn's compiled parts release the GIL: restarts in threads
            # fill the cores that one small EM leaves idle, without copying the data.
            fitted = Parallel(n_jobs=n_jobs, prefer="threads")(delayed(one)(s) for s in seeds)
    scores = np.asarray([score for _, score in fitted])
    return fitted[int(np.argmax(scores))][0], scores


def by_chunks(fn: Callable[[np.ndarray], np.ndarray], Z: np.ndarray) -> np.ndarray:
    """``fn(Z)`` for a row-wise ``fn``, applied to blocks of ``_CHUNK_ROWS`` rows."""
    n = Z.shape[0]
    if n <= _CHUNK_ROWS:
        return fn(Z)
    return np.concatenate([fn(Z[i : i + _CHUNK_ROWS]) for i in range(0, n, _CHUNK_ROWS)])


class ClusterHead(BaseEstimator):
    """Base of the heads: subsampling, chunked labelling, the identity ``transform``.

    Subclasses implement ``_fit(Z, rng)`` and ``_predict(Z)`` (row-wise), and set
    ``n_features_out_``.
    """

    def fit(self, Z: np.ndarray, random_state: Any = None) -> ClusterHead:
        """Fit the head on codes ``Z`` (a random ``max_samples`` of them above that size).

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_features)
            Codes.
        random_state : int, RandomState instance or None, default=None
            Seeds the subset and the head's own randomness.

        Returns
        -------
        self : object
            The fitted head; ``labels_`` holds the label of every row of ``Z``.
        """
        rng = check_random_state(random_state)
        sample = Z
        if Z.shape[0] > self.max_samples:
            rows = np.sort(rng.choice(Z.shape[0], self.max_samples, replace=False))
            sample = Z[rows]
        fitted_labels = self._fit(sample, rng)
        self.labels_ = np.asarray(
            fitted_labels if sample is Z and fitted_labels is not None else self.predict(Z),
            dtype=np.int64,
        )
        return self

    def predict(self, Z: np.ndarray) -> np.ndarray:
        """Label codes (int64)."""
        return by_chunks(self._predict, Z).astype(np.int64)

    def transform(self, Z: np.ndarray) -> np.ndarray:
        """The head's input space: the codes themselves."""
        return Z


class GaussianMixtureHead(ClusterHead):
    """A Gaussian mixture fitted by EM from ``n_init`` k-means starts, the most likely kept.

    Parameters
    ----------
    n_clusters : int, default=10
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
    n_init : int, default=1
        EM restarts; the one with the highest mean log-likelihood of the fitted codes wins.
    max_iter : int, default=100
        EM iterations of each restart.
    max_samples : int, default=100_000

    Attributes
    ----------
    mixture_ : sklearn.mixture.GaussianMixture
    restart_scores_ : ndarray of shape (n_init,)
        Mean log-likelihood of each restart.
    """

    def __init__(
        self,
        n_clusters: int = 10,
        covariance_type: str = "full",
        n_init: int = 1,
        max_iter: int = 100,
        max_samples: int = 100_000,
    ):
        self.n_clusters = n_clusters
        self.covariance_type = covariance_type
        self.n_init = n_init
        self.max_iter = max_iter
        self.max_samples = max_samples

    def _fit(self, Z: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        def fit_one(seed: int) -> GaussianMixture:
            return GaussianMixture(
                self.n_clusters,
                covariance_type=self.covariance_type,
                max_iter=self.max_iter,
                random_state=seed,
            ).fit(Z)

        self.mixture_, self.restart_scores_ = best_of_restarts(
            fit_one, lambda gmm: gmm.score(Z), self.n_init, rng
        )
        self.n_features_out_ = Z.shape[1]
        return self.mixture_.predict(Z)

    def _predict(self, Z: np.ndarray) -> np.ndarray:
        return self.mixture_.predict(Z)

    def predict_proba(self, Z: np.ndarray) -> np.ndarray:
        """Responsibilities of the components."""
        return by_chunks(self.mixture_.predict_proba, Z)

    def score_samples(self, Z: np.ndarray) -> np.ndarray:
        """Log-likelihood of each code."""
        return by_chunks(self.mixture_.score_samples, Z)

    def score(self, Z: np.ndarray) -> float:
        """Mean log-likelihood of the codes."""
        return float(self.score_samples(Z).mean())

    def bic(self, Z: np.ndarray) -> float:
        """Bayesian information criterion of the mixture on ``Z``."""
        return float(self.mixture_.bic(Z))

    def aic(self, Z: np.ndarray) -> float:
        """Akaike information criterion of the mixture on ``Z``."""
        return float(self.mixture_.aic(Z))


class KMeansHead(ClusterHead):
    """k-means (``n_init`` restarts, lowest inertia), optionally on principal components.

    Parameters
    ----------
    n_clusters : int, default=10
    n_components : int or None, default=None
        PCA components fitted first (capped by the rows and the code size); None: no PCA.
    n_init : int, default=10
    max_samples : int, default=100_000

    Attributes
    ----------
    pca_ : sklearn.decomposition.PCA or None
    kmeans_ : sklearn.cluster.KMeans
    """

    def __init__(
        self,
        n_clusters: int = 10,
        n_components: int | None = None,
        n_init: int = 10,
        max_samples: int = 100_000,
    ):
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.n_init = n_init
        self.max_samples = max_samples

    def _fit(self, Z: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        self.pca_ = None
        if self.n_components is not None:
            n_components = min(self.n_components, Z.shape[0], Z.shape[1])
            self.pca_ = PCA(n_components=n_components, random_state=draw_seed(rng)).fit(Z)
        P = self.transform(Z)
        self.kmeans_ = KMeans(self.n_clusters, n_init=self.n_init, random_state=draw_seed(rng)).fit(
            P
        )
        self.n_features_out_ = P.shape[1]
        return self.kmeans_.labels_

    def transform(self, Z: np.ndarray) -> np.ndarray:
        """The principal components of ``Z`` (``Z`` itself without PCA)."""
        return Z if self.pca_ is None else by_chunks(self.pca_.transform, Z)

    def _predict(self, Z: np.ndarray) -> np.ndarray:
        return self.kmeans_.predict(Z if self.pca_ is None else self.pca_.transform(Z))

    def score(self, Z: np.ndarray) -> float:
        """Opposite of the k-means inertia of ``Z`` in the head's space."""
        return float(self.kmeans_.score(self.transform(Z)))


class SpectralHead(ClusterHead):
    """Spectral clustering of the codes' symmetric ``n_neighbors``-nearest-neighbour graph.

    Follows curved clusters that k-means and a Gaussian mixture cut. Transductive: a new
    code gets the label of its nearest training code.

    Parameters
    ----------
    n_clusters : int, default=10
    n_neighbors : int, default=10
    max_samples : int, default=100_000
    """

    def __init__(self, n_clusters: int = 10, n_neighbors: int = 10, max_samples: int = 100_000):
        self.n_clusters = n_clusters
        self.n_neighbors = n_neighbors
        self.max_samples = max_samples

    def _fit(self, Z: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        labels = spectral_labels(Z, self.n_clusters, self.n_neighbors, draw_seed(rng))
        # One-hot labels as a 1-nearest-neighbour "embedding": the map stores two arrays.
        self.nearest_ = NeighbourExtension(1).fit(Z, np.eye(self.n_clusters)[labels])
        self.n_features_out_ = Z.shape[1]
        return labels

    def _predict(self, Z: np.ndarray) -> np.ndarray:
        return self.nearest_.transform(Z).argmax(axis=1)


def _inner_has(name: str) -> Callable[[Any], bool]:
    """Whether a manifold head's inner head has the method ``name``."""
    return lambda self: hasattr(self.head, name)


class ManifoldHead(ClusterHead):
    """UMAP embedding of the codes in ``head.n_clusters`` dimensions, ``head`` fitted on it.

    A new code is placed in the embedding through its ``extension_neighbors`` nearest
    training codes (:class:`~deepcluster_sk._manifold.NeighbourExtension`): with one, at
    the embedding of its nearest training code, so a training row lands at its own and
    ``predict`` on the training codes gives ``head``'s partition of the embedding.

    Parameters
    ----------
    head : ClusterHead
        The head fitted on the embedding (a clone is fitted, as ``head_``).
    n_neighbors : int, default=30
        UMAP's neighbours.
    min_dist : float, default=0.0
        UMAP's ``min_dist`` (N2D's 0: tight clusters).
    extension_neighbors : int, default=1
    unit_codes : bool, default=False
        Scale codes to unit length before UMAP and the neighbour search (their direction).
    max_samples : int, default=100_000
    verbose : bool, default=False
        UMAP's own progress messages.

    Attributes
    ----------
    head_ : ClusterHead
        ``head`` fitted on the embedding.
    extension_ : NeighbourExtension
        The training codes and their embedding.
    """

    def __init__(
        self,
        head: ClusterHead,
        n_neighbors: int = 30,
        min_dist: float = 0.0,
        extension_neighbors: int = 1,
        unit_codes: bool = False,
        max_samples: int = 100_000,
        verbose: bool = False,
    ):
        self.head = head
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.extension_neighbors = extension_neighbors
        self.unit_codes = unit_codes
        self.max_samples = max_samples
        self.verbose = verbose

    def _fit(self, Z: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        embedding = fit_umap_embedding(
            unit_rows(Z) if self.unit_codes else Z,
            self.head.n_clusters,
            self.n_neighbors,
            self.min_dist,
            rng,
            verbose=self.verbose,
        )
        self.extension_ = NeighbourExtension(self.extension_neighbors, normalize=self.unit_codes)
        self.extension_.fit(Z, embedding)
        self.head_ = clone(self.head).fit(embedding, rng)
        self.n_features_out_ = self.head_.n_features_out_
        return self.head_.labels_

    def place(self, Z: np.ndarray) -> np.ndarray:
        """Codes placed in the embedding."""
        return by_chunks(self.extension_.transform, Z)

    def _predict(self, Z: np.ndarray) -> np.ndarray:
        return self.head_.predict(self.extension_.transform(Z))

    def transform(self, Z: np.ndarray) -> np.ndarray:
        """The inner head's space of the placed codes."""
        return self.head_.transform(self.place(Z))

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, Z: np.ndarray) -> np.ndarray:
        """The inner head's probabilities of the placed codes."""
        return self.head_.predict_proba(self.place(Z))

    @available_if(_inner_has("score_samples"))
    def score_samples(self, Z: np.ndarray) -> np.ndarray:
        """The inner head's log-likelihood of the placed codes."""
        return self.head_.score_samples(self.place(Z))

    @available_if(_inner_has("score"))
    def score(self, Z: np.ndarray) -> float:
        """The inner head's score of the placed codes."""
        return self.head_.score(self.place(Z))

    @available_if(_inner_has("bic"))
    def bic(self, Z: np.ndarray) -> float:
        """The inner head's BIC on the placed codes."""
        return self.head_.bic(self.place(Z))

    @available_if(_inner_has("aic"))
    def aic(self, Z: np.ndarray) -> float:
        """The inner head's AIC on the placed codes."""
        return self.head_.aic(self.place(Z))
