"""DVAEClusterer: its outputs, history, accuracy on separable data, errors (spec §6.12), and
the joint phase's similarity term (the contract shared by every estimator: tests/contract/)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler

import deepcluster_sk.nn.vade as dvae_module
from deepcluster_sk import DVAEClusterer
from deepcluster_sk.metrics import cluster_accuracy
from tests._helpers import make_bar_images

FAST = {
    "hidden_dims": (64,),
    "latent_dim": 4,
    "pretrain_epochs": 20,
    "n_epochs": 15,
    "warmup_epochs": 5,
    "similarity_weight": 0.5,
    "batch_size": 64,
    "device": "cpu",
    "random_state": 0,
}
DIGITS = {
    **FAST,
    "hidden_dims": (128, 128),
    "latent_dim": 10,
    "n_epochs": 8,
    "warmup_epochs": 3,
    "similarity_weight": 0.3,
    "batch_size": 128,
}


class FastDVAE(DVAEClusterer):
    """Smaller private schedules for tiny data (the research knobs are class attributes)."""

    _pretrain_batch_size = 64
    _kmeans_n_init = 5
    _classifier_epochs = 10


class DigitsDVAE(DVAEClusterer):
    """The default private schedules (classifier pretraining included), larger batches."""

    _pretrain_batch_size = 128
    _kmeans_n_init = 3


def make(n_clusters=3, **params):
    return FastDVAE(n_clusters, **{**FAST, **params})


def blobs(seed=0):
    """300 points in 3 separated blobs in 20 dimensions, standardised (Gaussian likelihood)."""
    X, y = make_blobs(300, n_features=20, centers=3, cluster_std=1.0, random_state=seed)
    return StandardScaler().fit_transform(X).astype(np.float32), y


@pytest.fixture(scope="module")
def digits_fitted(digits):
    X, _ = digits
    return DigitsDVAE(10, **DIGITS).fit(X)


@pytest.fixture(scope="module")
def bars_fitted(bars):
    return make(3).fit(bars[0])


# ------------------------------------------------------------------------------------- API
def test_output_shapes(digits_fitted, digits):
    est, (X, _) = digits_fitted, digits
    n = X.shape[0]
    assert est.likelihood_ == "bernoulli"
    assert est.labels_.shape == (n,)
    assert est.predict(X).shape == (n,)
    assert est.predict_proba(X).shape == (n, 10)
    assert est.transform(X).shape == (n, 10)
    assert est.score_samples(X).shape == (n,)
    assert est.n_features_in_ == 64
    assert set(np.unique(est.labels_)) <= set(range(10))


def test_predict_proba_rows_sum_to_one_and_argmax_is_predict(digits_fitted, digits):
    X = digits[0]
    proba = digits_fitted.predict_proba(X)
    assert np.isfinite(proba).all() and (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(proba.argmax(1), digits_fitted.predict(X))


def test_transform_is_the_latent_mean(digits_fitted, digits):
    X = digits[0]
    with torch.no_grad():
        mu = digits_fitted.module_.encode(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(digits_fitted.transform(X), mu, rtol=1e-5, atol=1e-5)


def test_predict_on_held_out_images(bars_fitted, bars):
    """New bar images (other noise) get the cluster that holds most training images of their
    class: the classifier on the latent means generalises beyond the training rows."""
    _, y = bars
    X_new, y_new = make_bar_images(seed=1)
    majority = {c: np.bincount(bars_fitted.labels_[y == c]).argmax() for c in np.unique(y)}
    labels = bars_fitted.predict(X_new)
    assert np.mean(labels == np.array([majority[c] for c in y_new])) >= 0.95


def test_predict_and_score_are_deterministic(digits_fitted, digits):
    X = digits[0]
    np.testing.assert_array_equal(digits_fitted.predict(X), digits_fitted.predict(X))
    np.testing.assert_array_equal(digits_fitted.predict_proba(X), digits_fitted.predict_proba(X))
    s1, s2 = digits_fitted.score_samples(X), digits_fitted.score_samples(X)
    np.testing.assert_array_equal(s1, s2)
    score = digits_fitted.score(X)
    assert isinstance(score, float) and np.isfinite(score)
    assert score == digits_fitted.score(X)
    assert score == pytest.approx(float(np.mean(s1)), rel=1e-12)
    assert np.isfinite(s1).all()


@pytest.mark.parametrize(
    "make_state", [lambda: None, lambda: np.random.RandomState(0)], ids=["None", "RandomState"]
)
def test_score_is_deterministic_for_any_random_state(bars, make_state):
    X = bars[0]
    est = make(3, pretrain_epochs=3, n_epochs=2, random_state=make_state()).fit(X)
    assert est.score(X) == est.score(X)


def test_score_samples_rejects_zero_mc_samples(bars_fitted, bars):
    with pytest.raises(ValueError, match="n_mc_samples"):
        bars_fitted.score_samples(bars[0], n_mc_samples=0)


def test_score_prefers_training_data_over_noise(digits_fitted, digits):
    X = digits[0]
    noise = np.random.RandomState(0).rand(200, 64).astype(np.float32)
    assert digits_fitted.score(X) > digits_fitted.score(noise)


def test_sample(digits_fitted):
    Xs, ys = digits_fitted.sample(25, random_state=0)
    assert Xs.shape == (25, 64)
    assert ys.shape == (25,)
    assert ((Xs >= 0) & (Xs <= 1)).all()
    assert set(np.unique(ys)) <= set(range(10))
    Xs2, ys2 = digits_fitted.sample(25, random_state=0)
    np.testing.assert_array_equal(Xs, Xs2)
    np.testing.assert_array_equal(ys, ys2)
    Xs3, _ = digits_fitted.sample(25, random_state=1)
    assert not np.array_equal(Xs, Xs3)
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="n_samples"):
            digits_fitted.sample(bad)


def test_sample_gaussian_likelihood_is_unbounded_decoder_mean():
    X, _ = blobs(0)
    est = make(3, pretrain_epochs=5, n_epochs=3).fit(X)
    assert est.likelihood_ == "gaussian"
    Xs, ys = est.sample(10, random_state=0)
    assert Xs.shape == (10, 20) and np.isfinite(Xs).all()
    assert set(np.unique(ys)) <= {0, 1, 2}


def test_classifier_and_mixture_posterior_mostly_agree(digits_fitted, digits):
    """At the end of joint training the classifier (which predicts) and the mixture
    posterior p(c | z) of the prior label most codes alike."""
    from deepcluster_sk.nn import gmm_log_posterior

    X = digits[0]
    Z = torch.from_numpy(digits_fitted.transform(X))
    prior = digits_fitted.module_.prior
    with torch.no_grad():
        log_post = gmm_log_posterior(
            Z, prior.log_pi().double(), prior.mu_c.double(), prior.logvar().double()
        )
    assert np.mean(log_post.argmax(1).numpy() == digits_fitted.predict(X)) > 0.5


# ----------------------------------------------------------------------------------- history
def test_history_phases_and_terms(digits_fitted):
    est = digits_fitted
    phases = {r["phase"] for r in est.history_}
    assert phases == {"pretrain", "classifier", "train"}
    assert est.n_iter_ == len(est.history_)
    assert [r["epoch"] for r in est.history_ if r["phase"] == "pretrain"] == list(range(20))
    train = [r for r in est.history_ if r["phase"] == "train"]
    w = DVAEClusterer._anchor_weight
    assert [r["epoch"] for r in train] == list(range(DIGITS["n_epochs"]))
    for r in train:
        for key in ("rec", "kl_z", "kl_c", "sim", "agreement", "beta", "lr", "loss", "min_pi"):
            assert key in r and np.isfinite(r[key]), key
        assert 0.0 <= r["agreement"] <= 1.0
        assert r["kl_c"] >= -1e-5
        if r["epoch"] < DIGITS["warmup_epochs"]:
            assert r["beta"] == 0.0
            assert r["sim"] == 0.0
            assert r["sim_grad_ratio"] == 0.0
            # Without the similarity loss the epoch loss is the negative ELBO (plus the
            # classifier's cross-entropy on the pseudo-labels while anchored).
            assert r["loss"] == pytest.approx(
                r["rec"] + r["kl_z"] + r["kl_c"] + w * r["anchor"], rel=1e-4
            )
            # The anchor lasts the whole of joint training.
            assert r["anchor"] > 0.0
        else:
            assert r["beta"] == pytest.approx(DIGITS["similarity_weight"], rel=1e-6)
            assert r["sim"] > 0.0
            # Spec A6: the similarity gradient on the means, relative to the ELBO's.
            assert 0.0 < r["sim_grad_ratio"] < np.inf
            assert r["loss"] == pytest.approx(
                r["rec"] + r["kl_z"] + r["kl_c"] + w * r["anchor"] + r["beta"] * r["sim"],
                rel=1e-4,
            )
    # The learning rate warms up linearly over the first _warmup_steps optimizer steps.
    steps = len(est.labels_) // DIGITS["batch_size"]
    warm = DVAEClusterer._warmup_steps
    for r in train[: warm // steps]:
        assert r["lr"] == pytest.approx(0.002 * (r["epoch"] + 1) * steps / warm)
    assert len(train) * steps > warm
    assert train[-1]["lr"] == pytest.approx(0.002)
    assert set(est.phase_seconds_) == {"pretrain", "head", "joint"}
    assert all(v >= 0.0 for v in est.phase_seconds_.values())
    assert np.isfinite(est.kmeans_inertia_)


def test_classifier_pretraining_learns_the_pseudo_labels(digits_fitted):
    """With the default schedule the classifier improves on its nearest-centre start: its
    cross-entropy falls and it agrees with more pseudo-labels (0.89 -> 0.91 observed; it
    stops early only at 0.98). Most of them are reproduced, far above chance (0.1)."""
    cls = [r for r in digits_fitted.history_ if r["phase"] == "classifier"]
    assert 1 <= len(cls) <= DVAEClusterer._classifier_epochs
    assert cls[-1]["loss"] < cls[0]["loss"]
    assert cls[-1]["agreement"] > cls[0]["agreement"]
    assert cls[-1]["agreement"] >= 0.8


# ------------------------------------------------------------------------- clustering quality
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_separable_blobs_gaussian(seed):
    X, y = blobs(seed)
    est = make(3, random_state=seed).fit(X)
    assert est.likelihood_ == "gaussian"
    assert cluster_accuracy(y, est.labels_) >= 0.9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_separable_bars_bernoulli(bars, seed):
    X, y = bars
    est = make(3, random_state=seed).fit(X)
    assert est.likelihood_ == "bernoulli"
    assert cluster_accuracy(y, est.labels_) >= 0.9


def test_vade_ablation_without_similarity_loss(bars):
    X, y = bars
    est = make(3, similarity_weight=0.0).fit(X)
    assert all(r["sim"] == 0.0 for r in est.history_ if r["phase"] == "train")
    labels = est.predict(X)
    assert labels.shape == (X.shape[0],)
    assert cluster_accuracy(y, labels) >= 0.9


def test_two_layer_classifier_for_few_clusters(bars_fitted, bars):
    X = bars[0]
    assert isinstance(bars_fitted.module_.classifier, torch.nn.Sequential)
    proba = bars_fitted.predict_proba(X)
    assert proba.shape == (X.shape[0], 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-6)
    assert len(np.unique(bars_fitted.labels_)) == 3


def test_ten_clusters_use_a_single_linear_classifier(digits_fitted):
    assert isinstance(digits_fitted.module_.classifier, torch.nn.Linear)


# ------------------------------------------------------------------------------- errors
def test_auto_likelihood_resolution(bars):
    X = bars[0]
    est = make(3, pretrain_epochs=1, n_epochs=1)
    assert est.fit(X).likelihood_ == "bernoulli"
    assert est.fit(X * 2.0).likelihood_ == "gaussian"
    assert est.set_params(likelihood="gaussian").fit(X).likelihood_ == "gaussian"
    assert est.likelihood == "gaussian"  # the public parameter is never rewritten


@pytest.mark.parametrize(
    "params",
    [
        {"pretrain_epochs": -1},
        {"warmup_epochs": -1},
        {"init": "random"},
        {"similarity_weight": -1.0},
    ],
)
def test_invalid_params_raise(bars, params):
    (name,) = params
    with pytest.raises(ValueError, match=f"The '{name}' parameter of FastDVAE must be"):
        make(**{"n_clusters": 3, **params}).fit(bars[0])


# ------------------------------------------------------------------------ initial partition
@pytest.mark.parametrize("init", ["kmeans", "spectral"])
def test_init_partition_seeds_prior_and_classifier(bars, init):
    X, _ = bars
    est = make(3, init=init, n_epochs=0).fit(X)
    assert est.init_labels_.shape == (X.shape[0],)
    assert set(est.init_labels_) == {0, 1, 2}
    # With no joint epochs the prior means are the mean code of each initial cluster.
    Z = est.transform(X)
    means = np.stack([Z[est.init_labels_ == k].mean(0) for k in range(3)])
    np.testing.assert_allclose(est.module_.prior.mu_c.detach().numpy(), means, atol=1e-4)
    # ... and the pretrained classifier reproduces the partition it was trained on.
    assert np.mean(est.predict(X) == est.init_labels_) >= 0.95
    expected_inertia = ((Z - means[est.init_labels_]) ** 2).sum()
    assert est.kmeans_inertia_ == pytest.approx(expected_inertia, rel=1e-3)


def test_paper_preset_is_the_dense_network_and_schedule():
    est = DVAEClusterer.paper(7)
    assert est.n_clusters == 7 and est.encoder == "dense"
    assert (est.pretrain_epochs, est.n_epochs, est.batch_size) == (100, 300, 300)
    assert est.lr == 0.002 and est.similarity_weight == 1.0 and est.warmup_epochs == 50
    assert DVAEClusterer.paper(n_epochs=5).n_epochs == 5


# ---------------------------------------- the similarity term in the joint phase (spec §6.10)
class _SimilarityCalled(RuntimeError):
    pass


def _raise(*args, **kwargs):
    raise _SimilarityCalled("wasserstein_similarity_loss was called")


class _TinyDVAE(DVAEClusterer):
    _kmeans_n_init = 1
    _classifier_epochs = 1
    _pretrain_batch_size = 16


def _tiny(**params):
    settings_ = {
        "hidden_dims": (8,),
        "latent_dim": 2,
        "pretrain_epochs": 1,
        "n_epochs": 2,
        "batch_size": 16,
        "device": "cpu",
        "random_state": 0,
    }
    settings_.update(params)
    return _TinyDVAE(2, **settings_)


@pytest.fixture(scope="module")
def tiny_X():
    X, _ = make_blobs(48, n_features=4, centers=2, random_state=0)
    return X.astype(np.float32)


def test_zero_similarity_weight_never_calls_similarity_code(monkeypatch, tiny_X):
    monkeypatch.setattr(dvae_module, "wasserstein_similarity_loss", _raise)
    est = _tiny(similarity_weight=0.0, warmup_epochs=0).fit(tiny_X)
    train = [r for r in est.history_ if r["phase"] == "train"]
    assert len(train) == 2
    assert all(r["sim"] == 0.0 and r["beta"] == 0.0 for r in train)


def test_similarity_code_skipped_during_warmup(monkeypatch, tiny_X):
    monkeypatch.setattr(dvae_module, "wasserstein_similarity_loss", _raise)
    _tiny(similarity_weight=0.5, warmup_epochs=2).fit(tiny_X)  # n_epochs=2: never past warmup


def test_positive_similarity_weight_calls_similarity_code(monkeypatch, tiny_X):
    monkeypatch.setattr(dvae_module, "wasserstein_similarity_loss", _raise)
    with pytest.raises(_SimilarityCalled, match="wasserstein_similarity_loss was called"):
        _tiny(similarity_weight=0.5, warmup_epochs=0).fit(tiny_X)
