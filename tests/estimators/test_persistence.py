"""deepcluster_sk.save / load: a non-pickle format that gives identical predictions."""

from __future__ import annotations

import io
import json
import pickle
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import InconsistentVersionWarning, NotFittedError
from sklearn.mixture import BayesianGaussianMixture, GaussianMixture
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

import deepcluster_sk
from deepcluster_sk import AEGMM, ConvAEKMeans, DVAEClusterer, load, save
from deepcluster_sk._persistence import FORMAT_VERSION

N_FEATURES = 16  # a 4x4 image for the convolutional network

FACTORIES = {
    "AEGMM": lambda **kw: AEGMM(
        3, hidden_dims=(16,), latent_dim=2, n_epochs=2, random_state=0, device="cpu", **kw
    ),
    "ConvAEKMeans": lambda **kw: ConvAEKMeans(
        3, channels=(4,), n_components=2, n_epochs=2, random_state=0, device="cpu", **kw
    ),
    "DVAEClusterer": lambda **kw: DVAEClusterer(
        3,
        hidden_dims=(16,),
        latent_dim=2,
        pretrain_epochs=1,
        n_epochs=2,
        warmup_epochs=1,
        random_state=0,
        device="cpu",
        **kw,
    ),
}

#: Every inference method of each estimator, with its arguments.
METHODS = {
    "AEGMM": ["predict", "predict_proba", "transform", "reconstruct", "score", "score_samples"],
    "ConvAEKMeans": ["predict", "transform", "reconstruct", "score"],
    "DVAEClusterer": [
        "predict",
        "predict_proba",
        "transform",
        "reconstruct",
        "score",
        "score_samples",
    ],
}


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).rand(150, N_FEATURES).astype(np.float32)


@pytest.fixture(scope="module")
def fitted(X):
    """One fitted tiny estimator per class, shared by the tests (never mutated)."""
    return {name: make().fit(X) for name, make in FACTORIES.items()}


def _round_trip(est, **load_kw):
    buffer = io.BytesIO()
    save(est, buffer)
    return load(io.BytesIO(buffer.getvalue()), **load_kw), buffer.getvalue()


