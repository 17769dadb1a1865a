"""warm_start: a second fit continues the fitted network instead of starting over."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler

from deepcluster_sk import AEGMM, ConvAEKMeans, DVAEClusterer

N_EPOCHS = 4
TINY = {"hidden_dims": (16,), "latent_dim": 2, "n_epochs": N_EPOCHS, "lr": 1e-2, "device": "cpu"}
ESTIMATORS = {
    "AEGMM": (AEGMM, {"gmm_n_init": 1}),
    # Without self-training, as AEGMM on these tables: the tests follow the training phase.
    "ConvAEKMeans": (
        ConvAEKMeans,
        {"channels": (4,), "n_components": 2, "kmeans_n_init": 1, "self_training": 0},
    ),
    "DVAEClusterer": (
        DVAEClusterer,
        {
            "pretrain_epochs": 3,
            "warmup_epochs": 6,
            "init": "kmeans",
            "likelihood": "gaussian",
            "tol": 0.0,  # both fits run all their epochs
        },
    ),
}


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(150, n_features=6, centers=3, random_state=0)
    return StandardScaler().fit_transform(X).astype(np.float32)


def make(name, **params):
    cls, extra = ESTIMATORS[name]
    return cls(3, **{**TINY, **extra, "random_state": 0, **params})


def reconstruction_terms(history):
    """The reconstruction loss of each training epoch: the DVAE's ``rec`` term, the
    autoencoders' loss. (The DVAE's total loss is no measure of progress here: the
    similarity term joins it at ``warmup_epochs`` and the anchored terms stay flat.)"""
    return [r.get("rec", r["loss"]) for r in history if r["phase"] == "train"]


@pytest.mark.parametrize("name", ESTIMATORS)
def test_warm_fit_continues_training(name, blobs):
    est = make(name, warm_start=True).fit(blobs)
    first = list(est.history_)
    est.fit(blobs)
    added = est.history_[len(first) :]
    assert est.history_[: len(first)] == first
    # Only the training phase continues (no new pretraining or classifier records).
    assert [r["phase"] for r in added] == ["train"] * N_EPOCHS
    assert [r["epoch"] for r in added] == list(range(N_EPOCHS, 2 * N_EPOCHS))
    assert est.n_iter_ == len(est.history_)
    before, after = reconstruction_terms(first), reconstruction_terms(added)
    # The reconstruction carries on from where the first fit ended, not from the initial
    # value (a cold refit would repeat before[0] exactly: same seed).
    assert before[-1] < before[0]
    assert after[0] < before[0]
    assert abs(after[0] - before[-1]) < abs(before[0] - before[-1])
    assert est.predict(blobs).shape == (len(blobs),)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_cold_refit_starts_over(name, blobs):
    est = make(name).fit(blobs)
    first = [r["loss"] for r in est.history_]
    labels = est.labels_.copy()
    est.fit(blobs)
    assert [r["loss"] for r in est.history_] == first
    np.testing.assert_array_equal(est.labels_, labels)


def test_dvae_warm_fit_continues_schedule_and_warmup(blobs):
    est = make("DVAEClusterer", warm_start=True).fit(blobs)
    n_pretrain = sum(r["phase"] == "pretrain" for r in est.history_)
    est.fit(blobs)
    added = [r for r in est.history_ if r["phase"] == "train"][N_EPOCHS:]
    # warmup_epochs=6 counts the epochs of the first fit: beta is on from epoch 6.
    assert [r["beta"] for r in added] == [0.0, 0.0, 1.0, 1.0]
    assert sum(r["phase"] == "pretrain" for r in est.history_) == n_pretrain
    assert est.phase_seconds_["pretrain"] < 0.05  # skipped: only the joint phase ran


@pytest.mark.parametrize("name", ESTIMATORS)
def test_warm_fit_refuses_other_data_or_network(name, blobs):
    est = make(name, warm_start=True).fit(blobs)
    module = est.module_
    with pytest.raises(ValueError, match="X has 5"):
        est.fit(blobs[:, :5])
    est.set_params(latent_dim=3)
    with pytest.raises(ValueError, match="network parameters"):
        est.fit(blobs)
    assert est.module_ is module
    # warm_start=False trains a new network on the changed setting.
    est.set_params(warm_start=False).fit(blobs[:, :5])
    assert est.n_features_in_ == 5


def test_dvae_warm_fit_refuses_other_n_clusters(blobs):
    est = make("DVAEClusterer", warm_start=True).fit(blobs)
    est.set_params(n_clusters=4)
    with pytest.raises(ValueError, match="n_clusters"):
        est.fit(blobs)


def test_warm_start_on_unfitted_estimator_is_a_cold_fit(blobs):
    warm = make("AEGMM", warm_start=True).fit(blobs)
    cold = make("AEGMM").fit(blobs)
    assert [r["loss"] for r in warm.history_] == [r["loss"] for r in cold.history_]


class _Interrupt:
    """Mixin: raise KeyboardInterrupt at the given training epoch once armed."""

    at_epoch: int | None = None

    def _on_epoch_end(self, phase, epoch, record):
        if phase == "train" and epoch == type(self).at_epoch:
            raise KeyboardInterrupt("interrupted by the test")


@pytest.mark.parametrize("name", ESTIMATORS)
def test_interrupted_warm_fit_keeps_previous_model(name, blobs):
    cls, extra = ESTIMATORS[name]
    interrupted = type(f"Interrupted{name}", (_Interrupt, cls), {})
    est = interrupted(3, **{**TINY, **extra, "random_state": 0, "warm_start": True}).fit(blobs)
    labels, codes = est.predict(blobs), est.transform(blobs)
    module, history = est.module_, list(est.history_)
    weights = {k: v.clone() for k, v in module.state_dict().items()}
    # Interrupt the warm fit after two of its epochs have updated the network it trains.
    interrupted.at_epoch = N_EPOCHS + 2
    with pytest.raises(KeyboardInterrupt, match="interrupted by the test"):
        est.fit(blobs)
    assert est.module_ is module
    for key, value in module.state_dict().items():
        torch.testing.assert_close(value, weights[key], rtol=0, atol=0)
    assert est.history_ == history
    np.testing.assert_array_equal(est.predict(blobs), labels)
    np.testing.assert_array_equal(est.transform(blobs), codes)
    # The previous model still continues normally afterwards.
    interrupted.at_epoch = None
    est.fit(blobs)
    assert len(est.history_) == len(history) + N_EPOCHS
