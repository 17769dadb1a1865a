"""The ``precision`` parameter: resolution, bfloat16 training with float32 losses and inference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

import deepcluster_sk.nn.vade as dvae_module
from deepcluster_sk import _utils, all_estimators
from deepcluster_sk._base import BaseDeepClusterer
from deepcluster_sk._utils import resolve_precision

TINY = {
    "AEGMM": {"hidden_dims": (32,), "gmm_n_init": 2},
    "ConvAEKMeans": {"input_shape": "1d", "channels": (8,), "n_components": 2},
    "DVAEClusterer": {"hidden_dims": (32,), "pretrain_epochs": 30, "warmup_epochs": 5},
    "IDEC": {"hidden_dims": (32,), "joint_epochs": 10},
}
NAMES = [name for name, _ in all_estimators()]


def tiny(name, **params):
    settings = {
        "latent_dim": 2,
        "n_epochs": 20,
        "batch_size": 32,
        "device": "cpu",
        "random_state": 0,
        **TINY[name],
        **params,
    }
    return dict(all_estimators())[name](3, **settings)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(240, n_features=8, centers=3, cluster_std=0.5, random_state=0)
    X = (X - X.mean(0)) / X.std(0)
    return X.astype(np.float32), y


# ------------------------------------------------------------------------------ resolution
#: torch's CPU capability readings of the kinds of CPU the rule tells apart.
NO_BF16 = {"avx512_bf16": False, "amx_bf16": False}
AVX512_BF16 = {"avx512_bf16": True, "amx_bf16": False}  # e.g. AMD EPYC (Zen 4)
AMX = {"avx512_bf16": True, "amx_bf16": True}  # e.g. Intel Xeon (Sapphire Rapids)


def _cpu(monkeypatch, capability):
    monkeypatch.setattr(_utils, "cpu_capability", lambda: dict(capability))


@pytest.mark.parametrize(
    "capability, expected",
    [
        (NO_BF16, "float32"),
        # Measured (benchmarks/results/throughput.json): without AMX the convolutions train
        # in bfloat16 at float32's speed at batch 256 and faster at 1024, dense layers faster.
        (AVX512_BF16, "bfloat16"),
        (AMX, "bfloat16"),
        ({}, "float32"),  # a torch build that reports nothing
    ],
)
def test_auto_is_pinned_to_the_cpu_flags(monkeypatch, capability, expected):
    _cpu(monkeypatch, capability)
    assert resolve_precision("auto", torch.device("cpu")) == expected


@pytest.mark.parametrize("capability", [NO_BF16, AVX512_BF16, AMX])
def test_explicit_values_are_kept(monkeypatch, capability):
    _cpu(monkeypatch, capability)
    for value in ("float32", "bfloat16"):
        assert resolve_precision(value, torch.device("cpu")) == value


def test_capability_probe_returns_a_bool():
    assert isinstance(_utils.cpu_has_fast_bfloat16(), bool)
    flags = _utils.cpu_capability()
    assert all(isinstance(flags.get(name, False), bool) for name in ("avx512_bf16", "amx_bf16"))


@pytest.mark.parametrize("capability, expected", [(NO_BF16, "float32"), (AMX, "bfloat16")])
def test_resolved_precision_is_recorded_and_the_parameter_kept(
    blobs, monkeypatch, capability, expected
):
    _cpu(monkeypatch, capability)
    est = tiny("AEGMM", n_epochs=1).fit(blobs[0])
    assert est.precision == "auto"
    assert est._precision == expected


def test_invalid_precision_is_a_clear_error(blobs):
    with pytest.raises(ValueError, match="'precision' parameter"):
        tiny("AEGMM", precision="float16").fit(blobs[0])


# ------------------------------------------------------------------------ bfloat16 training
def _phase_losses(est):
    """``{phase: [loss of each epoch]}`` of a fitted estimator's history."""
    losses = {}
    for record in est.history_:
        losses.setdefault(record["phase"], []).append(record["loss"])
    return losses


@pytest.mark.parametrize("name", NAMES)
def test_bfloat16_runs_even_without_bfloat16_units_and_matches_float32(name, blobs, monkeypatch):
    """An explicit bfloat16 fit runs on any CPU and trains like the float32 fit.

    Every epoch's loss stays within 3% of the float32 fit's (0.4% at most measured) while the
    losses fall several-fold, so a bfloat16 step that trains less, or not at all, shows: with
    the weights themselves kept in bfloat16 (their updates rounded away) the autoencoder's
    losses drifted 10% from the float32 ones.
    """
    _cpu(monkeypatch, NO_BF16)
    X, y = blobs
    f32 = tiny(name, precision="float32").fit(X)
    bf16 = tiny(name, precision="bfloat16").fit(X)
    assert bf16._precision == "bfloat16"
    expected, losses = _phase_losses(f32), _phase_losses(bf16)
    assert list(losses) == list(expected)
    for phase in ("pretrain", "train"):
        if phase in expected:
            assert len(losses[phase]) == len(expected[phase])
            np.testing.assert_allclose(losses[phase], expected[phase], rtol=0.03, err_msg=phase)
    reconstruction = expected.get("pretrain", expected["train"])
    assert reconstruction[-1] < 0.5 * reconstruction[0]  # the losses do move
    assert adjusted_rand_score(y, bf16.labels_) >= 0.9
    # Inference is float32 and ignores the training precision.
    assert all(p.dtype == torch.float32 for p in bf16.module_.parameters())
    Z = bf16.transform(X)
    assert Z.dtype == np.float64 and np.isfinite(Z).all()


