"""The contract every estimator of ``all_estimators()`` keeps, on one tiny configuration each.

Reproducibility, global state, the fit/predict contract, batched inference, persistence,
devices, verbosity, history, input validation, parameter validation, sklearn plumbing
(clone, feature names, ``set_output``) and the divergence guard. Behaviour that belongs to
one estimator (its head, its own parameters) is tested in tests/estimators/.

Every test takes the module-scoped ``name`` fixture, so it runs once per estimator and the
read-only tests share one fitted model per estimator (``fitted``).
"""

from __future__ import annotations

import io
import operator
import pickle
from dataclasses import replace

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone, is_clusterer
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

import deepcluster_sk
from deepcluster_sk import TrainingDivergedError, _base, _training, all_estimators
from deepcluster_sk._base import BaseDeepClusterer

ESTIMATORS = dict(all_estimators())
N_EPOCHS = 4

#: Settings every estimator takes: 3 clusters, a one-layer network, a 2-d code, 4 epochs.
SHARED = {
    "n_clusters": 3,
    "hidden_dims": (16,),
    "channels": (4,),
    "latent_dim": 2,
    "n_epochs": N_EPOCHS,
    "batch_size": 16,
    "device": "cpu",
    "random_state": 0,
}

#: Per estimator: its own tiny settings, the phases of its history as (phase, epochs) in
#: order (None: a phase that stops early, at least one epoch), the phases whose loss is a
#: non-negative reconstruction or cross-entropy loss, the parameters that set its epochs,
#: and the fitted attributes of its clustering head.
SPECS = {
    "AEGMM": {
        "params": {},
        "phases": [("train", N_EPOCHS)],
        "nonnegative": {"train"},
        "epoch_params": ("n_epochs",),
        "head": ("gmm_",),
    },
    "ConvAEKMeans": {
        # The default encoder is convolutional: tabular rows are read as 1-D signals, and
        # PCA keeps at most latent_dim components. A signal is a one-pixel-high image, so
        # self_training="auto" self-trains for its 10 epochs.
        "params": {"input_shape": "1d", "n_components": 2, "kmeans_n_init": 1},
        "phases": [("train", N_EPOCHS), ("refine", 10)],
        "nonnegative": {"train", "refine"},
        "epoch_params": ("n_epochs", "self_training"),
        "head": ("pca_", "kmeans_", "cluster_centers_"),
    },
    "DVAEClusterer": {
        "params": {"pretrain_epochs": N_EPOCHS, "warmup_epochs": 2},
        # The classifier phase stops once it agrees with the initial partition.
        "phases": [("pretrain", N_EPOCHS), ("classifier", None), ("train", N_EPOCHS)],
        # The joint phase minimises a negative ELBO of a Gaussian density: any sign.
        "nonnegative": {"pretrain", "classifier"},
        "epoch_params": ("pretrain_epochs", "n_epochs"),
        "head": ("module_.prior",),
    },
    "IDEC": {
        # Joint training stops once the labels settle (at least two epochs).
        "params": {"kmeans_n_init": 1, "joint_epochs": N_EPOCHS},
        "phases": [("train", N_EPOCHS), ("joint", None)],
        # Reconstruction plus a KL divergence: both non-negative.
        "nonnegative": {"train", "joint"},
        "epoch_params": ("n_epochs", "joint_epochs"),
        "head": ("cluster_centers_",),
    },
}


def tiny(name, **overrides):
    """A fast, seeded, CPU configuration of estimator ``name`` with ``overrides``."""
    settings = {**SHARED, **SPECS[name]["params"], **overrides}
    n_clusters = settings.pop("n_clusters")
    return ESTIMATORS[name](n_clusters, **settings)


