"""Partitions of latent codes that initialise a clustering head (pure functions)."""

from __future__ import annotations

import numpy as np
import scipy.sparse
from scipy.sparse.linalg import eigsh
from sklearn.cluster import KMeans
from sklearn.neighbors import kneighbors_graph

__all__ = ["spectral_labels"]

#: Graphs up to this many nodes use a dense eigensolver in :func:`spectral_labels`.
_DENSE_EIGEN_MAX = 2000


def spectral_labels(Z: np.ndarray, n_clusters: int, n_neighbors: int, seed: int) -> np.ndarray:
    """Spectral clustering of the rows of ``Z`` on their symmetric k-nearest-neighbour graph.

    The normalised affinity ``D^-1/2 A D^-1/2`` of the connectivity graph gives its top
    ``n_clusters`` eigenvectors (Lanczos, ``scipy.sparse.linalg.eigsh``); their rows,
    scaled to unit length, are clustered by k-means (Ng, Jordan and Weiss, 2001). The graph
    has ``n_neighbors`` edges a row, so time and memory grow linearly with ``len(Z)``.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
    n_clusters : int
    n_neighbors : int
    seed : int
        Seeds the Lanczos start vector and the k-means.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
    """
    n = Z.shape[0]
    k = min(int(n_neighbors), n - 1)
    graph = kneighbors_graph(Z, k, mode="connectivity", include_self=False)
    graph = graph.maximum(graph.T).tocsr()
    inv_sqrt = 1.0 / np.sqrt(np.asarray(graph.sum(axis=1)).ravel())
    affinity = scipy.sparse.diags(inv_sqrt) @ graph @ scipy.sparse.diags(inv_sqrt)
    n_vec = min(n_clusters, n)
    if n <= _DENSE_EIGEN_MAX:
        # Small graphs: a dense symmetric eigensolver is exact and has no k < n restriction.
        vectors = np.linalg.eigh(affinity.toarray())[1][:, n - n_vec :]
    else:
        v0 = np.random.RandomState(seed).uniform(-1.0, 1.0, n)
        vectors = eigsh(affinity, k=n_vec, which="LA", v0=v0, tol=1e-6)[1]
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return KMeans(n_clusters, n_init=10, random_state=seed).fit_predict(vectors)
