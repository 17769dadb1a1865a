"""Behaviour owned by the base estimator, exercised through a small dense AEGMM.

Reproducibility, global state, the fit/predict contract, batched inference, persistence,
devices, verbosity, history, input validation, parameter validation, sklearn plumbing
(clone, feature names, ``set_output``) and the divergence guard.
"""

from __future__ import annotations

import io
import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from deepcluster_sk import AEGMM, TrainingDivergedError

N_EPOCHS = 4


def make_est(**params):
    settings = {
        "n_clusters": 3,
        "hidden_dims": (16,),
        "latent_dim": 2,
        "n_epochs": N_EPOCHS,
        "batch_size": 16,
        "device": "cpu",
        "random_state": 0,
    }
    settings.update(params)
    return AEGMM(**settings)


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(n_samples=60, n_features=6, centers=3, random_state=0)
    return X.astype(np.float32)


@pytest.fixture(scope="module")
def fitted(data):
    return make_est().fit(data)


# ------------------------------------------------------------------ reproducibility
def test_same_random_state_gives_identical_results(data):
    a = make_est(random_state=7).fit(data)
    b = make_est(random_state=7).fit(data)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.transform(data), b.transform(data))
    assert [h["loss"] for h in a.history_] == [h["loss"] for h in b.history_]


def test_different_random_states_differ(data):
    a = make_est(random_state=1).fit(data)
    b = make_est(random_state=2).fit(data)
    assert not np.allclose(a.transform(data), b.transform(data))


def test_fit_leaves_torch_global_state_alone(data):
    torch.manual_seed(123)
    rng_before = torch.get_rng_state().clone()
    threads_before = torch.get_num_threads()
    make_est().fit(data)
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert torch.get_num_threads() == threads_before


def test_random_state_instance_is_accepted(data):
    est = make_est(random_state=np.random.RandomState(0)).fit(data)
    assert est.labels_.shape == (data.shape[0],)


# -------------------------------------------------------------- fit/predict contract
def test_fit_predict_equals_fit_then_predict_equals_labels(data, fitted):
    np.testing.assert_array_equal(fitted.predict(data), fitted.labels_)
    np.testing.assert_array_equal(make_est().fit_predict(data), fitted.labels_)


def test_fit_returns_self_and_sets_fitted_attributes(data):
    est = make_est()
    assert est.fit(data) is est
    assert est.n_features_in_ == data.shape[1]
    assert est.labels_.shape == (data.shape[0],)
    assert est.labels_.dtype.kind == "i"
    assert set(np.unique(est.labels_)) <= set(range(3))
    assert est.n_iter_ == N_EPOCHS


def test_batched_inference_matches_default(data, fitted):
    default = fitted.transform(data)
    est = pickle.loads(pickle.dumps(fitted))
    est.inference_batch_size = 7  # 60 rows -> 9 batches, the last one of 4
    np.testing.assert_allclose(est.transform(data), default, atol=1e-5, rtol=1e-5)
    np.testing.assert_array_equal(est.predict(data), fitted.predict(data))
    # The class default is untouched by the instance override.
    assert fitted.inference_batch_size == AEGMM.inference_batch_size


def test_transform_returns_float64(data, fitted):
    Z = fitted.transform(data)
    assert Z.dtype == np.float64
    assert Z.shape == (data.shape[0], 2)


def test_list_input_gives_same_predictions(data, fitted):
    np.testing.assert_array_equal(fitted.predict(data.tolist()), fitted.labels_)


# -------------------------------------------------------------------- persistence
def _all_tensors_on_cpu(module):
    return all(t.device.type == "cpu" for t in module.state_dict().values())


def test_pickle_round_trip(data, fitted):
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.predict(data), fitted.predict(data))
    np.testing.assert_array_equal(loaded.transform(data), fitted.transform(data))
    assert _all_tensors_on_cpu(loaded.module_)


def test_joblib_round_trip(data, fitted):
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    np.testing.assert_array_equal(loaded.predict(data), fitted.predict(data))
    np.testing.assert_allclose(loaded.predict_proba(data), fitted.predict_proba(data))
    assert _all_tensors_on_cpu(loaded.module_)


def test_pickle_does_not_move_the_live_module(fitted):
    pickle.dumps(fitted)
    assert isinstance(fitted.module_, torch.nn.Module)
    assert _all_tensors_on_cpu(fitted.module_)