@pytest.mark.parametrize("name", NAMES)
def test_network_computes_in_bfloat16_while_losses_stay_float32(name, blobs, monkeypatch):
    seen = {"linear_out": set(), "rec_in": set(), "rec_out": set()}

    def record_linear(module, inputs, output):
        seen["linear_out"].add(output.dtype)

    original = BaseDeepClusterer._reconstruction_loss

    def checked_loss(self, output, x, reduction):
        seen["rec_in"].add(output.dtype)
        loss = original(self, output, x, reduction)
        seen["rec_out"].add(loss.dtype)
        return loss

    monkeypatch.setattr(BaseDeepClusterer, "_reconstruction_loss", checked_loss)
    handles = []
    original_build = type(tiny(name))._build_module

    def build_and_hook(self, X):
        module = original_build(self, X)
        for layer in module.encoder.modules():
            if isinstance(layer, (torch.nn.Linear, torch.nn.Conv2d)):
                handles.append(layer.register_forward_hook(record_linear))
        return module

    monkeypatch.setattr(type(tiny(name)), "_build_module", build_and_hook)
    if name == "DVAEClusterer":
        elbo, sim = dvae_module.negative_elbo_terms, dvae_module.wasserstein_similarity_loss

        def checked_elbo(*args):
            assert all(a.dtype == torch.float32 for a in args)
            out = elbo(*args)
            assert all(t.dtype == torch.float32 for t in out)
            return out

        def checked_sim(gamma, mu, logvar, **kwargs):
            assert gamma.dtype == mu.dtype == logvar.dtype == torch.float32
            out = sim(gamma, mu, logvar, **kwargs)
            assert out.dtype == torch.float32
            return out

        monkeypatch.setattr(dvae_module, "negative_elbo_terms", checked_elbo)
        monkeypatch.setattr(dvae_module, "wasserstein_similarity_loss", checked_sim)
    extra = {"pretrain_epochs": 2, "warmup_epochs": 0} if name == "DVAEClusterer" else {}
    tiny(name, precision="bfloat16", n_epochs=2, **extra).fit(blobs[0])
    for handle in handles:
        handle.remove()
    assert torch.bfloat16 in seen["linear_out"]  # training forward passes ran in bfloat16
    assert torch.float32 in seen["linear_out"]  # inference (codes for the head) in float32
    assert seen["rec_in"] == {torch.float32}
    assert seen["rec_out"] == {torch.float32}


@pytest.mark.parametrize("seed", range(5))
def test_bfloat16_digits_fit_has_no_nan(digits, seed):
    X, _ = digits
    est = dict(all_estimators())["AEGMM"](
        10,
        input_shape=(1, 8, 8),
        channels=(8, 16),
        n_epochs=2,
        precision="bfloat16",
        device="cpu",
        random_state=seed,
    ).fit(X[:400])
    assert all(np.isfinite(r["loss"]) for r in est.history_)
    assert np.isfinite(est.transform(X[:400])).all()


@pytest.mark.parametrize("supported, expected", [(True, "bfloat16"), (False, "float32")])
def test_auto_on_cuda_follows_the_gpus_bfloat16_support(monkeypatch, supported, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: supported)
    assert resolve_precision("auto", torch.device("cuda")) == expected


def _conv_gradients(layer, x):
    layer.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(x)
    out.float().square().sum().backward()
    return torch.cat([layer.weight.grad.flatten(), layer.bias.grad.flatten()])


@pytest.mark.parametrize(
    "transpose, width, expect_float32",
    [(False, 2, True), (False, 1, True), (False, 3, False), (True, 1, True), (True, 2, False)],
)
def test_one_pixel_wide_strided_convolutions_leave_bfloat16(transpose, width, expect_float32):
    """oneDNN's AMX bfloat16 kernels gave random (NaN) gradients on such maps.

    A stride-2 convolution of a 3 x ``width`` map outputs width 1 for ``width`` <= 2; a
    transposed one reads width 1. On an AMX CPU the plain layers failed these repeats in
    every such case; elsewhere they are exact either way, and the dtype check still pins
    the fallback.
    """
    from deepcluster_sk.nn.networks import _Conv2d, _ConvTranspose2d

    torch.manual_seed(0)
    cls = _ConvTranspose2d if transpose else _Conv2d
    layer = cls(64, 32, 3, stride=2, padding=1)
    x = torch.randn(30, 64, 3, width)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert (layer(x).dtype == torch.float32) is expect_float32
    first = _conv_gradients(layer, x)
    assert torch.isfinite(first).all()
    for _ in range(10):
        assert torch.equal(_conv_gradients(layer, x), first)


@pytest.mark.parametrize("seed", range(5))
def test_bfloat16_fit_on_three_columns_has_no_nan(seed):
    """sklearn's checks fit ConvAEKMeans on 3 columns: 1x3 images, a 1x1 map by block 3."""
    X = np.random.RandomState(seed).uniform(size=(30, 3)).astype(np.float32)
    est = dict(all_estimators())["ConvAEKMeans"](
        3, n_epochs=2, precision="bfloat16", device="cpu", random_state=seed
    ).fit(X)
    assert all(np.isfinite(r["loss"]) for r in est.history_)
