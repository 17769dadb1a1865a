"""Partitions without a network: the spectral initial partition, restarts chosen without
labels, and the collapse check."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs, make_circles
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

from deepcluster_sk._heads import ClusterCollapseWarning, best_of_restarts, check_partition
from deepcluster_sk._partitions import agreeing_rows, spectral_labels
from deepcluster_sk._utils import draw_seed
from deepcluster_sk.metrics import cluster_accuracy


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(300, n_features=8, centers=3, cluster_std=1.0, random_state=0)
    return X.astype(np.float32), y


def test_agreeing_rows_leave_out_the_rows_labelled_against_their_neighbours(blobs):
    """Rows given another blob's label disagree with their neighbours; the rest agree."""
    X, y = blobs
    labels = y.copy()
    wrong = np.arange(0, 300, 30)
    labels[wrong] = (y[wrong] + 1) % 3
    keep = agreeing_rows(X, labels, n_neighbors=10, share=0.7)
    assert not keep[wrong].any()
    assert keep[np.setdiff1d(np.arange(300), wrong)].mean() > 0.95
    # share=0 keeps every row; a partition that cuts every neighbourhood keeps none.
    assert agreeing_rows(X, labels, 10, 0.0).all()
    assert not agreeing_rows(X, np.arange(300) % 2, 10, 0.9).any()


def test_spectral_labels_follow_curved_clusters():
    """Two rings: the neighbour graph separates them, k-means cuts both in half."""
    X, y = make_circles(400, factor=0.4, noise=0.03, random_state=0)
    assert cluster_accuracy(y, spectral_labels(X, 2, 10, seed=0)) == 1.0
    assert cluster_accuracy(y, KMeans(2, n_init=10, random_state=0).fit_predict(X)) < 0.7


@pytest.mark.parametrize("n", [300, 2500])  # dense and Lanczos eigensolvers
def test_spectral_labels_separated_blobs_and_determinism(n):
    X, y = make_blobs(n, centers=[[0, 0], [10, 0], [0, 10]], cluster_std=1.0, random_state=1)
    labels = spectral_labels(X, 3, 10, seed=3)
    assert cluster_accuracy(y, labels) == 1.0
    np.testing.assert_array_equal(labels, spectral_labels(X, 3, 10, seed=3))


@pytest.mark.parametrize("n", [3, 5])
def test_spectral_labels_as_many_clusters_as_points(n):
    labels = spectral_labels(np.random.RandomState(0).rand(n, 2), n, 10, seed=0)
    assert sorted(labels) == list(range(n))


def _planted_gmm_restarts(Z, planted_at, seed=0):
    """fit_one whose restart number ``planted_at`` (of those drawn from ``seed``) is a
    one-iteration EM from a bad start."""
    rng = np.random.RandomState(seed)
    planted = [draw_seed(rng) for _ in range(planted_at + 1)][-1]

    def fit_one(seed):
        if seed == planted:
            means = np.repeat(Z.mean(axis=0, keepdims=True), 3, axis=0)
            means += 1e-3 * np.arange(3)[:, None]
            return GaussianMixture(3, means_init=means, max_iter=1).fit(Z)
        return GaussianMixture(3, random_state=seed).fit(Z)

    return fit_one


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("planted_at", [0, 2])
def test_a_planted_bad_restart_is_not_chosen(blobs, planted_at):
    X, y = blobs
    fit_one = _planted_gmm_restarts(X, planted_at)
    best, scores = best_of_restarts(fit_one, lambda g: g.score(X), 4, np.random.RandomState(0))
    assert scores.shape == (4,)
    assert scores[planted_at] < scores.max()
    assert best.score(X) == pytest.approx(scores.max())
    assert adjusted_rand_score(y, best.predict(X)) > 0.95


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_restarts_in_threads_are_the_restarts_one_after_the_other(blobs):
    X, _ = blobs

    def fit_one(seed):
        return GaussianMixture(3, max_iter=5, random_state=seed).fit(X)

    one_by_one, scores = best_of_restarts(
        fit_one, lambda g: g.score(X), 6, np.random.RandomState(0), n_jobs=1
    )
    threaded, threaded_scores = best_of_restarts(
        fit_one, lambda g: g.score(X), 6, np.random.RandomState(0), n_jobs=3
    )
    np.testing.assert_array_equal(scores, threaded_scores)
    np.testing.assert_array_equal(one_by_one.means_, threaded.means_)