def transform_width(est):
    """Width of ``est.transform`` for a tiny configuration, from its parameters.

    Estimators with a manifold step (AEGMM, ConvAEKMeans) work in the UMAP embedding, of
    ``n_clusters`` dimensions, under the default ``manifold="umap"`` and in the codes, of
    ``latent_dim``, under ``manifold=None``; ConvAEKMeans's PCA then keeps at most
    ``n_components`` of those dimensions.
    """
    params = est.get_params()
    manifold = params.get("manifold")
    width = params["n_clusters"] if manifold is not None else params["latent_dim"]
    return min(width, params.get("n_components", width))


def test_every_estimator_has_a_tiny_configuration():
    assert set(SPECS) == set(ESTIMATORS)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Run this module's tiny fits on one thread (torch, OpenMP, BLAS), then restore them.

    The models here are too small to gain from parallel kernels, and on a shared machine
    OpenMP threads that spin-wait for a busy core made the module several times slower.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module", params=sorted(ESTIMATORS))
def name(request):
    return request.param


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(n_samples=60, n_features=6, centers=3, random_state=0)
    return X.astype(np.float32)


@pytest.fixture(scope="module")
def unseen(data):
    """Rows no model here was fitted on: the training rows moved by noise."""
    return data + 0.5 * np.random.RandomState(1).randn(*data.shape).astype(np.float32)


@pytest.fixture(scope="module")
def fitted(name, data):
    """One fit per estimator, shared by the tests that only read it."""
    return tiny(name).fit(data)


# ------------------------------------------------------------------ reproducibility
def test_same_random_state_gives_identical_results(name, data, fitted):
    again = tiny(name)
    # fit_predict on a fresh estimator with the same seed gives the labels of fit.
    np.testing.assert_array_equal(again.fit_predict(data), fitted.labels_)
    np.testing.assert_array_equal(again.transform(data), fitted.transform(data))
    if hasattr(fitted, "predict_proba"):
        np.testing.assert_array_equal(again.predict_proba(data), fitted.predict_proba(data))
    assert [(h["phase"], h["loss"]) for h in again.history_] == [
        (h["phase"], h["loss"]) for h in fitted.history_
    ]


def test_different_random_states_differ(name, data, fitted):
    other = tiny(name, random_state=1).fit(data)
    assert not np.allclose(other.transform(data), fitted.transform(data))


def test_fit_leaves_torch_global_state_alone(name, data):
    torch.manual_seed(123)
    rng_before = torch.get_rng_state().clone()
    threads_before = torch.get_num_threads()
    tiny(name).fit(data)
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert torch.get_num_threads() == threads_before


def test_random_state_instance_is_accepted(name, data):
    est = tiny(name, random_state=np.random.RandomState(0)).fit(data)
    assert est.labels_.shape == (data.shape[0],)


# -------------------------------------------------------------- fit/predict contract
def test_fit_returns_self_and_sets_fitted_attributes(name, data):
    est = tiny(name)
    assert est.fit(data) is est
    assert est.n_features_in_ == data.shape[1]
    assert isinstance(est.module_, torch.nn.Module)
    assert est.labels_.shape == (data.shape[0],)
    assert est.labels_.dtype.kind == "i"
    assert set(np.unique(est.labels_)) <= set(range(3))
    assert est.n_iter_ == len(est.history_) > 0
    assert est.likelihood_ == "gaussian"  # blobs are not in [0, 1]
    assert est.input_shape_ is None or len(est.input_shape_) >= 1
    for attribute in SPECS[name]["head"]:
        assert operator.attrgetter(attribute)(est) is not None, attribute


