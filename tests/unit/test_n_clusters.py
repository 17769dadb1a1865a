"""The criterion of ``n_clusters="auto"`` (pure functions, no network)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from deepcluster_sk._n_clusters import (
    candidate_counts,
    choose_n_clusters,
    rescore_the_lead,
    silhouette_curve,
)


def test_candidates_run_from_two_to_one_cluster_per_ten_rows_at_most_sixty():
    np.testing.assert_array_equal(candidate_counts(4), [2])
    np.testing.assert_array_equal(candidate_counts(40), [2, 3, 4])
    assert candidate_counts(400)[-1] == 40
    assert candidate_counts(70_000)[-1] == 60


def test_fewer_than_four_rows_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 4 samples"):
        candidate_counts(3)


@pytest.mark.parametrize("k", [2, 4, 7])
def test_silhouette_peaks_at_the_number_of_separated_blobs(k):
    E, _ = make_blobs(40 * k, centers=5 * np.eye(k), cluster_std=0.5, random_state=k)
    counts = np.arange(2, 11)
    scores = silhouette_curve(E, counts, seed=0)
    assert scores.shape == counts.shape
    assert counts[np.argmax(scores)] == k


def test_silhouette_needs_two_samples_per_cluster_of_every_candidate():
    E = np.random.RandomState(0).randn(9, 2)
    with pytest.raises(ValueError, match="fewer than 2 per cluster for 5 clusters"):
        silhouette_curve(E, np.arange(2, 6), seed=0)
    with pytest.raises(ValueError, match="at least 2"):
        silhouette_curve(E, np.array([1, 2]), seed=0)


@pytest.mark.parametrize("k", [3, 7, 15])
def test_choose_recovers_blobs_in_many_dimensions(k):
    X, _ = make_blobs(60 * k, n_features=20, centers=k, random_state=0)
    chosen, counts, scores = choose_n_clusters(
        X.astype(np.float32), False, np.random.RandomState(0)
    )
    assert chosen == k
    assert counts[np.argmax(scores)] == k
    np.testing.assert_array_equal(counts, np.arange(2, min(60 * k // 10, 60) + 1))


def test_choose_reads_uint8_images_and_is_reproducible():
    X, _ = make_blobs(200, n_features=64, centers=4, cluster_std=0.5, random_state=1)
    X = np.clip((X - X.min()) / np.ptp(X) * 255, 0, 255).astype(np.uint8)
    first = choose_n_clusters(X, True, np.random.RandomState(3))
    again = choose_n_clusters(X, True, np.random.RandomState(3))
    assert first[0] == again[0] == 4
    np.testing.assert_array_equal(first[2], again[2])


def test_choose_subsamples_large_inputs(monkeypatch):
    from deepcluster_sk import _n_clusters

    monkeypatch.setattr(_n_clusters, "_MAX_SAMPLES", 300)
    X, _ = make_blobs(3000, n_features=5, centers=5, random_state=2)
    chosen, counts, _ = choose_n_clusters(X.astype(np.float32), False, np.random.RandomState(0))
    assert chosen == 5
    assert counts[-1] == 300 // 10


@pytest.mark.parametrize("n_samples, embeddings", [(200, 3), (500, 2), (1000, 1)])
def test_small_sets_average_the_curves_of_several_embeddings(monkeypatch, n_samples, embeddings):
    from deepcluster_sk import _n_clusters

    curves = []

    def recorded(E, counts, seed):
        curves.append(silhouette_curve(E, counts, seed))
        return curves[-1].copy()

    monkeypatch.setattr(_n_clusters, "silhouette_curve", recorded)
    X, _ = make_blobs(n_samples, n_features=8, centers=4, random_state=0)
    chosen, _, scores = choose_n_clusters(X.astype(np.float32), False, np.random.RandomState(0))
    assert len(curves) == embeddings
    np.testing.assert_allclose(scores, np.mean(curves, axis=0))
    assert chosen == 4


def test_the_lead_of_a_sampled_curve_is_scored_again_on_all_rows(monkeypatch):
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    from deepcluster_sk import _n_clusters

    monkeypatch.setattr(_n_clusters, "_SILHOUETTE_SAMPLES", 40)
    E, _ = make_blobs(300, centers=4, cluster_std=2.5, random_state=0)
    counts = np.arange(2, 9)
    sampled = silhouette_curve(E, counts, seed=0)
    scores = sampled.copy()
    rescore_the_lead(E, counts, scores, seed=0)
    changed = scores != sampled
    assert changed.any()
    lead = int(np.argmax(scores))
    assert changed[lead]  # the winner is scored on all rows ...
    labels = KMeans(int(counts[lead]), n_init=3, random_state=0).fit_predict(E)
    assert scores[lead] == pytest.approx(silhouette_score(E, labels))
    # ... and only counts that led the sampled curve in turn were scored again
    assert all(sampled[i] >= np.max(sampled[~changed]) for i in np.flatnonzero(changed))


def test_a_curve_scored_on_all_rows_is_kept():
    E, _ = make_blobs(200, centers=3, random_state=0)
    counts = np.arange(2, 6)
    scores = silhouette_curve(E, counts, seed=0)
    kept = scores.copy()
    rescore_the_lead(E, counts, scores, seed=0)
    np.testing.assert_array_equal(scores, kept)


def test_duplicated_rows_are_a_clear_error():
    X = np.repeat(np.eye(3, dtype=np.float32), 10, axis=0)
    with pytest.raises(ValueError, match="distinct rows"):
        choose_n_clusters(X, False, np.random.RandomState(0))