def _rewrite_manifest(data: bytes, edit) -> bytes:
    """Copy an archive, applying ``edit`` to its parsed manifest."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            content = src.read(name)
            if name == "manifest.json":
                manifest = json.loads(content)
                edit(manifest)
                content = json.dumps(manifest).encode()
            dst.writestr(name, content)
    return out.getvalue()


def _assert_same_fitted_state(a, b):
    assert type(a) is type(b)
    assert a.get_params() == b.get_params()
    assert sorted(vars(a)) == sorted(vars(b))
    for key in vars(a):
        if key in ("module_", "_device") or hasattr(getattr(a, key), "get_params"):
            continue  # compared through their outputs
        va, vb = getattr(a, key), getattr(b, key)
        if isinstance(va, np.ndarray):
            assert va.dtype == vb.dtype, key
            np.testing.assert_array_equal(va, vb, err_msg=key)
        else:
            assert va == vb, key
            assert type(va) is type(vb), key


# ------------------------------------------------------------------------ round trips
@pytest.mark.parametrize("name", list(FACTORIES))
def test_round_trip_gives_identical_outputs(name, fitted, X, tmp_path):
    est = fitted[name]
    path = tmp_path / "model.dcsk"
    save(est, path)
    restored = load(path)

    _assert_same_fitted_state(est, restored)
    # Tuples stay tuples (get_params equality alone would accept a list).
    assert type(restored.hidden_dims) is type(est.hidden_dims)  # a tuple, or "auto"
    assert isinstance(restored.channels, tuple)
    assert restored._device == torch.device("cpu")
    assert not restored.module_.training
    for method in METHODS[name]:
        expected, got = getattr(est, method)(X), getattr(restored, method)(X)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected), err_msg=method)
        assert np.asarray(got).dtype == np.asarray(expected).dtype, method
    np.testing.assert_array_equal(restored.labels_, est.predict(X))


def test_dvae_keeps_its_score_seed_and_sampling(fitted, X):
    est = fitted["DVAEClusterer"]
    restored, _ = _round_trip(est)
    assert restored._score_seed_ == est._score_seed_
    np.testing.assert_array_equal(
        restored.score_samples(X, n_mc_samples=3), est.score_samples(X, n_mc_samples=3)
    )
    for a, b in zip(est.sample(5, random_state=1), restored.sample(5, random_state=1), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(restored.init_labels_, est.init_labels_)
    assert restored.phase_seconds_ == est.phase_seconds_


def test_heads_are_rebuilt_with_their_fitted_arrays(fitted, X):
    est = fitted["ConvAEKMeans"]
    restored, _ = _round_trip(est)
    assert type(restored.pca_) is PCA and type(restored.kmeans_) is KMeans
    assert restored.kmeans_.get_params() == est.kmeans_.get_params()
    np.testing.assert_array_equal(restored.pca_.components_, est.pca_.components_)
    # An array held under two names is stored once and stays one array.
    assert restored.cluster_centers_ is restored.kmeans_.cluster_centers_
    # The manifold map is rebuilt from its two arrays.
    assert type(restored.manifold_) is type(est.manifold_)
    np.testing.assert_array_equal(restored.manifold_.embedding_, est.manifold_.embedding_)
    plain = _round_trip(FACTORIES["ConvAEKMeans"](manifold=None).fit(X))[0]
    assert plain.inverse_transform(plain.transform(X[:5])).shape == (5, N_FEATURES)
    gmm_est = fitted["AEGMM"]
    gmm = _round_trip(gmm_est)[0].gmm_
    assert type(gmm) is GaussianMixture
    np.testing.assert_array_equal(gmm.precisions_cholesky_, gmm_est.gmm_.precisions_cholesky_)
    assert gmm.converged_ == gmm_est.gmm_.converged_


def test_loaded_estimator_clones_and_refits(fitted, X):
    est = fitted["AEGMM"]
    restored, _ = _round_trip(est)
    assert clone(restored).get_params() == clone(est).get_params()
    np.testing.assert_array_equal(clone(restored).fit(X).labels_, clone(est).fit(X).labels_)


def test_feature_names_round_trip(X):
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(N_FEATURES)])
    est = FACTORIES["AEGMM"]().fit(frame)
    restored, _ = _round_trip(est)
    assert restored.feature_names_in_.dtype == object
    np.testing.assert_array_equal(restored.feature_names_in_, est.feature_names_in_)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X has feature names" warning
        np.testing.assert_array_equal(restored.predict(frame), est.predict(frame))


def test_torch_device_parameter_round_trips(X):
    est = FACTORIES["AEGMM"]().set_params(device=torch.device("cpu")).fit(X)
    restored, _ = _round_trip(est)
    assert restored.device == torch.device("cpu")
    assert isinstance(restored.device, torch.device)


def test_generic_attributes_are_discovered(fitted, X):
    """New fitted attributes are stored without code changes: values, heads, non-finite."""
    est = clone(fitted["AEGMM"]).fit(X)
    Z = est.transform(X)
    est.extra_heads_ = {
        "bgm": BayesianGaussianMixture(n_components=2, random_state=0).fit(Z),
        "mbk": MiniBatchKMeans(2, n_init=1, random_state=0).fit(Z),
        "scaler": StandardScaler().fit(Z),
    }
    est.weird_ = {
        1: (np.float32(0.5), np.int64(3), np.bool_(True)),
        "$type": "a user key that collides with the format's tag",
        "nan": float("nan"),
        "inf": [float("inf"), -float("inf")],
        "dtype": torch.bfloat16,
        "tensor": torch.arange(3.0),
    }
    est.history_[0]["loss"] = float("nan")
    buffer = io.BytesIO()
    save(est, buffer)
    manifest = zipfile.ZipFile(buffer).read("manifest.json")

    def reject(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    json.loads(manifest, parse_constant=reject)  # strict JSON: NaN is tagged
    restored = load(io.BytesIO(buffer.getvalue()))

    for key, head in est.extra_heads_.items():
        method = "transform" if key == "scaler" else "predict"
        np.testing.assert_array_equal(
            getattr(restored.extra_heads_[key], method)(Z), getattr(head, method)(Z)
        )
    weird = restored.weird_
    assert weird[1] == (np.float32(0.5), np.int64(3), np.bool_(True))
    assert [type(v) for v in weird[1]] == [np.float32, np.int64, np.bool_]
    assert weird["$type"] == est.weird_["$type"]
    assert np.isnan(weird["nan"]) and weird["inf"] == [float("inf"), -float("inf")]
    assert weird["dtype"] is torch.bfloat16
    assert torch.equal(weird["tensor"], torch.arange(3.0))
    assert np.isnan(restored.history_[0]["loss"])


# ------------------------------------------------------------------ no pickle anywhere
@pytest.mark.parametrize("name", list(FACTORIES))
def test_archive_members_load_without_pickle(name, fitted):
    _, data = _round_trip(fitted[name])
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert names[0] == "manifest.json" and "module_.pt" in names
    json.loads(archive.read("manifest.json"))
    for member in names[1:]:
        content = io.BytesIO(archive.read(member))
        if member.endswith(".npy"):
            np.load(content, allow_pickle=False)
        else:
            assert member.endswith(".pt"), member
            state = torch.load(content, weights_only=True, map_location="cpu")
            assert all(isinstance(v, torch.Tensor) for v in state.values())


def test_load_never_unpickles(fitted, X, monkeypatch):
    _, data = _round_trip(fitted["DVAEClusterer"])

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle was used")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    restored = load(io.BytesIO(data))
    np.testing.assert_array_equal(restored.predict(X), fitted["DVAEClusterer"].predict(X))


# ---------------------------------------------------------------------- devices
def test_gpu_trained_model_loads_on_the_cpu(fitted, X):
    """A model whose fit ran on CUDA: the device parameter is kept, inference runs on the CPU."""
    est = clone(fitted["AEGMM"]).fit(X)
    expected = est.predict_proba(X)
    est.set_params(device="cuda")
    est._device = torch.device("cuda")  # what a fit on a GPU leaves behind
    restored, data = _round_trip(est)
    assert restored.device == "cuda"
    assert restored._device == torch.device("cpu")
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    assert manifest["fitted_device"] == "cuda"
    assert all(p.device.type == "cpu" for p in restored.module_.parameters())
    np.testing.assert_array_equal(restored.predict_proba(X), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_round_trip(X):
    est = FACTORIES["AEGMM"]().set_params(device="cuda").fit(X)
    restored, _ = _round_trip(est)
    assert restored._device.type == "cpu"
    np.testing.assert_allclose(restored.predict_proba(X), est.predict_proba(X), atol=1e-5)
    on_gpu, _ = _round_trip(est, device="cuda")
    assert next(on_gpu.module_.parameters()).device.type == "cuda"
    np.testing.assert_array_equal(on_gpu.predict(X), est.predict(X))


# ------------------------------------------------------------------ refusals on save
def test_unfitted_estimator_is_refused(tmp_path):
    path = tmp_path / "model.dcsk"
    with pytest.raises(NotFittedError, match="AEGMM instance is not fitted yet"):
        save(FACTORIES["AEGMM"](), path)
    assert not path.exists()


def test_user_module_encoder_is_refused(X, tmp_path):
    encoder = torch.nn.Sequential(torch.nn.Linear(N_FEATURES, 8), torch.nn.ReLU())
    est = FACTORIES["AEGMM"](encoder=encoder).fit(X)
    path = tmp_path / "model.dcsk"
    with pytest.raises(TypeError, match=r"encoder=Sequential.*pickle"):
        save(est, path)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file left


def test_random_state_instance_is_refused(X):
    est = FACTORIES["AEGMM"]().set_params(random_state=np.random.RandomState(0)).fit(X)
    with pytest.raises(ValueError, match=r"random_state.*int seed"):
        save(est, io.BytesIO())


@pytest.mark.parametrize(
    "value",
    [object(), NearestNeighbors(n_neighbors=2), np.array([{}], dtype=object)],
    ids=["object", "unlisted-sklearn", "object-array"],
)
def test_unknown_attribute_type_is_refused_by_name(fitted, value):
    est = clone(fitted["AEGMM"])
    est.__dict__.update(fitted["AEGMM"].__dict__)
    est.head_ = value
    if isinstance(value, NearestNeighbors):
        value.fit(np.zeros((3, 2)))
    with pytest.raises(TypeError, match=r"head_.*pickle"):
        save(est, io.BytesIO())


def test_failed_save_leaves_an_existing_file_untouched(fitted, tmp_path):
    path = tmp_path / "model.dcsk"
    save(fitted["AEGMM"], path)
    before = path.read_bytes()
    est = clone(fitted["AEGMM"])
    est.__dict__.update(fitted["AEGMM"].__dict__)
    est.head_ = object()
    with pytest.raises(TypeError, match=r"Cannot save head_ of type builtins\.object"):
        save(est, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.dcsk"]


def test_class_outside_the_package_is_refused(fitted):
    class MyAEGMM(AEGMM):
        pass

    est = MyAEGMM(**fitted["AEGMM"].get_params())
    est.__dict__.update({k: v for k, v in vars(fitted["AEGMM"]).items() if k.endswith("_")})
    with pytest.raises(TypeError, match="pickle"):
        save(est, io.BytesIO())
    with pytest.raises(TypeError, match="pickle"):
        save(KMeans(2).fit(np.eye(3)), io.BytesIO())


# ------------------------------------------------------------------ refusals on load
@pytest.mark.parametrize(
    "name",
    [
        "os.system",
        "builtins.eval",
        "sklearn.cluster.KMeans",
        "deepcluster_sk._base.BaseDeepClusterer",
        "deepcluster_sk.__main__.main",
        "deepcluster_sk.all_estimators",
    ],
)
def test_tampered_class_name_is_refused(fitted, name):
    _, data = _round_trip(fitted["AEGMM"])
    tampered = _rewrite_manifest(data, lambda m: m.update(estimator=name))
    with pytest.raises(ValueError, match="not an estimator of deepcluster_sk"):
        load(io.BytesIO(tampered))


def test_tampered_sklearn_head_is_refused(fitted):
    _, data = _round_trip(fitted["AEGMM"])

    def edit(manifest):
        head = manifest["attributes"]["head_"]
        while "mixture_" not in head["state"]:  # down to the mixture inside the head(s)
            head = head["state"]["head_"]
        head["state"]["mixture_"]["class"] = "sklearn.neighbors.NearestNeighbors"

    with pytest.raises(ValueError, match="NearestNeighbors"):
        load(io.BytesIO(_rewrite_manifest(data, edit)))


def test_dunder_attribute_is_refused(fitted):
    _, data = _round_trip(fitted["AEGMM"])
    tampered = _rewrite_manifest(data, lambda m: m["attributes"].update(__dict__={}))
    with pytest.raises(ValueError, match="attribute name"):
        load(io.BytesIO(tampered))


def test_newer_format_version_is_refused(fitted):
    _, data = _round_trip(fitted["AEGMM"])
    tampered = _rewrite_manifest(data, lambda m: m.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(ValueError, match=r"newer.*upgrade"):
        load(io.BytesIO(tampered))


def test_not_an_archive_is_refused(tmp_path, fitted):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(fitted["AEGMM"]))
    with pytest.raises(ValueError, match=r"not a file written by deepcluster_sk\.save"):
        load(path)


def test_weights_that_do_not_fit_the_network_are_refused(fitted):
    _, data = _round_trip(fitted["AEGMM"])
    tampered = _rewrite_manifest(data, lambda m: m["params"].update(latent_dim=3))
    with pytest.raises(ValueError, match="do not fit the network"):
        load(io.BytesIO(tampered))


def test_older_file_without_a_new_parameter_loads_with_a_warning(fitted, X):
    _, data = _round_trip(fitted["AEGMM"])
    tampered = _rewrite_manifest(data, lambda m: m["params"].pop("precision"))
    with pytest.warns(UserWarning, match=r"no parameter\(s\) \['precision'\]"):
        restored = load(io.BytesIO(tampered))
    assert restored.precision == "auto"
    np.testing.assert_array_equal(restored.predict(X), fitted["AEGMM"].predict(X))


def test_parameter_unknown_to_this_version_is_refused(fitted):
    _, data = _round_trip(fitted["AEGMM"])
    tampered = _rewrite_manifest(data, lambda m: m["params"].update(future_knob=1))
    with pytest.raises(ValueError, match=r"future_knob.*upgrade"):
        load(io.BytesIO(tampered))


def test_other_sklearn_version_warns(fitted):
    _, data = _round_trip(fitted["AEGMM"])
    tampered = _rewrite_manifest(data, lambda m: m["versions"].update({"scikit-learn": "0.1"}))
    with pytest.warns(InconsistentVersionWarning, match="from version 0.1 when using version"):
        load(io.BytesIO(tampered))


def test_public_names():
    assert deepcluster_sk.save is save and deepcluster_sk.load is load
    assert {"save", "load"} <= set(deepcluster_sk.__all__)


def test_dvae_file_from_before_the_latent_scale_loads_with_unit_scale(fitted, monkeypatch):
    from deepcluster_sk import _codec

    est = fitted["DVAEClusterer"]
    assert est.latent_scale_ != 1.0
    buffer = io.BytesIO()
    save(est, buffer)
    original = _codec.Reader.read_weights

    def without_scale(self, name):
        weights = original(self, name)
        weights.pop("latent_scale", None)  # what a file written before the buffer holds
        return weights

    monkeypatch.setattr(_codec.Reader, "read_weights", without_scale)
    loaded = load(io.BytesIO(buffer.getvalue()))
    assert float(loaded.module_.latent_scale) == 1.0
