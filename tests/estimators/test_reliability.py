"""No silent wrong answers: exploding losses, non-finite scores, 8-bit input, memory, selection.

Each test here failed before the fix it names (issue 16): a finite but exploding loss now
raises :class:`~deepcluster_sk.TrainingDivergedError`; ``score`` and ``score_samples`` raise a
clear ValueError instead of returning NaN; integer 0-255 input under ``likelihood="auto"``
warns; batched inference gathers its output in place; and model selection without labels
uses a criterion that does not depend on the scale of the codes.
"""

from __future__ import annotations

import copy
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, make_blobs
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_limits

from deepcluster_sk import AEGMM, DVAEClusterer, SmallDataWarning, TrainingDivergedError
from deepcluster_sk.metrics import cluster_accuracy, silhouette_scorer


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    with threadpool_limits(1):
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        yield
        torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def X():
    """300 of scikit-learn's digits scaled to [0, 1], float32."""
    return (load_digits().data[:300] / 16.0).astype(np.float32)


def aegmm(**params):
    settings = {"hidden_dims": (16,), "latent_dim": 2, "n_epochs": 3, "random_state": 0}
    return AEGMM(3, **{**settings, **params})


def dvae(**params):
    settings = {
        "hidden_dims": (16,),
        "latent_dim": 2,
        "pretrain_epochs": 2,
        "n_epochs": 3,
        "warmup_epochs": 1,
        "random_state": 0,
    }
    return DVAEClusterer(3, **{**settings, **params})


# ------------------------------------------------------------- exploding but finite losses
@pytest.mark.parametrize(
    ("make", "lr"), [(dvae, 1e6), (aegmm, 1.0)], ids=["DVAEClusterer-lr1e6", "AEGMM-lr1"]
)
def test_exploding_finite_loss_raises_and_keeps_the_previous_model(X, make, lr):
    # Before: DVAE's joint loss rose from 47 to 2e27 and AEGMM's batch loss from 0.27 to
    # 2e5, both finite, and each fit returned one cluster without an error.
    est = make().fit(X)
    labels, Z = est.predict(X), est.transform(X)
    with pytest.raises(TrainingDivergedError, match=r"at epoch \d+: a mini-batch loss") as info:
        est.set_params(lr=lr).fit(X)
    assert "parameter 'lr'" in str(info.value)
    # The fit is transactional: the previous model still answers as before.
    np.testing.assert_array_equal(est.predict(X), labels)
    np.testing.assert_array_equal(est.transform(X), Z)


@pytest.mark.parametrize("make", [dvae, aegmm], ids=["DVAEClusterer", "AEGMM"])
def test_default_lr_does_not_trip_the_divergence_guard(X, make):
    est = make().fit(X)
    assert np.isfinite([r["loss"] for r in est.history_]).all()


# ------------------------------------------------------------------ non-finite scores
def test_dvae_score_of_far_away_rows_is_finite_and_far_below(X):
    est = dvae().fit(X)
    assert np.isfinite(est.score(X))
    # Before: score(X * 1e30) returned NaN. The ELBO is computed in float64: rows far from
    # the training data get a finite score far below the training rows'.
    far = est.score_samples(X * 1e30)
    assert np.isfinite(far).all()
    assert far.max() < est.score_samples(X).min() - 1e6


def test_aegmm_score_of_far_away_rows_is_finite_or_raises_a_clear_error(X):
    far = X * 1e30  # finite codes, far from every training code
    # On the codes (manifold=None) the likelihood says how far: far below the training rows'.
    on_codes = aegmm(manifold=None).fit(X)
    assert np.isfinite(on_codes.score(far))
    assert on_codes.score(far) < on_codes.score(X) - 1e6
    # Under the UMAP head every row is placed at the embedding of its nearest training code,
    # however far it is: its log-likelihood is that of a training row and does not flag it.
    est = aegmm().fit(X)
    embedding = est.manifold_.embedding_.astype(np.float64)
    placed = est.transform(far)
    gaps = np.abs(placed[:, None, :] - embedding[None]).max(axis=2).min(axis=1)
    np.testing.assert_allclose(gaps, 0.0, atol=1e-6)
    training_scores = est.gmm_.score_samples(embedding)
    assert est.score_samples(far).min() >= training_scores.min() - 1e-9
    # Codes that overflow float32: before, GaussianMixture's "Input X contains NaN" advice
    # to impute missing values, which blames data that have none.
    huge = np.full_like(X, 3.4e38)
    for method in ("score", "score_samples", "predict", "transform", "predict_proba"):
        with pytest.raises(ValueError, match="latent codes is NaN or infinite"):
            getattr(est, method)(huge)


