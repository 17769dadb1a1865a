"""Partitions of latent codes that initialise a clustering head (pure functions)."""

from __future__ import annotations

import numpy as np
import scipy.sparse
from scipy.sparse.linalg import eigsh
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors, kneighbors_graph

__all__ = ["agreeing_rows", "spectral_labels"]

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


def agreeing_rows(Z: np.ndarray, labels: np.ndarray, n_neighbors: int, share: float) -> np.ndarray:
    """Rows whose nearest neighbours mostly share their label: the confident part of a partition.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
        The space the neighbours are found in.
    labels : ndarray of shape (n_samples,)
    n_neighbors : int
        Neighbours of each row (itself excluded).
    share : float
        A row agrees when at least this share of its neighbours has its label.

    Returns
    -------
    keep : ndarray of bool, shape (n_samples,)
    """
    near = NearestNeighbors(n_neighbors=min(n_neighbors + 1, len(Z))).fit(Z)
    index = near.kneighbors(Z, return_distance=False)[:, 1:]
    return (labels[index] == labels[:, None]).mean(axis=1) >= share