def test_unpickled_model_predicts_under_another_thread_count(data, fitted):
    blob = pickle.dumps(fitted)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        loaded = pickle.loads(blob)
        np.testing.assert_array_equal(loaded.predict(data), fitted.labels_)
    finally:
        torch.set_num_threads(before)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fitted_model_pickles_with_cpu_tensors(data):
    est = make_est(device="cuda").fit(data)
    assert next(est.module_.parameters()).device.type == "cuda"
    loaded = pickle.loads(pickle.dumps(est))
    assert _all_tensors_on_cpu(loaded.module_)
    np.testing.assert_array_equal(loaded.predict(data), est.labels_)


# ------------------------------------------------------------------------ devices
@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_cuda_without_gpu_is_a_clear_error(data):
    with pytest.raises(ValueError, match="CUDA"):
        make_est(device="cuda").fit(data)


def test_unknown_device_is_a_clear_error(data):
    with pytest.raises(ValueError, match="device"):
        make_est(device="bogus").fit(data)


def test_device_param_is_not_rewritten(data):
    est = make_est(device="auto").fit(data)
    assert est.device == "auto"


# ---------------------------------------------------------------- verbosity, history
def test_quiet_by_default(data, capsys):
    make_est(verbose=0).fit(data)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_verbose_draws_a_progress_bar_on_stderr(data, capsys):
    make_est(verbose=1).fit(data)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{N_EPOCHS}/{N_EPOCHS}" in captured.err
    assert "loss" in captured.err
    assert "#" in captured.err


def test_history_has_one_record_per_epoch(fitted):
    assert len(fitted.history_) == N_EPOCHS
    assert [h["epoch"] for h in fitted.history_] == list(range(N_EPOCHS))
    for record in fitted.history_:
        assert np.isfinite(record["loss"])
        assert record["loss"] >= 0.0


def test_zero_epochs_still_fits_the_head(data):
    est = make_est(n_epochs=0).fit(data)
    assert est.history_ == []
    assert est.labels_.shape == (data.shape[0],)


# --------------------------------------------------------------------- not fitted
@pytest.mark.parametrize("method", ["predict", "transform", "predict_proba", "score"])
def test_not_fitted_error(data, method):
    with pytest.raises(NotFittedError):
        getattr(make_est(), method)(data)


# --------------------------------------------------------------------- bad input
def _with_value(X, value):
    X = X.astype(np.float64)  # copy
    X[3, 2] = value
    return X


BAD_FIT_INPUT = {
    "nan": (lambda X: _with_value(X, np.nan), ValueError, "NaN"),
    "inf": (lambda X: _with_value(X, np.inf), ValueError, "infinity"),
    "1d": (lambda X: X[:, 0], ValueError, "Expected 2D array"),
    "3d": (lambda X: X.reshape(X.shape[0], 3, 2), ValueError, "dim 3"),
    "empty": (lambda X: X[:0], ValueError, "0 sample"),
    "single_sample": (lambda X: X[:1], ValueError, "1 sample"),
    "fewer_samples_than_clusters": (lambda X: X[:2], ValueError, "n_clusters"),
    "string_dtype": (
        lambda X: np.full(X.shape, "a", dtype=object),
        ValueError,
        "could not convert string to float",
    ),
    "sparse": (lambda X: sp.csr_matrix(X), (TypeError, ValueError), r"[Ss]parse|dense"),
    "no_features": (lambda X: X[:, :0], ValueError, "0 feature"),
}


@pytest.mark.parametrize("case", list(BAD_FIT_INPUT))
def test_bad_fit_input_is_a_clear_error(data, case):
    make_bad, error, message = BAD_FIT_INPUT[case]
    with pytest.raises(error, match=message):
        make_est().fit(make_bad(data))


def test_numeric_object_array_is_accepted(data):
    est = make_est().fit(data.astype(object))
    assert est.labels_.shape == (data.shape[0],)


@pytest.mark.parametrize(
    "make_bad, error, message",
    [
        (lambda X: X[:, :4], ValueError, r"4 features.*expecting 6"),
        (lambda X: _with_value(X, np.nan), ValueError, "NaN"),
        (lambda X: _with_value(X, -np.inf), ValueError, "infinity"),
        (lambda X: X[0], ValueError, "Expected 2D array"),
        (lambda X: sp.csr_matrix(X), (TypeError, ValueError), r"[Ss]parse|dense"),
    ],
    ids=["n_features_mismatch", "nan", "inf", "1d", "sparse"],
)
@pytest.mark.parametrize("method", ["predict", "transform"])
def test_bad_predict_input_is_a_clear_error(data, fitted, make_bad, error, message, method):
    with pytest.raises(error, match=message):
        getattr(fitted, method)(make_bad(data))


