"""The inductive manifold step between the codes and a clustering head (N2D-style)."""

from __future__ import annotations

import importlib
import os
import warnings
import weakref

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.neighbors import NearestNeighbors

from ._utils import draw_seed, import_optional

__all__ = [
    "NeighbourExtension",
    "cache_umap_kernels",
    "fit_umap_embedding",
    "umap_epochs",
    "umap_neighbours",
    "unit_rows",
]

#: The k-d tree of each fitted :class:`NeighbourExtension`, built at its first ``transform``
#: and kept beside the object, not in its state (two arrays, for the pickle-free format):
#: extension -> (the codes it indexes, its neighbour count, the fitted search).
_SEARCHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

#: UMAP's own threshold: below it, exact nearest neighbours; above, NN-descent.
_UMAP_EXACT_KNN_MAX = 4096
#: UMAP's own layout runs 200 epochs above 10,000 rows. Above that size the epochs fall so
#: that epochs x rows (the layout's work) stays at 200 x 10,000, down to
#: ``_UMAP_MIN_EPOCHS``.
_UMAP_LAYOUT_ROWS, _UMAP_LAYOUT_EPOCHS, _UMAP_MIN_EPOCHS = 10_000, 200, 50

#: UMAP's numba kernels that umap-learn compiles afresh in every process (it does not mark
#: them ``cache=True``): seconds of the first embedding of each process on a small CPU.
_UMAP_KERNELS = (
    ("umap.umap_", "smooth_knn_dist"),
    ("umap.umap_", "compute_membership_strengths"),
    ("umap.layouts", "_nb_optimize_layout_euclidean_single_epoch"),
)
#: The neighbourhood rule of :func:`umap_neighbours`: ``_NEIGHBOURS_PER_ROW * n / k**2``
#: neighbours, at least ``_MIN_NEIGHBOURS``.
_NEIGHBOURS_PER_ROW, _MIN_NEIGHBOURS = 3, 5
#: Set to "0" to leave UMAP's kernels uncached (for example on a read-only file system).
CACHE_ENV = "DEEPCLUSTER_SK_CACHE_UMAP"
_cached_kernels: list[str] | None = None


def cache_umap_kernels() -> list[str]:
    """Let numba keep UMAP's compiled kernels on disk between processes.

    umap-learn compiles the kernels of its graph and layout steps again in every new
    process; numba's own on-disk cache (what ``@njit(cache=True)`` turns on, safe for
    parallel kernels and for several processes at once, and checked against the CPU model)
    lets later processes load them instead. The kernels and their results are unchanged.
    Runs once per process; does nothing when the environment variable
    ``DEEPCLUSTER_SK_CACHE_UMAP`` is ``"0"``, and skips a kernel that this umap-learn or
    numba version does not have or cannot cache.

    Returns
    -------
    list of str
        ``module.name`` of the kernels whose cache is on.
    """
    global _cached_kernels
    if _cached_kernels is not None:
        return _cached_kernels
    enabled: list[str] = []
    if os.environ.get(CACHE_ENV, "1") != "0":
        for module_name, name in _UMAP_KERNELS:
            try:
                kernel = getattr(importlib.import_module(module_name), name)
                kernel.enable_caching()
            except Exception:  # an older umap-learn or numba, or no writable cache location
                continue
            enabled.append(f"{module_name}.{name}")
    _cached_kernels = enabled
    return enabled


def umap_neighbours(n_samples: int, n_clusters: int, upper: int) -> int:
    """UMAP's ``n_neighbors`` for ``n_samples`` codes expected to form ``n_clusters`` clusters.

    ``3 * n_samples / n_clusters**2``, between 5 and ``upper``: the expected cluster size
    (``n / k``) shared among the clusters it may be confused with (``k``). With many small
    clusters (40 faces of 10 photos, 20 objects of 72 poses) a neighbourhood of ``upper``
    rows reaches into other clusters and joins them in the embedding; with a few large
    ones (10 digits of hundreds of images) the rule gives ``upper``.

    Parameters
    ----------
    n_samples : int
        Rows the embedding is fitted on.
    n_clusters : int
        Clusters the head looks for.
    upper : int
        The neighbourhood of large clusters.

    Returns
    -------
    int
    """
    share = _NEIGHBOURS_PER_ROW * n_samples / max(n_clusters, 1) ** 2
    return int(min(upper, max(_MIN_NEIGHBOURS, round(share))))


def unit_rows(Z: np.ndarray) -> np.ndarray:
    """``Z`` with every row scaled to unit Euclidean length (zero rows stay zero), same dtype."""
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    return Z / np.where(norms > 0, norms, 1).astype(Z.dtype)


def umap_epochs(n_samples: int) -> int | None:
    """The epochs of UMAP's layout of ``n_samples`` rows; None for UMAP's own count.

    Up to 10,000 rows UMAP's own (500, and 200 above 10,000); above, ``200 * 10,000 /
    n_samples`` epochs, at least 50, so the layout of 70,000 codes costs a quarter of UMAP's
    own 200 epochs. On the codes of MNIST's 70,000 images the partition of the embedding
    is as accurate after 50 epochs as after 200.

    Parameters
    ----------
    n_samples : int

    Returns
    -------
    int or None
    """
    if n_samples <= _UMAP_LAYOUT_ROWS:
        return None
    epochs = round(_UMAP_LAYOUT_EPOCHS * _UMAP_LAYOUT_ROWS / n_samples)
    return max(_UMAP_MIN_EPOCHS, epochs)


