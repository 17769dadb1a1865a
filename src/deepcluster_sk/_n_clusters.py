"""``n_clusters="auto"``: the number of clusters chosen from the data, before training.

The criterion is the silhouette of k-means partitions of a fine-grained UMAP embedding of
the input, over a range of candidate counts; the count with the highest silhouette wins.

- **What is embedded**: the training rows themselves (at most ``_MAX_SAMPLES`` of them, a
  seeded random subset above that), projected on their first ``_PCA_COMPONENTS`` principal
  components when they have more columns, and scaled to unit length when they are images.
  The choice is made before the network is built, because the network's size depends on
  the count (``latent_dim="auto"``, the DVAE's mixture prior and classifier) and so do the
  head's settings; the fit that follows is the fit with that count given.
- **The embedding**: UMAP with ``_NEIGHBOURS`` neighbours in ``_COMPONENTS`` dimensions
  and ``min_dist=0``. Both sizes are fixed, so the embedding does not depend on the count
  it is used to choose. The small neighbourhood keeps clusters of a few dozen rows (20
  objects of 72 views, 40 faces of 10 photos) apart; larger ones join them.
- **The scores**: each candidate's silhouette is computed on a sample of
  ``_SILHOUETTE_SAMPLES`` rows; where the embedding holds more, the curve's leader is
  scored again on all of them (:func:`rescore_the_lead`).
- **Small sets**: the silhouette curve of one embedding of a few hundred rows is noisy
  (ORL's 400 faces: its maximum moves by ten counts between seeds). The rows are
  embedded ``_AVERAGED_ROWS // n_samples`` times (at most ``_MAX_EMBEDDINGS``) and the
  curves averaged: several times up to 600 rows, together at most ``_AVERAGED_ROWS`` rows,
  so this costs a second or two where it happens.
- **The candidates**: 2 up to one cluster per ``_MIN_ROWS_PER_CLUSTER`` rows, at most
  ``_MAX_CANDIDATE``.

Pure functions; the estimators call :func:`choose_n_clusters` from ``fit``.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

from ._manifold import fit_umap_embedding, unit_rows
from ._utils import draw_seed

__all__ = ["candidate_counts", "choose_n_clusters", "rescore_the_lead", "silhouette_curve"]

#: Rows the choice is made on (a seeded random subset of larger inputs).
_MAX_SAMPLES = 10_000
#: Inputs with more columns are projected on this many principal components first.
_PCA_COMPONENTS = 50
#: UMAP neighbours and dimensions of the embedding the counts are compared on.
_NEIGHBOURS = 4
_COMPONENTS = 5
#: Sets of fewer rows are embedded ``_AVERAGED_ROWS // n_samples`` times (at most
#: ``_MAX_EMBEDDINGS``) and the silhouette curves of the embeddings averaged.
_AVERAGED_ROWS = 1_200
_MAX_EMBEDDINGS = 3
#: The largest candidate count keeps at least this many rows a cluster, and is at most
#: ``_MAX_CANDIDATE``.
_MIN_ROWS_PER_CLUSTER = 10
_MAX_CANDIDATE = 60
#: k-means restarts per candidate and the silhouette's sample size.
_KMEANS_N_INIT = 3
_SILHOUETTE_SAMPLES = 4_000


def candidate_counts(n_samples: int) -> np.ndarray:
    """The cluster counts ``n_clusters="auto"`` compares for ``n_samples`` rows.

    From 2 to ``n_samples // 10`` (a cluster of at least 10 rows), at most 60.

    Parameters
    ----------
    n_samples : int

    Returns
    -------
    counts : ndarray of int
        ``[2]`` alone below 30 rows.

    Raises
    ------
    ValueError
        Fewer than 4 rows (2 a cluster for 2 clusters).
    """
    if n_samples < 4:
        raise ValueError(
            f'n_clusters="auto" needs at least 4 samples (2 for each of 2 clusters); '
            f"got n_samples={n_samples}."
        )
    top = max(2, min(n_samples // _MIN_ROWS_PER_CLUSTER, _MAX_CANDIDATE))
    return np.arange(2, top + 1)


def silhouette_curve(E: np.ndarray, counts: np.ndarray, seed: int) -> np.ndarray:
    """The silhouette of the k-means partition of ``E`` into each of ``counts`` clusters.

    Parameters
    ----------
    E : ndarray of shape (n_samples, n_features)
        The points (an embedding).
    counts : array-like of int
        Candidate cluster counts, each at least 2.
    seed : int
        Seeds the k-means restarts and the silhouette's sample.

    Returns
    -------
    scores : ndarray of shape (len(counts),)
        Mean silhouette coefficient per count, in [-1, 1]; -1 where k-means found fewer
        distinct clusters than asked (duplicate points).

    Raises
    ------
    ValueError
        A count below 2, or fewer than 2 points per cluster for the largest count.
    """
    counts = np.asarray(counts, dtype=int)
    n = E.shape[0]
    if counts.size == 0 or counts.min() < 2:
        raise ValueError(f"Every candidate count must be at least 2; got {counts.tolist()}.")
    if n < 2 * counts.max():
        raise ValueError(
            f"{n} samples are fewer than 2 per cluster for {int(counts.max())} clusters: "
            "lower the largest candidate count or give more samples."
        )
    sample = min(n, _SILHOUETTE_SAMPLES)
    # One thread: k-means on a few thousand low-dimensional points spends more on waking
    # OpenMP's threads at every iteration than they save (breast cancer's sweep: 2.0 s on
    # two threads, 1.0 s on one), and the partitions and scores came out identical.
    with threadpool_limits(limits=1):
        return np.array([_partition_score(E, int(k), seed, sample) for k in counts])


def _partition_score(E: np.ndarray, k: int, seed: int, sample: int | None) -> float:
    """The silhouette (on ``sample`` rows, None: all) of the k-means partition of ``E``."""
    labels = KMeans(k, n_init=_KMEANS_N_INIT, random_state=seed).fit_predict(E)
    if not 1 < np.unique(labels).size < E.shape[0]:
        return -1.0
    return float(silhouette_score(E, labels, sample_size=sample, random_state=seed))


def rescore_the_lead(E: np.ndarray, counts: np.ndarray, scores: np.ndarray, seed: int) -> None:
    """Score the curve's leading count on all rows of ``E``, until the lead is so scored.

    A curve scored on a sample of the rows (more than ``_SILHOUETTE_SAMPLES``) can put one
    count ahead of another by less than the sample's noise (USPS: nine clusters ahead of
    ten by a thousandth). The leader's score is replaced by its silhouette on all rows,
    and so on while the new leader's score comes from the sample; a leader scored on all
    rows wins. Usually two or three counts are scored again, a second or so each on
    10,000 rows.

    Parameters
    ----------
    E : ndarray of shape (n_samples, n_features)
    counts : ndarray of int
    scores : ndarray of float
        :func:`silhouette_curve` of ``E`` with ``seed``; updated in place.
    seed : int
    """
    if E.shape[0] <= _SILHOUETTE_SAMPLES:
        return
    exact = np.zeros(counts.size, dtype=bool)
    with threadpool_limits(limits=1):  # as in silhouette_curve: the same partitions
        while not exact[lead := int(np.argmax(scores))]:
            scores[lead] = _partition_score(E, int(counts[lead]), seed, None)
            exact[lead] = True


def _representation(X: np.ndarray, images: bool, rng: np.random.RandomState) -> np.ndarray:
    """The rows as the embedding reads them: float, PCA-projected if wide, unit if images."""
    Z = X.astype(np.float32) / 255.0 if X.dtype == np.uint8 else np.asarray(X, np.float32)
    n, d = Z.shape
    components = min(_PCA_COMPONENTS, n - 1)
    if d > components:
        Z = PCA(components, random_state=draw_seed(rng)).fit_transform(Z).astype(np.float32)
    return unit_rows(Z) if images else Z


def choose_n_clusters(
    X: np.ndarray, images: bool, rng: np.random.RandomState
) -> tuple[int, np.ndarray, np.ndarray]:
    """Choose the number of clusters of the rows of ``X``: the best silhouette (see module).

    Up to 600 rows the curve is the mean over several embeddings (``_AVERAGED_ROWS``);
    above 4,000 its leading counts are scored again on all rows (:func:`rescore_the_lead`).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training rows (float32, or uint8 intensities read as ``X / 255``).
    images : bool
        Whether the rows are images (scaled to unit length before the embedding).
    rng : numpy.random.RandomState
        Draws the subset, the PCA, UMAP and k-means seeds.

    Returns
    -------
    n_clusters : int
        The count with the highest silhouette (the smallest on ties).
    counts : ndarray of int
        The candidate counts.
    scores : ndarray of float
        The silhouette of each candidate (the mean over the embeddings of a small set;
        on all rows for the counts :func:`rescore_the_lead` scored again).
    """
    n = X.shape[0]
    if n > _MAX_SAMPLES:
        X = X[np.sort(rng.choice(n, _MAX_SAMPLES, replace=False))]
    counts = candidate_counts(X.shape[0])
    Z = _representation(X, images, rng)
    distinct = np.unique(Z, axis=0).shape[0]
    if distinct < 2 * counts.max():
        raise ValueError(
            'n_clusters="auto" needs at least 2 distinct samples per candidate cluster; '
            f"X has {distinct} distinct rows. Give n_clusters."
        )
    E = fit_umap_embedding(Z, _COMPONENTS, _NEIGHBOURS, 0.0, rng)
    seed = draw_seed(rng)
    scores = silhouette_curve(E, counts, seed)
    rescore_the_lead(E, counts, scores, seed)
    repeats = min(_MAX_EMBEDDINGS, max(1, _AVERAGED_ROWS // Z.shape[0]))
    for _ in range(repeats - 1):
        E = fit_umap_embedding(Z, _COMPONENTS, _NEIGHBOURS, 0.0, rng)
        scores += silhouette_curve(E, counts, seed)
    scores /= repeats
    return int(counts[int(np.argmax(scores))]), counts, scores