def test_single_sample_predict_is_fine(data, fitted):
    assert fitted.predict(data[:1]).shape == (1,)


# -------------------------------------------------------------- parameter validation
@pytest.mark.parametrize(
    "params, name",
    [
        ({"n_epochs": -1}, "n_epochs"),
        ({"architecture": "bogus"}, "architecture"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"n_clusters": 0}, "n_clusters"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"covariance_type": "bogus"}, "covariance_type"),
    ],
)
def test_invalid_parameters_raise_invalid_parameter_error(data, params, name):
    est = make_est(**params)
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        est.fit(data)
    assert issubclass(InvalidParameterError, ValueError)


def test_constructor_stores_params_verbatim():
    hidden = [16, 8]
    est = AEGMM(hidden_dims=hidden, n_epochs=-5, architecture="bogus")  # validated in fit
    assert est.hidden_dims is hidden
    assert est.n_epochs == -5
    assert est.architecture == "bogus"


# ------------------------------------------------------------------ sklearn plumbing
def test_clone_get_params_set_params_round_trip(fitted):
    params = fitted.get_params()
    cloned = clone(fitted)
    assert cloned.get_params() == params
    assert not hasattr(cloned, "module_")
    cloned.set_params(latent_dim=3, n_epochs=1)
    assert cloned.get_params()["latent_dim"] == 3
    assert cloned.get_params()["n_epochs"] == 1
    cloned.set_params(**params)
    assert cloned.get_params() == params
    assert "AEGMM(" in repr(cloned)


def test_set_params_then_refit_uses_new_values(data):
    est = make_est().fit(data)
    est.set_params(latent_dim=3, n_epochs=2)
    est.fit(data)
    assert est.transform(data).shape == (data.shape[0], 3)
    assert len(est.history_) == 2


def test_tags_say_clusterer_and_transformer(fitted):
    from sklearn.base import is_clusterer

    tags = fitted.__sklearn_tags__()
    assert is_clusterer(fitted)
    assert tags.estimator_type == "clusterer"
    assert tags.transformer_tags is not None
    assert tags.input_tags.allow_nan is False
    assert tags.non_deterministic is False


def test_feature_names_out_match_transform_width(data, fitted):
    names = fitted.get_feature_names_out()
    assert list(names) == ["aegmm0", "aegmm1"]
    assert len(names) == fitted.transform(data).shape[1]


def test_set_output_pandas(data):
    pd = pytest.importorskip("pandas")
    est = make_est().set_output(transform="pandas").fit(data)
    out = est.transform(data)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(est.get_feature_names_out())
    assert out.shape == (data.shape[0], 2)


def test_dataframe_input_sets_feature_names_in(data):
    pd = pytest.importorskip("pandas")
    columns = [f"f{i}" for i in range(data.shape[1])]
    df = pd.DataFrame(data, columns=columns)
    est = make_est().fit(df)
    np.testing.assert_array_equal(est.feature_names_in_, columns)
    np.testing.assert_array_equal(est.predict(df), est.labels_)
    # Same values as a plain array: same labels, with sklearn's usual warning.
    with pytest.warns(UserWarning, match="feature names"):
        np.testing.assert_array_equal(est.predict(data), est.labels_)


def test_dataframe_with_reordered_columns_is_rejected(data):
    pd = pytest.importorskip("pandas")
    columns = [f"f{i}" for i in range(data.shape[1])]
    est = make_est().fit(pd.DataFrame(data, columns=columns))
    with pytest.raises(ValueError, match="feature names"):
        est.predict(pd.DataFrame(data, columns=columns[::-1]))


# ---------------------------------------------------------------- divergence guard
def test_diverging_training_raises_training_diverged_error(data):
    est = make_est(lr=1e6, optimizer="sgd")
    with pytest.raises(TrainingDivergedError, match=r"at epoch \d+") as info:
        est.fit(data * 1e6)
    assert isinstance(info.value, ValueError)
    assert "lr" in str(info.value)


def test_nan_batch_loss_raises_naming_the_epoch(data, monkeypatch):
    est = make_est()

    def nan_loss(self, batch, epoch):
        (xb,) = batch
        out = self.module_(xb)
        return out.sum() * float("nan"), {}

    monkeypatch.setattr(AEGMM, "_batch_loss", nan_loss)
    with pytest.raises(TrainingDivergedError, match="at epoch 0"):
        est.fit(data)