def fit_umap_embedding(
    Z: np.ndarray,
    n_components: int,
    n_neighbors: int,
    min_dist: float,
    rng: np.random.RandomState,
    verbose: bool = False,
) -> np.ndarray:
    """Embed the rows of ``Z`` with UMAP; return the embedding as float64.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
    n_components : int
    n_neighbors : int
        Capped at ``n_samples - 1``.
    min_dist : float
    rng : numpy.random.RandomState
        Draws UMAP's seed (a seed also makes UMAP single-threaded and reproducible).
    verbose : bool

    Returns
    -------
    embedding : ndarray of shape (n_samples, n_components)
    """
    umap = import_optional("umap", extra="umap", feature="manifold='umap'")
    cache_umap_kernels()
    n = Z.shape[0]
    k = max(2, min(n_neighbors, n - 1))
    knn: tuple = (None, None, None)
    if n < _UMAP_EXACT_KNN_MAX:
        # Below this size UMAP computes the exact neighbours itself, with a parallel numba
        # kernel whose compilation costs seconds in every new process, often more than the
        # embedding of a small set. A k-d tree gives the same exact neighbours (each point
        # first).
        dist, idx = NearestNeighbors(n_neighbors=k).fit(Z).kneighbors(Z)
        knn = (idx.astype(np.int32), dist.astype(np.float32), None)
    model = umap.UMAP(
        n_components=n_components,
        n_neighbors=k,
        min_dist=min_dist,
        # The spectral start needs more points than dimensions; tiny sets start at random.
        init="spectral" if n > 2 * (n_components + 1) else "random",
        random_state=draw_seed(rng),
        precomputed_knn=knn,
        n_epochs=umap_epochs(n),
        verbose=verbose,
    )
    with warnings.catch_warnings():
        # Without a search index UMAP's own transform is unavailable; it is never used.
        warnings.filterwarnings("ignore", message="precomputed_knn", category=UserWarning)
        # UMAP notes that a random_state makes it single-threaded: that is the point.
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        # Tiny graphs: UMAP warns that the spectral start failed and falls back to random.
        warnings.filterwarnings("ignore", message=".*[Ss]pectral initiali", category=UserWarning)
        return np.asarray(model.fit_transform(Z), dtype=np.float64)


class NeighbourExtension(BaseEstimator):
    """Extend an embedding of training codes to new codes through their nearest neighbours.

    A new code is placed at the weighted mean of the embeddings of its ``n_neighbors``
    nearest training codes (the start UMAP's own ``transform`` uses), with weights
    ``exp(-(d - d_1) / (d_k - d_1))`` that fall from 1 at the nearest neighbour to ``1/e``
    at the k-th. The map is a fixed function of each row: it uses no randomness, and a
    row's image does not depend on the other rows passed with it. Its state is two arrays
    (the training codes and their embedding), so it saves without pickle.

    Parameters
    ----------
    n_neighbors : int, default=10
        Training neighbours averaged (capped at the number of training codes).
    normalize : bool, default=False
        Scale every code, training and new, to unit Euclidean length before the neighbour
        search (the cosine geometry of the codes; a zero code stays zero). Use it when the
        embedding was fitted on the scaled codes.

    Attributes
    ----------
    codes_ : ndarray of shape (n_train, n_features), float32
        The training codes (scaled to unit length when ``normalize``).
    embedding_ : ndarray of shape (n_train, n_components), float32
        Their embedding.
    """

    def __init__(self, n_neighbors: int = 10, normalize: bool = False):
        self.n_neighbors = n_neighbors
        self.normalize = normalize

    def _prepare(self, Z: np.ndarray) -> np.ndarray:
        Z = np.asarray(Z, dtype=np.float32)
        return unit_rows(Z) if self.normalize else Z

    def fit(self, Z: np.ndarray, embedding: np.ndarray) -> NeighbourExtension:
        """Store the training codes ``Z`` and their ``embedding``."""
        self.codes_ = np.ascontiguousarray(self._prepare(Z))
        self.embedding_ = np.ascontiguousarray(embedding, dtype=np.float32)
        return self

    def _search(self) -> NearestNeighbors:
        """The k-d tree of the training codes: built once per fit, kept outside the state.

        A k-d tree measures each query row on its own, so a row's distances, unlike those
        of a batched matrix product, do not depend on the rows that come with it. Building
        it takes a tenth of a second for 100,000 codes, so it is kept for the next call (the
        inference methods call this block by block) while ``codes_`` is the same array.
        """
        k = min(int(self.n_neighbors), self.codes_.shape[0])
        cached = _SEARCHES.get(self)
        if cached is None or cached[0] is not self.codes_ or cached[1] != k:
            search = NearestNeighbors(n_neighbors=k, algorithm="kd_tree").fit(self.codes_)
            cached = _SEARCHES[self] = (self.codes_, k, search)
        return cached[2]

    def transform(self, Z: np.ndarray) -> np.ndarray:
        """Embed new codes ``Z`` (float64, shape ``(n, n_components)``)."""
        dist, idx = self._search().kneighbors(self._prepare(Z))
        dist = dist.astype(np.float64)
        spread = np.maximum(dist[:, -1:] - dist[:, :1], 1e-12)
        weights = np.exp(-(dist - dist[:, :1]) / spread)
        weights /= weights.sum(axis=1, keepdims=True)
        neighbours = self.embedding_[idx].astype(np.float64)
        return np.einsum("nk,nkm->nm", weights, neighbours)