def test_batched_inference_matches_default(name, data, fitted):
    est = pickle.loads(pickle.dumps(fitted))
    est.inference_batch_size = 7  # 60 rows -> 9 batches, the last one of 4
    # The override is used: 9 encoder calls of 7 rows each (the last block padded).
    batches, encode = [], est.module_.encode
    est.module_.encode = lambda xb: batches.append(len(xb)) or encode(xb)
    est.transform(data)
    assert batches == [7] * 9
    np.testing.assert_allclose(est.transform(data), fitted.transform(data), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(
        est.reconstruct(data), fitted.reconstruct(data), atol=1e-5, rtol=1e-5
    )
    np.testing.assert_array_equal(est.predict(data), fitted.predict(data))
    if hasattr(fitted, "predict_proba"):
        np.testing.assert_allclose(
            est.predict_proba(data), fitted.predict_proba(data), atol=1e-5, rtol=1e-5
        )
    # The override is the copy's own: the class default is untouched.
    assert vars(est)["inference_batch_size"] == 7
    assert type(est).inference_batch_size == BaseDeepClusterer.inference_batch_size > len(data)


def test_row_wise_methods_encode_and_label_one_block_at_a_time(name, data, fitted, monkeypatch):
    est = pickle.loads(pickle.dumps(fitted))
    est.inference_batch_size = 4
    monkeypatch.setattr(_base, "_INFERENCE_BLOCKS", 2)  # blocks of 8 rows: 60 = 7 x 8 + 4
    blocks, latent = [], est._latent
    est._latent = lambda X: blocks.append(len(X)) or latent(X)
    np.testing.assert_array_equal(est.predict(data), fitted.predict(data))
    assert blocks == [8] * 7 + [4]
    np.testing.assert_allclose(est.transform(data), fitted.transform(data), atol=1e-5, rtol=1e-5)
    methods = ["predict_proba"] + (["score_samples"] if name == "AEGMM" else [])
    for method in methods:
        if hasattr(fitted, method):
            np.testing.assert_allclose(
                getattr(est, method)(data), getattr(fitted, method)(data), atol=1e-5, rtol=1e-5
            )
    assert blocks[-8:] == [8] * 7 + [4]
    # Codes that are NaN in two blocks (as when float32 overflows in the network): the error
    # counts the bad rows of all of X, not of the first bad block.
    marked = np.array(data, dtype=np.float32, copy=True)
    marked[[3, 50], 0] = 99.0

    def poisoned(X):
        Z = latent(X)
        Z[np.asarray(X)[:, 0] == 99.0] = np.nan
        return Z

    est._latent = poisoned
    with pytest.raises(ValueError, match=r"for 2 of the 60 rows of X"):
        est.predict(marked)


def test_transform_returns_float64(name, data, fitted):
    Z = fitted.transform(data)
    assert Z.dtype == np.float64
    assert Z.shape == (data.shape[0], transform_width(fitted))
    if name == "AEGMM":
        # The default manifold="umap": the 3-d embedding (n_clusters), not the 2-d codes.
        assert Z.shape[1] == SHARED["n_clusters"] != SHARED["latent_dim"]


def test_reconstruct_returns_rows_of_the_input_shape(name, data, fitted):
    X_rec = fitted.reconstruct(data)
    assert X_rec.shape == data.shape
    assert np.isfinite(X_rec).all()


def test_list_input_gives_same_predictions(name, unseen, fitted):
    np.testing.assert_array_equal(fitted.predict(unseen.tolist()), fitted.predict(unseen))


# -------------------------------------------------------------------- persistence
def _all_tensors_on(module, device_type):
    return all(t.device.type == device_type for t in module.state_dict().values())


def _assert_same_outputs(loaded, est, X):
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    np.testing.assert_allclose(loaded.transform(X), est.transform(X), atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(loaded.score(X), est.score(X), rtol=1e-6)
    if hasattr(est, "predict_proba"):
        np.testing.assert_allclose(loaded.predict_proba(X), est.predict_proba(X), atol=1e-6)


def test_pickle_round_trip(name, data, fitted):
    loaded = pickle.loads(pickle.dumps(fitted))
    _assert_same_outputs(loaded, fitted, data)
    assert _all_tensors_on(loaded.module_, "cpu")


def test_joblib_round_trip(name, data, fitted):
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    _assert_same_outputs(loaded, fitted, data)
    assert _all_tensors_on(loaded.module_, "cpu")


def test_pickle_does_not_move_the_live_module(name, fitted):
    module = fitted.module_
    pickle.dumps(fitted)
    assert fitted.module_ is module
    assert _all_tensors_on(fitted.module_, "cpu")


def test_unpickled_model_predicts_under_another_thread_count(name, data, fitted):
    blob = pickle.dumps(fitted)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2 if before == 1 else 1)
        loaded = pickle.loads(blob)
        np.testing.assert_array_equal(loaded.predict(data), fitted.labels_)
    finally:
        torch.set_num_threads(before)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fitted_model_pickles_with_cpu_tensors(name, data):
    est = tiny(name, device="cuda").fit(data)
    assert _all_tensors_on(est.module_, "cuda")
    loaded = pickle.loads(pickle.dumps(est))
    assert _all_tensors_on(est.module_, "cuda")  # the live module stays where it is
    assert _all_tensors_on(loaded.module_, "cpu")
    np.testing.assert_array_equal(loaded.predict(data), est.labels_)


# ------------------------------------------------------------------------ devices
@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_cuda_without_gpu_is_a_clear_error(name, data):
    with pytest.raises(ValueError, match="CUDA"):
        tiny(name, device="cuda").fit(data)


def test_unknown_device_is_a_clear_error(name, data):
    with pytest.raises(ValueError, match="device"):
        tiny(name, device="bogus").fit(data)


def test_device_param_is_not_rewritten(name, data):
    est = tiny(name, device="auto").fit(data)
    assert est.device == "auto"


# ---------------------------------------------------------------- verbosity, history
def test_quiet_by_default(name, data, capsys):
    tiny(name, verbose=0).fit(data)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_verbose_draws_a_progress_bar_on_stderr(name, data, capsys):
    tiny(name, verbose=1).fit(data)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{N_EPOCHS}/{N_EPOCHS}" in captured.err
    assert "loss" in captured.err
    assert "#" in captured.err
    for phase, _ in SPECS[name]["phases"]:
        assert f"[{phase}]" in captured.err


def _phase_runs(history):
    """``[(phase, [epoch, ...]), ...]`` for consecutive records of the same phase."""
    runs = []
    for record in history:
        if runs and runs[-1][0] == record["phase"]:
            runs[-1][1].append(record["epoch"])
        else:
            runs.append((record["phase"], [record["epoch"]]))
    return runs


def test_history_has_one_record_per_epoch_of_each_phase(name, fitted):
    spec = SPECS[name]
    runs = _phase_runs(fitted.history_)
    assert [phase for phase, _ in runs] == [phase for phase, _ in spec["phases"]]
    for (phase, epochs), (_, n_epochs) in zip(runs, spec["phases"], strict=True):
        if n_epochs is None:
            assert len(epochs) >= 1, phase
        else:
            assert len(epochs) == n_epochs, phase
        assert epochs == list(range(len(epochs))), phase
    for record in fitted.history_:
        assert np.isfinite(record["loss"]), record
        if record["phase"] in spec["nonnegative"]:
            assert record["loss"] >= 0.0, record


def test_zero_epochs_still_fits_the_head(name, data):
    spec = SPECS[name]
    est = tiny(name, **dict.fromkeys(spec["epoch_params"], 0)).fit(data)
    epoch_phases = {phase for phase, n_epochs in spec["phases"] if n_epochs is not None}
    assert [h for h in est.history_ if h["phase"] in epoch_phases] == []
    assert est.n_iter_ == len(est.history_)
    assert est.labels_.shape == (data.shape[0],)
    for attribute in spec["head"]:
        assert operator.attrgetter(attribute)(est) is not None, attribute
    # The head partitions the untrained network's codes: more than one cluster is used.
    assert len(np.unique(est.labels_)) > 1


# --------------------------------------------------------------------- not fitted
#: How to call each public method that needs a fitted model.
NEEDS_FIT = {
    "predict": lambda est, X: est.predict(X),
    "transform": lambda est, X: est.transform(X),
    "reconstruct": lambda est, X: est.reconstruct(X),
    "predict_proba": lambda est, X: est.predict_proba(X),
    "score": lambda est, X: est.score(X),
    "score_samples": lambda est, X: est.score_samples(X),
    "bic": lambda est, X: est.bic(X),
    "aic": lambda est, X: est.aic(X),
    "inverse_transform": lambda est, X: est.inverse_transform(X[:, :2]),
    "sample": lambda est, X: est.sample(2),
    "get_feature_names_out": lambda est, X: est.get_feature_names_out(),
}
#: Public methods that fit, or work on parameters only.
FIT_FREE = {
    "fit",
    "fit_predict",
    "fit_transform",
    "get_params",
    "set_params",
    "set_output",
    "get_metadata_routing",
    "paper",
}


def test_not_fitted_error_from_every_public_method(name, data):
    cls = ESTIMATORS[name]
    public = {m for m in dir(cls) if not m.startswith("_") and callable(getattr(cls, m))}
    unknown = public - FIT_FREE - set(NEEDS_FIT)
    assert not unknown, f"add {sorted(unknown)} to NEEDS_FIT or FIT_FREE"
    est = tiny(name)
    wrong = []
    for method in sorted(public & set(NEEDS_FIT)):
        try:
            NEEDS_FIT[method](est, data)
        except NotFittedError as exc:
            if f"This {name} instance is not fitted yet" not in str(exc):
                wrong.append(f"{method} raised {exc!r}")
            continue
        except Exception as exc:
            wrong.append(f"{method} raised {exc!r}")
        else:
            wrong.append(f"{method} returned")
    assert not wrong, wrong
    assert {"predict", "transform", "reconstruct", "score"} <= public


# --------------------------------------------------------------------- bad input
def _with_value(X, value):
    X = X.astype(np.float64)  # copy
    X[3, 2] = value
    return X


BAD_FIT_INPUT = {
    "nan": (lambda X: _with_value(X, np.nan), ValueError, "NaN"),
    "inf": (lambda X: _with_value(X, np.inf), ValueError, "infinity"),
    "neg_inf": (lambda X: _with_value(X, -np.inf), ValueError, "infinity"),
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
def test_bad_fit_input_is_a_clear_error(name, data, case):
    make_bad, error, message = BAD_FIT_INPUT[case]
    with pytest.raises(error, match=message):
        tiny(name).fit(make_bad(data))


@pytest.mark.parametrize("low, high", [(-0.5, 1.0), (0.0, 2.0)], ids=["below_0", "above_1"])
def test_bernoulli_likelihood_needs_x_in_the_unit_interval(name, data, low, high):
    X = (data - data.min()) / (data.max() - data.min())  # in [0, 1], then moved out of it
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        tiny(name, likelihood="bernoulli").fit(X * (high - low) + low)


def test_numeric_object_array_is_accepted(name, data):
    est = tiny(name).fit(data.astype(object))
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
@pytest.mark.parametrize("method", ["predict", "transform", "reconstruct"])
def test_bad_predict_input_is_a_clear_error(name, data, fitted, make_bad, error, message, method):
    with pytest.raises(error, match=message):
        getattr(fitted, method)(make_bad(data))


def test_single_sample_predict_is_fine(name, data, fitted):
    assert fitted.predict(data[:1]).shape == (1,)
    assert fitted.transform(data[:1]).shape == (1, transform_width(fitted))


# -------------------------------------------------------------- parameter validation
@pytest.mark.parametrize(
    "param, value",
    [
        ("n_epochs", -1),
        ("latent_dim", 0),
        ("n_clusters", 0),
        ("batch_size", 0),
        ("lr", 0.0),
        ("encoder", "bogus"),
        ("decoder", "bogus"),
        ("likelihood", "bogus"),
    ],
)
def test_invalid_parameters_raise_invalid_parameter_error(name, data, param, value):
    est = tiny(name, **{param: value})
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter of {name}"):
        est.fit(data)
    assert issubclass(InvalidParameterError, ValueError)


def test_constructor_stores_params_verbatim(name):
    hidden = [16, 8]
    est = ESTIMATORS[name](hidden_dims=hidden, n_epochs=-5, encoder="bogus")  # fit validates
    assert est.hidden_dims is hidden
    assert est.n_epochs == -5
    assert est.encoder == "bogus"
    module = torch.nn.Linear(6, 4)
    assert ESTIMATORS[name](decoder=module).decoder is module


# ------------------------------------------------------------------ sklearn plumbing
def test_clone_get_params_set_params_round_trip(name, fitted):
    params = fitted.get_params()
    cloned = clone(fitted)
    assert cloned.get_params() == params
    assert not hasattr(cloned, "module_")
    cloned.set_params(latent_dim=3, n_epochs=1)
    assert cloned.get_params()["latent_dim"] == 3
    assert cloned.get_params()["n_epochs"] == 1
    cloned.set_params(**params)
    assert cloned.get_params() == params
    assert f"{name}(" in repr(cloned)


def test_set_params_then_refit_uses_new_values(name, data):
    est = tiny(name).fit(data)
    est.set_params(latent_dim=3, n_epochs=2)
    est.fit(data)
    assert est.module_.latent_dim == 3
    assert est.transform(data).shape == (data.shape[0], len(est.get_feature_names_out()))
    assert sum(h["phase"] == "train" for h in est.history_) == 2


def test_tags_say_clusterer_and_transformer(name, fitted):
    tags = fitted.__sklearn_tags__()
    assert is_clusterer(fitted)
    assert tags.estimator_type == "clusterer"
    assert tags.transformer_tags is not None
    assert tags.input_tags.allow_nan is False
    assert tags.non_deterministic is False


def test_feature_names_out_match_transform_width(name, data, fitted):
    names = fitted.get_feature_names_out()
    assert list(names) == [f"{name.lower()}{i}" for i in range(transform_width(fitted))]
    assert len(names) == fitted.transform(data).shape[1]


def test_set_output_pandas(name, data):
    est = tiny(name).set_output(transform="pandas").fit(data)
    out = est.transform(data)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(est.get_feature_names_out())
    assert out.shape == (data.shape[0], transform_width(est))


def test_dataframe_input_sets_feature_names_in(name, data, unseen, fitted):
    columns = [f"f{i}" for i in range(data.shape[1])]
    df = pd.DataFrame(data, columns=columns)
    est = tiny(name).fit(df)
    np.testing.assert_array_equal(est.feature_names_in_, columns)
    # The frame is read as its array: the same model as the fit on the array.
    np.testing.assert_array_equal(est.labels_, fitted.labels_)
    expected = fitted.predict(unseen)
    np.testing.assert_array_equal(est.predict(pd.DataFrame(unseen, columns=columns)), expected)
    # A plain array: same labels, with sklearn's usual warning.
    with pytest.warns(UserWarning, match="feature names"):
        np.testing.assert_array_equal(est.predict(unseen), expected)
    # Reordered columns are refused, not silently misread.
    with pytest.raises(ValueError, match="feature names"):
        est.predict(pd.DataFrame(data, columns=columns[::-1]))


# ---------------------------------------------------------------- divergence guard
def _train_with_sgd(monkeypatch):
    """Every phase trains by SGD, which a huge learning rate makes diverge (Adam's steps
    stay near ``lr`` whatever the gradient)."""
    make = _training.make_optimizer
    monkeypatch.setattr(
        _training,
        "make_optimizer",
        lambda params, config, device: make(params, replace(config, optimizer="sgd"), device),
    )


def test_diverging_training_raises_training_diverged_error(name, data, monkeypatch):
    _train_with_sgd(monkeypatch)
    est = tiny(name, lr=1e6)
    with pytest.raises(TrainingDivergedError, match=r"at epoch \d+") as info:
        est.fit(data * 1e6)
    assert isinstance(info.value, ValueError)
    # It names the learning-rate parameter of the phase that diverged.
    assert "parameter '" in str(info.value)
    assert "lr'" in str(info.value)


def test_failed_refit_keeps_the_previous_model(name, data, monkeypatch):
    est = tiny(name).fit(data)
    labels, module = est.labels_.copy(), est.module_
    history = [dict(r) for r in est.history_]
    _train_with_sgd(monkeypatch)
    with pytest.raises(TrainingDivergedError, match="Training diverged in phase"):
        est.set_params(lr=1e6).fit(data * 1e6)
    assert est.module_ is module
    assert est.history_ == history
    np.testing.assert_array_equal(est.predict(data), labels)


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt("interrupted by the test")


def test_interrupted_refit_keeps_the_previous_model(name, data, monkeypatch):
    est = tiny(name).fit(data)
    labels, Z = est.labels_.copy(), est.transform(data)
    before = dict(est.__dict__)
    monkeypatch.setattr(ESTIMATORS[name], "_fit_head", _interrupt)
    with pytest.raises(KeyboardInterrupt, match="interrupted by the test"):
        est.set_params(random_state=1).fit(data)
    assert est.__dict__.keys() == before.keys()
    changed = [k for k, v in before.items() if est.__dict__[k] is not v]
    assert changed == ["random_state"]  # set_params took effect; no fitted state changed
    np.testing.assert_array_equal(est.predict(data), labels)
    np.testing.assert_array_equal(est.transform(data), Z)


def test_interrupted_first_fit_leaves_an_unfitted_estimator(name, data, monkeypatch):
    est = tiny(name)
    monkeypatch.setattr(ESTIMATORS[name], "_fit_head", _interrupt)
    with pytest.raises(KeyboardInterrupt, match="interrupted by the test"):
        est.fit(data)
    assert not any(k.endswith("_") and not k.startswith("__") for k in vars(est))
    with pytest.raises(NotFittedError, match=f"This {name} instance is not fitted yet"):
        est.predict(data)


def test_nan_reconstruction_loss_raises_naming_the_epoch(name, data, monkeypatch):
    def nan_loss(self, output, x, reduction):
        return BaseDeepClusterer._reconstruction_loss(self, output, x, reduction) * float("nan")

    monkeypatch.setattr(ESTIMATORS[name], "_reconstruction_loss", nan_loss)
    with pytest.raises(TrainingDivergedError, match="at epoch 0"):
        tiny(name).fit(data)


# -------------------------------------------------------------------- persistence format
def test_pickle_records_the_library_version(name, fitted):
    import deepcluster_sk

    state = fitted.__getstate__()
    assert state["_deepcluster_sk_version"] == deepcluster_sk.__version__
    assert state["_deepcluster_sk_state_format"] == type(fitted)._STATE_FORMAT


def test_older_pickle_without_a_new_parameter_loads_with_its_default(name, data, fitted):
    """A pickle from before a parameter existed: the parameter takes its default, with a warning."""
    state = fitted.__getstate__()
    del state["precision"]
    state["_deepcluster_sk_version"] = "0.0.1"
    restored = object.__new__(type(fitted))
    with pytest.warns(UserWarning, match=r"deepcluster_sk 0\.0\.1.*\['precision'\]"):
        restored.__setstate__(state)
    assert restored.precision == "auto"
    assert restored.get_params()["precision"] == "auto"
    repr(restored)
    clone(restored)
    np.testing.assert_array_equal(restored.predict(data), fitted.labels_)


def test_read_only_input_gives_no_torch_warning(name, data, fitted):
    X = data.astype(np.float32)
    X.flags.writeable = False
    import warnings

    from deepcluster_sk import SmallDataWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", SmallDataWarning)  # 60 rows, 3 clusters
        labels = fitted.predict(X)
        tiny(name, n_epochs=1).fit(X)
    assert labels.dtype == np.int64


@pytest.mark.parametrize("device", ["mps", "xpu", "meta"])
def test_unsupported_device_types_are_a_clear_error(name, data, device):
    with pytest.raises(ValueError, match=f"device type '{device}' is not supported"):
        tiny(name, device=device).fit(data)


def test_labels_are_int64(name, data, fitted):
    assert fitted.labels_.dtype == np.int64
    assert fitted.predict(data).dtype == np.int64


# ------------------------------------------------------------------ n_clusters="auto"
@pytest.fixture(scope="module")
def fitted_auto(name, data):
    """One ``n_clusters="auto"`` fit per estimator on the three blobs."""
    return tiny(name, n_clusters="auto").fit(data)


def test_integer_n_clusters_is_the_fitted_count(name, fitted):
    assert fitted.n_clusters_ == 3
    assert fitted.n_clusters_candidates_ is None
    assert fitted.n_clusters_scores_ is None


def test_auto_chooses_the_count_and_keeps_its_curve(name, data, fitted_auto):
    est = fitted_auto
    assert est.get_params()["n_clusters"] == "auto"
    assert est.n_clusters_ == 3
    counts, scores = est.n_clusters_candidates_, est.n_clusters_scores_
    np.testing.assert_array_equal(counts, np.arange(2, data.shape[0] // 10 + 1))
    assert scores.shape == counts.shape and np.isfinite(scores).all()
    assert counts[np.argmax(scores)] == est.n_clusters_
    assert est.phase_seconds_["n_clusters"] > 0  # the choice is timed beside the phases
    assert set(np.unique(est.labels_)) <= set(range(est.n_clusters_))
    np.testing.assert_array_equal(est.predict(data), est.labels_)
    if hasattr(est, "predict_proba"):
        assert est.predict_proba(data).shape == (data.shape[0], est.n_clusters_)


def test_auto_fit_is_the_fit_with_the_chosen_count(name, data, fitted_auto):
    """The choice draws from its own copy of the seed: the rest of the fit is unchanged."""
    given = tiny(name, n_clusters=fitted_auto.n_clusters_).fit(data)
    np.testing.assert_array_equal(given.labels_, fitted_auto.labels_)
    np.testing.assert_array_equal(given.transform(data), fitted_auto.transform(data))


def test_auto_survives_clone_pickle_and_search(name, data, fitted_auto):
    assert clone(fitted_auto).get_params()["n_clusters"] == "auto"
    buffer = io.BytesIO()
    deepcluster_sk.save(fitted_auto, buffer)
    buffer.seek(0)
    for restored in (pickle.loads(pickle.dumps(fitted_auto)), deepcluster_sk.load(buffer)):
        assert restored.n_clusters_ == fitted_auto.n_clusters_
        np.testing.assert_array_equal(restored.n_clusters_scores_, fitted_auto.n_clusters_scores_)
        np.testing.assert_array_equal(restored.predict(data), fitted_auto.labels_)
    from sklearn.model_selection import GridSearchCV

    def found_three(est, X, y=None):
        return float(est.n_clusters_ == 3)

    search = GridSearchCV(
        tiny(name, n_epochs=1), {"n_clusters": ["auto", 2]}, cv=2, scoring=found_three
    ).fit(data)
    assert list(search.cv_results_["param_n_clusters"]) == ["auto", 2]
    assert search.best_params_ == {"n_clusters": "auto"}
    assert search.best_estimator_.get_params()["n_clusters"] == "auto"


def test_warm_auto_fit_keeps_the_count(name, data, fitted_auto):
    warm = clone(fitted_auto).set_params(warm_start=True, n_epochs=1)
    warm.fit(data)
    scores = warm.n_clusters_scores_
    warm.fit(data[::-1].copy())
    assert warm.n_clusters_scores_ is scores


def test_auto_on_too_few_samples_is_a_clear_error(name, data):
    with pytest.raises(ValueError, match='n_clusters="auto" needs at least 4 samples'):
        tiny(name, n_clusters="auto").fit(data[:3])