# ------------------------------------------------------------------------ 8-bit input
def test_integer_0_255_input_warns_under_auto_likelihood():
    # Integers in [0, 240] held as floats (uint8 arrays are read as intensities / 255
    # instead: test_uint8_images_train_as_intensities_divided_by_255).
    X8 = (load_digits().data[:120] * 15).astype(np.float32)
    # Before: likelihood="auto" switched to the Gaussian likelihood without a word.
    with pytest.warns(UserWarning, match="divide X by 255") as record:
        est = aegmm(n_epochs=1, likelihood="auto").fit(X8)
    assert est.likelihood_ == "gaussian"
    (warned,) = [w for w in record if "8-bit" in str(w.message)]
    assert warned.filename == __file__  # points at the caller's fit
    with pytest.warns(UserWarning, match="like 8-bit images"):
        dvae(pretrain_epochs=1, n_epochs=1).fit(X8)

    def eight_bit_warnings(est, data):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.fit(data)
        return [w for w in caught if "8-bit" in str(w.message)]

    assert not eight_bit_warnings(aegmm(n_epochs=1, likelihood="auto"), X8 / 255.0)
    assert not eight_bit_warnings(aegmm(n_epochs=1, likelihood="gaussian"), X8)
    assert not eight_bit_warnings(aegmm(n_epochs=1, likelihood="auto"), X8 + 0.5)


# -------------------------------------------------------------------- inference memory
def test_batched_inference_gathers_its_output_in_place(X):
    est = aegmm(n_epochs=1).fit(X)
    est.inference_batch_size = 7
    rows = np.tile(X, (10, 1))  # 3,000 rows, 429 batches
    expected = np.concatenate([est.reconstruct(rows[i : i + 500]) for i in range(0, 3000, 500)])
    tracemalloc.start()
    try:
        out = est.reconstruct(rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert out.dtype == np.float64
    # Before: float32 pieces, their concatenation and its float64 copy, 2x the output.
    assert peak < 1.25 * out.nbytes


# ------------------------------------------------------------- selection without labels
def test_score_depends_on_code_scale_but_the_silhouette_does_not(X):
    # On the codes (manifold=None), where scaling the code head rescales the mixture's space.
    est = aegmm(manifold=None).fit(X)
    # The same model with codes x 0.1: the code head and the mixture rescaled exactly.
    scaled = copy.deepcopy(est)
    with torch.no_grad():
        scaled.module_.head.weight.mul_(0.1)
        scaled.module_.head.bias.mul_(0.1)
    gmm = scaled.gmm_
    gmm.means_, gmm.covariances_ = 0.1 * gmm.means_, 0.01 * gmm.covariances_
    gmm.precisions_, gmm.precisions_cholesky_ = 100 * gmm.precisions_, 10 * gmm.precisions_cholesky_
    np.testing.assert_array_equal(scaled.predict(X), est.predict(X))
    # The log-likelihood of d-dimensional codes shifts by d * log(10): not comparable.
    assert scaled.score(X) - est.score(X) == pytest.approx(2 * np.log(10), rel=1e-3)
    assert silhouette_scorer(scaled, X) == pytest.approx(silhouette_scorer(est, X), abs=1e-6)


def test_readme_recipe_selects_the_network_by_silhouette_on_blobs():
    Xb, y = make_blobs(300, n_features=12, centers=4, random_state=0)
    search = GridSearchCV(
        AEGMM(hidden_dims=(16,), n_epochs=3, gmm_n_init=2, random_state=0),
        {"latent_dim": [2, 8], "n_clusters": [2, 4, 6]},
        scoring=silhouette_scorer,
        cv=3,
    ).fit(Xb.astype(np.float32))
    assert search.best_params_["n_clusters"] == 4
    assert cluster_accuracy(y, search.best_estimator_.predict(Xb.astype(np.float32))) > 0.95


@pytest.mark.parametrize("Estimator", [AEGMM, DVAEClusterer])
def test_uint8_images_train_as_intensities_divided_by_255(Estimator):
    """uint8 input is read as 8-bit intensities: the same fit as float32 X / 255, with no
    float copy of X, the Bernoulli likelihood and no 8-bit warning."""
    digits = load_digits()
    X8 = np.round(digits.data[:300] * 255 / 16).astype(np.uint8)
    Xf = X8.astype(np.float32) / np.float32(255)
    small = {"hidden_dims": (32,), "latent_dim": 4, "random_state": 0}
    if Estimator is AEGMM:
        small.update(n_epochs=3, manifold=None, gmm_n_init=2)
    else:
        small.update(pretrain_epochs=2, n_epochs=2, encoder="dense", decoder="dense")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", SmallDataWarning)  # 300 rows, 10 clusters
        a = Estimator(10, **small).fit(X8)
    b = Estimator(10, **small).fit(Xf)
    assert a.likelihood_ == b.likelihood_
    if Estimator is DVAEClusterer:  # likelihood="auto" sees intensities in [0, 1]
        assert a.likelihood_ == "bernoulli"
    assert [r["loss"] for r in a.history_] == [r["loss"] for r in b.history_]
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.transform(X8[:50]), b.transform(Xf[:50]))
    np.testing.assert_array_equal(a.predict(X8), b.predict(Xf))


def test_a_small_table_says_the_columns_may_cluster_as_well():
    X, _ = make_blobs(150, n_features=4, centers=3, random_state=0)
    X = X.astype(np.float32)
    with pytest.warns(SmallDataWarning, match="150 rows, 50 per cluster"):
        AEGMM(3, n_epochs=1, manifold=None, random_state=0).fit(X)
    # 100 rows a cluster, or images of any number, fit without it.
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallDataWarning)
        AEGMM(3, n_epochs=1, manifold=None, random_state=0).fit(np.tile(X, (2, 1)))
        images = np.random.RandomState(0).rand(60, 256).astype(np.float32)
        AEGMM(3, n_epochs=1, manifold=None, input_shape=(1, 16, 16), random_state=0).fit(images)
