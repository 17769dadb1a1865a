"""The network parameters: built-in names, user torch modules, shape checks, the auto rule."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs
from torch import nn

from deepcluster_sk import AEGMM, IDEC, ConvAEKMeans, DVAEClusterer, all_estimators
from deepcluster_sk.nn import ConvEncoder

N_FEATURES = 12
LATENT = 3
TRAIN = {"n_epochs": 3, "batch_size": 16, "latent_dim": LATENT, "device": "cpu", "random_state": 0}
EXTRA = {
    "AEGMM": {},
    "ConvAEKMeans": {"n_components": LATENT},
    "DVAEClusterer": {"pretrain_epochs": 3, "warmup_epochs": 1},
    "IDEC": {"joint_epochs": 2, "kmeans_n_init": 2},
}


def _estimator(name, **params):
    cls = dict(all_estimators())[name]
    return cls(3, **{**TRAIN, **EXTRA[name], **params})


def mlp_pair(n_features=N_FEATURES, width=16, latent=LATENT):
    encoder = nn.Sequential(nn.Linear(n_features, width), nn.Tanh())
    decoder = nn.Sequential(nn.Linear(latent, width), nn.Tanh(), nn.Linear(width, n_features))
    return encoder, decoder


def conv_pair(latent=LATENT):
    """A small convolutional pair for 1x8x8 images: (n, 1, 8, 8) -> (n, 64) -> (n, 1, 8, 8)."""
    encoder = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten())
    decoder = nn.Sequential(
        nn.Linear(latent, 64),
        nn.ReLU(),
        nn.Unflatten(1, (4, 4, 4)),
        nn.ConvTranspose2d(4, 1, 4, stride=2, padding=1),
    )
    return encoder, decoder


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(90, n_features=N_FEATURES, centers=3, random_state=0)
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def images(digits):
    X, y = digits
    return X[:120], y[:120]


def _state(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def _assert_same_state(before, module):
    after = module.state_dict()
    assert before.keys() == after.keys()
    for key, value in before.items():
        torch.testing.assert_close(after[key], value, rtol=0, atol=0)


def _exercise(est, X):
    """fit/predict/transform/predict_proba/score/pickle on a fitted estimator."""
    labels = est.fit(X).labels_
    assert labels.shape == (X.shape[0],)
    np.testing.assert_array_equal(est.predict(X), labels)
    Z = est.transform(X)
    assert Z.shape[0] == X.shape[0] and np.isfinite(Z).all()
    if hasattr(est, "predict_proba"):
        proba = est.predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert np.isfinite(est.score(X))
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict(X), labels)
    np.testing.assert_allclose(restored.transform(X), Z)


@pytest.mark.parametrize("name", [n for n, _ in all_estimators()])
def test_user_mlp_pair_works_and_is_never_mutated(name, blobs):
    X, _ = blobs
    encoder, decoder = mlp_pair()
    enc_state, dec_state = _state(encoder), _state(decoder)
    est = _estimator(name, encoder=encoder, decoder=decoder)
    _exercise(est, X)
    _assert_same_state(enc_state, encoder)
    _assert_same_state(dec_state, decoder)
    # The fitted network holds copies: training changed them, not the caller's modules.
    assert est.module_.encoder is not encoder and est.module_.decoder is not decoder
    assert est.get_params()["encoder"] is encoder  # the parameter is stored verbatim
    assert est.module_.head.in_features == 16  # h found by the dry forward pass


@pytest.mark.parametrize("name", [n for n, _ in all_estimators()])
def test_user_conv_pair_on_images(name, images):
    X, _ = images
    encoder, decoder = conv_pair()
    enc_state = _state(encoder)
    est = _estimator(name, encoder=encoder, decoder=decoder, input_shape=(1, 8, 8))
    _exercise(est, X)
    _assert_same_state(enc_state, encoder)
    assert est.module_.head.in_features == 64
    assert est.reconstruct(X[:4]).shape == (4, 64)


@pytest.mark.parametrize("name", [n for n, _ in all_estimators()])
def test_user_encoder_with_builtin_decoder(name, blobs):
    X, _ = blobs
    encoder, _ = mlp_pair()
    est = _estimator(name, encoder=encoder, decoder="dense", hidden_dims=(8,)).fit(X)
    assert isinstance(est.module_.decoder, nn.Sequential)
    assert est.reconstruct(X[:2]).shape == (2, N_FEATURES)


def test_clone_does_not_share_weights(blobs):
    X, _ = blobs
    encoder, decoder = mlp_pair()
    est = _estimator("AEGMM", encoder=encoder, decoder=decoder).fit(X)
    twin = clone(est)
    assert not hasattr(twin, "module_")
    twin.fit(X)
    fitted_ptrs = {p.data_ptr() for p in est.module_.parameters()}
    assert fitted_ptrs.isdisjoint(p.data_ptr() for p in twin.module_.parameters())
    np.testing.assert_array_equal(twin.labels_, est.labels_)  # same seed, same copy of weights


class _ThreeD(nn.Module):
    def forward(self, x):
        return x.reshape(x.shape[0], 3, -1)


@pytest.mark.parametrize("name", [n for n, _ in all_estimators()])
def test_encoder_with_wrong_output_shape_is_a_clear_error(name, blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match=r"encoder=_ThreeD returned shape \(2, 3, 4\).*\(2, h\)"):
        _estimator(name, encoder=_ThreeD()).fit(X)


def test_encoder_that_cannot_take_the_input_is_a_clear_error(blobs):
    X, _ = blobs
    encoder = nn.Linear(5, 4)  # expects 5 features, gets 12
    with pytest.raises(ValueError, match=r"encoder=Linear failed on a batch of shape \(2, 12\)"):
        _estimator("AEGMM", encoder=encoder).fit(X)


@pytest.mark.parametrize("name", [n for n, _ in all_estimators()])
def test_decoder_with_wrong_output_shape_is_a_clear_error(name, blobs):
    X, _ = blobs
    decoder = nn.Linear(LATENT, N_FEATURES + 1)
    message = (
        r"decoder=Linear returned shape \(2, 13\) for codes of shape \(2, 3\); expected \(2, 12\)"
    )
    with pytest.raises(ValueError, match=message):
        _estimator(name, encoder="dense", hidden_dims=(8,), decoder=decoder).fit(X)


def test_image_decoder_output_may_be_image_shaped(images):
    X, _ = images
    _, decoder = conv_pair()
    est = _estimator("AEGMM", encoder="conv", channels=(4,), decoder=decoder, input_shape=(1, 8, 8))
    assert est.fit(X).reconstruct(X[:3]).shape == (3, 64)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"hidden_dims": (8, 0)}, "hidden_dims must hold positive integers"),
        ({"hidden_dims": (-5,)}, "hidden_dims must hold positive integers"),
        ({"encoder": "conv", "input_shape": "1d", "channels": ()}, "channels must hold at least"),
        ({"encoder": "conv", "input_shape": "1d", "channels": (0,)}, "channels must hold positive"),
    ],
)
def test_network_sizes_are_validated(blobs, params, message):
    X, _ = blobs
    with pytest.raises(ValueError, match=message):
        _estimator("AEGMM", **params).fit(X)


# --------------------------------------------------------------------------- the auto rule
@pytest.mark.parametrize("name", ["AEGMM", "DVAEClusterer"])
def test_auto_encoder_is_conv_for_images_and_dense_for_rows(name, blobs, images):
    """Images whose feature map survives the conv blocks get the conv network."""
    on_rows = _estimator(name, hidden_dims=(8,)).fit(blobs[0])
    assert on_rows.encoder == "auto"
    assert isinstance(on_rows.module_.encoder, nn.Sequential)
    assert on_rows.input_shape_ is None
    on_images = _estimator(name, channels=(4,), input_shape=(1, 8, 8)).fit(images[0])
    assert isinstance(on_images.module_.encoder, ConvEncoder)
    assert on_images.input_shape_ == (1, 8, 8)
    # The default three blocks would shrink 8x8 to 1x1: the dense network instead.
    tiny_images = _estimator(name, hidden_dims=(8,), input_shape=(1, 8, 8)).fit(images[0])
    assert isinstance(tiny_images.module_.encoder, nn.Sequential)
    assert tiny_images.input_shape_ is None


def test_conv_aekmeans_default_encoder_is_conv(images):
    est = _estimator("ConvAEKMeans", channels=(4,)).fit(images[0])  # square rows: 8x8 inferred
    assert isinstance(est.module_.encoder, ConvEncoder)
    assert est.input_shape_ == (1, 8, 8)


@pytest.mark.parametrize("name", ["AEGMM", "DVAEClusterer", "ConvAEKMeans"])
def test_hidden_dims_auto_builds_the_resolved_network(name, blobs):
    X, _ = blobs  # 12 columns: the small network
    est = _estimator(name, encoder="dense", n_epochs=1)
    assert est.hidden_dims == "auto"  # the default, stored verbatim
    est.fit(X)
    widths = [m.out_features for m in est.module_.encoder if isinstance(m, nn.Linear)]
    assert widths == [64]
    assert est.get_params()["hidden_dims"] == "auto"
    wide = _estimator(name, encoder="dense", n_epochs=1).fit(np.tile(X, (1, 6)))  # 72 columns
    widths = [m.out_features for m in wide.module_.encoder if isinstance(m, nn.Linear)]
    assert widths == [500, 500, 2000]


def test_hidden_dims_rejects_other_strings(blobs):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="hidden_dims"):
        _estimator("AEGMM", hidden_dims="wide").fit(blobs[0])


def test_estimators_never_import_each_other():
    import ast
    from pathlib import Path

    import deepcluster_sk

    package = Path(deepcluster_sk.__file__).parent
    modules = {"_aegmm", "_conv_ae_kmeans", "_dvae"}
    for name in modules:
        tree = ast.parse((package / f"{name}.py").read_text())
        imported = {
            node.module.lstrip(".").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert not imported & (modules - {name}), name


def test_all_estimators_lists_the_public_classes():
    assert all_estimators() == [
        ("AEGMM", AEGMM),
        ("ConvAEKMeans", ConvAEKMeans),
        ("DVAEClusterer", DVAEClusterer),
        ("IDEC", IDEC),
    ]