def test_restarts_are_reproducible_and_non_finite_scores_lose():
    seeds = []

    def fit_one(seed):
        seeds.append(seed)
        return seed

    _, first = best_of_restarts(fit_one, float, 3, np.random.RandomState(7))
    _, second = best_of_restarts(fit_one, float, 3, np.random.RandomState(7))
    np.testing.assert_array_equal(first, second)
    best, scores = best_of_restarts(
        lambda s: s, lambda s: np.nan if s == seeds[0] else -1.0, 3, np.random.RandomState(7)
    )
    assert best != seeds[0] and scores[0] == -np.inf


def test_check_partition_warns_on_collapse_only():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_partition(np.repeat(np.arange(3), 10), 3, "Est", "hint")
    with pytest.warns(ClusterCollapseWarning, match=r"97% .* 1 of 3 clusters empty.*hint"):
        check_partition(np.r_[np.zeros(29, int), 1], 3, "Est", "hint")


# ------------------------------------------------------------------- the heads
def _heads():
    from deepcluster_sk._heads import GaussianMixtureHead, KMeansHead, ManifoldHead, SpectralHead

    return [
        GaussianMixtureHead(3, n_init=2),
        KMeansHead(3, n_components=4, n_init=2),
        SpectralHead(3),
        ManifoldHead(GaussianMixtureHead(3, n_init=2), n_neighbors=15),
    ]


@pytest.mark.parametrize("head", _heads(), ids=lambda h: type(h).__name__)
def test_heads_fit_predict_transform_and_are_seeded(blobs, head):
    """Every head labels its training rows (``labels_``) as ``predict`` does, is seeded by
    ``random_state`` and maps codes row by row."""
    from sklearn.base import clone

    X, y = blobs
    fitted = clone(head).fit(X, np.random.RandomState(0))
    assert fitted.labels_.dtype == np.int64 and fitted.labels_.shape == (len(X),)
    assert adjusted_rand_score(y, fitted.labels_) > 0.95
    np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)
    again = clone(head).fit(X, 0)
    np.testing.assert_array_equal(clone(head).fit(X, 0).labels_, again.labels_)
    out = fitted.transform(X)
    assert out.shape == (len(X), fitted.n_features_out_)
    np.testing.assert_allclose(fitted.transform(X[5:9]), out[5:9], rtol=1e-10, atol=1e-12)
    if hasattr(fitted, "predict_proba"):
        proba = fitted.predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
        np.testing.assert_array_equal(proba.argmax(axis=1), fitted.labels_)


def test_heads_subsample_above_max_samples(blobs):
    """Above ``max_samples`` rows a head fits a seeded subset and labels every row."""
    from deepcluster_sk._heads import GaussianMixtureHead, ManifoldHead

    X, y = blobs
    seen = []
    gmm = GaussianMixtureHead(3, n_init=1, max_samples=100)
    original = gmm._fit
    gmm._fit = lambda Z, rng: seen.append(len(Z)) or original(Z, rng)
    gmm.fit(X, 0)
    assert seen == [100] and gmm.labels_.shape == (len(X),)
    assert adjusted_rand_score(y, gmm.labels_) > 0.95
    manifold = ManifoldHead(GaussianMixtureHead(3), n_neighbors=15, max_samples=120).fit(X, 0)
    assert manifold.extension_.codes_.shape[0] == 120
    np.testing.assert_array_equal(manifold.labels_, manifold.predict(X))


def test_manifold_head_delegates_likelihoods_and_places_training_rows_at_their_own():
    """With one extension neighbour a training code lands on its own embedding; the inner
    head's scores are those of the placed codes; a k-means inside has no predict_proba."""
    from deepcluster_sk._heads import GaussianMixtureHead, KMeansHead, ManifoldHead

    X, _ = make_blobs(200, n_features=6, centers=3, random_state=2)
    head = ManifoldHead(GaussianMixtureHead(3), n_neighbors=15).fit(X, 0)
    embedding = head.extension_.embedding_.astype(np.float64)
    np.testing.assert_allclose(head.transform(X), embedding, atol=1e-6)
    assert head.score(X) == pytest.approx(head.head_.mixture_.score(embedding), rel=1e-5)
    assert np.isfinite(head.bic(X)) and np.isfinite(head.aic(X))
    assert not hasattr(ManifoldHead(KMeansHead(3)), "predict_proba")
