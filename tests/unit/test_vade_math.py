"""Property tests of the GMM-prior VAE maths (deepcluster_sk.nn.vade), DVAE spec §1.3 and §6.

Every comparison runs in float64 against an independent numpy (or scikit-learn) formula.
Shapes are small (N ≤ 12, J ≤ 5, C ≤ 5), means lie in [-20, 20] and log-variances in [-8, 8].
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import expit, logsumexp, softmax
from sklearn.mixture import GaussianMixture
from torch import nn

from deepcluster_sk import DVAEClusterer
from deepcluster_sk._networks import build_vae
from deepcluster_sk._training import FitConfig
from deepcluster_sk.nn import LOGVAR_CLAMP, reconstruction_loss
from deepcluster_sk.nn.vade import (
    component_kl,
    gmm_log_posterior,
    negative_elbo_terms,
)

FAST = settings(max_examples=40, deadline=None)
VALUE = (-20.0, 20.0)
LOGVAR = (-8.0, 8.0)


def _floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=64)


def _array(draw, shape, lo, hi):
    return draw(arrays(np.float64, shape, elements=_floats(lo, hi)))


def _t(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


@st.composite
def problems(draw, min_c=1, max_n=12, max_j=5, max_c=5):
    """A batch (mu, logvar, logits) and a prior (log_pi, mu_c, logvar_c), float64 numpy."""
    n = draw(st.integers(1, max_n))
    j = draw(st.integers(1, max_j))
    c = draw(st.integers(min_c, max_c))
    mu = _array(draw, (n, j), *VALUE)
    logvar = _array(draw, (n, j), *LOGVAR)
    logits = _array(draw, (n, c), *VALUE)
    pi_logits = _array(draw, (c,), -5.0, 5.0)
    log_pi = pi_logits - logsumexp(pi_logits)
    mu_c = _array(draw, (c, j), *VALUE)
    logvar_c = _array(draw, (c, j), *LOGVAR)
    return {
        "mu": mu,
        "logvar": logvar,
        "logits": logits,
        "log_pi": log_pi,
        "mu_c": mu_c,
        "logvar_c": logvar_c,
    }


def _kl_numpy(mu, logvar, mu_c, logvar_c):
    """KL(N(mu, var) || N(mu_c, var_c)) for every (sample, component), written independently."""
    var = np.exp(logvar)[:, None, :]
    var_c = np.exp(logvar_c)[None, :, :]
    diff = mu[:, None, :] - mu_c[None, :, :]
    return 0.5 * (np.log(var_c / var) + (var + diff**2) / var_c - 1.0).sum(-1)


def _log_joint_numpy(z, log_pi, mu_c, logvar_c):
    """log pi_c + log N(z; mu_c, var_c), per (sample, component)."""
    var_c = np.exp(logvar_c)
    diff = z[:, None, :] - mu_c[None, :, :]
    log_n = -0.5 * (np.log(2 * np.pi * var_c)[None] + diff**2 / var_c[None]).sum(-1)
    return log_pi[None, :] + log_n


def _regulariser(p, log_gamma):
    l_z, l_c = negative_elbo_terms(
        _t(p["mu"]),
        _t(p["logvar"]),
        _t(log_gamma),
        _t(p["log_pi"]),
        _t(p["mu_c"]),
        _t(p["logvar_c"]),
    )
    return l_z.numpy(), l_c.numpy()


# --------------------------------------------------------------------------------------------------
# 1. gamma rows are probability vectors (spec §6.1)
# --------------------------------------------------------------------------------------------------
def _classifier_logits_numpy(classifier, z):
    """The classifier's logits, from its weights: ``Linear`` or ``Linear-ReLU-Linear``."""
    layers = [classifier] if isinstance(classifier, nn.Linear) else list(classifier)
    out = z
    for layer in layers:
        if isinstance(layer, nn.Linear):
            w = layer.weight.detach().double().numpy()
            out = out @ w.T + layer.bias.detach().double().numpy()
        else:
            out = np.maximum(out, 0.0)
    return out


@FAST
@given(problems(), st.sampled_from([1.0, 50.0, 1e3]))
def test_classifier_probabilities_rows_sum_to_one(p, scale):
    """The estimator's q(c | z) (``_log_proba_latent``, behind predict and predict_proba)
    is the log-softmax of the classifier's logits, finite and normalised even for large
    logits, for the two-layer (C < 10) and the linear (C = 10) classifier."""
    j = p["mu"].shape[1]
    c = p["log_pi"].shape[0]
    z = p["mu"] / 20.0 * scale  # |z| up to 1e3
    torch.manual_seed(0)
    for n_clusters in (c, 10):
        est = DVAEClusterer(n_clusters)
        est.module_ = _vae(3, n_clusters, (), j)
        with torch.no_grad():
            for layer in est.module_.classifier.modules():
                if isinstance(layer, nn.Linear):
                    layer.weight.normal_(0.0, 3.0)  # far from the small init: large logits
                    layer.bias.normal_(0.0, 3.0)
        log_gamma = est._log_proba_latent(z)
        assert log_gamma.shape == (z.shape[0], n_clusters)
        assert np.isfinite(log_gamma).all()
        expected = _classifier_logits_numpy(est.module_.classifier, z)
        expected = expected - logsumexp(expected, axis=1, keepdims=True)
        np.testing.assert_allclose(log_gamma, expected, rtol=1e-9, atol=1e-9)
        gamma = np.exp(log_gamma)
        assert (gamma >= 0).all()
        np.testing.assert_allclose(gamma.sum(1), 1.0, atol=1e-6)


@FAST
@given(problems(), st.sampled_from([1.0, 50.0, 1e3]))
def test_gmm_posterior_rows_sum_to_one_and_match_reference(p, scale):
    z = p["mu"] / 20.0 * scale  # |z| up to 1e3
    log_post = gmm_log_posterior(_t(z), _t(p["log_pi"]), _t(p["mu_c"]), _t(p["logvar_c"]))
    post = log_post.exp().numpy()
    assert np.isfinite(post).all()
    assert (post >= 0).all()
    np.testing.assert_allclose(post.sum(1), 1.0, atol=1e-6)
    log_joint = _log_joint_numpy(z, p["log_pi"], p["mu_c"], p["logvar_c"])
    np.testing.assert_allclose(post, softmax(log_joint, axis=1), atol=1e-6)
    # Not a uniform fallback: where the best component wins by a wide margin, it takes it all.
    top2 = np.sort(log_joint, axis=1)[:, -2:] if log_joint.shape[1] > 1 else None
    if top2 is not None:
        decisive = top2[:, 1] - top2[:, 0] > 30.0
        assert (post[decisive].max(1) > 1.0 - 1e-9).all()
        assert (post[decisive].argmax(1) == log_joint[decisive].argmax(1)).all()


@FAST
@given(problems(min_c=2), st.sampled_from([torch.float32, torch.float64]))
def test_gmm_posterior_far_from_components_is_one_hot(p, dtype):
    """At |z| = 1e3 the likelihoods differ by orders of magnitude: no underflow to uniform."""
    direction = np.sign(p["mu"][:1]) + (p["mu"][:1] == 0)  # a corner direction, (1, J)
    z = 1e3 * direction
    log_joint = _log_joint_numpy(z, p["log_pi"], p["mu_c"], p["logvar_c"])[0]
    top2 = np.sort(log_joint)[-2:]
    assume(top2[1] - top2[0] > 40.0)  # a unique most likely component
    post = gmm_log_posterior(
        torch.as_tensor(z, dtype=dtype),
        torch.as_tensor(p["log_pi"], dtype=dtype),
        torch.as_tensor(p["mu_c"], dtype=dtype),
        torch.as_tensor(p["logvar_c"], dtype=dtype),
    )
    post = post.exp().double().numpy()[0]
    assert np.isfinite(post).all()
    np.testing.assert_allclose(post.sum(), 1.0, atol=1e-6)
    assert post.argmax() == log_joint.argmax()
    assert post.max() > 1.0 - 1e-6


def test_gmm_posterior_far_point_hand_example():
    """z far on the +x side belongs to the component at +5 (float32, as in training)."""
    mu_c = torch.tensor([[-5.0, 0.0], [0.0, 0.0], [5.0, 0.0]])
    logvar_c = torch.zeros(3, 2)
    log_pi = torch.log(torch.tensor([0.8, 0.15, 0.05]))
    z = torch.tensor([[1e3, 0.0], [-1e3, 0.0]])
    post = gmm_log_posterior(z, log_pi, mu_c, logvar_c).exp()
    torch.testing.assert_close(post, torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]))


# --------------------------------------------------------------------------------------------------
# 2. GMM posterior equals scikit-learn's (spec §6.2)
# --------------------------------------------------------------------------------------------------
@FAST
@given(problems())
def test_gmm_posterior_matches_sklearn(p):
    c, j = p["mu_c"].shape
    var_c = np.exp(p["logvar_c"])
    gmm = GaussianMixture(n_components=c, covariance_type="diag")
    gmm.weights_ = np.exp(p["log_pi"])
    gmm.means_ = p["mu_c"]
    gmm.covariances_ = var_c
    gmm.precisions_cholesky_ = 1.0 / np.sqrt(var_c)
    gmm.n_features_in_ = j
    z = p["mu"]
    expected = gmm.predict_proba(z)
    ours = gmm_log_posterior(_t(z), _t(p["log_pi"]), _t(p["mu_c"]), _t(p["logvar_c"])).exp()
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-6)


# --------------------------------------------------------------------------------------------------
# 3. C = 1 with a standard-normal component is the VAE (spec §6.3)
# --------------------------------------------------------------------------------------------------
@FAST
@given(problems())
def test_single_unit_component_reduces_to_vae_kl(p):
    n, j = p["mu"].shape
    mu, logvar = p["mu"], p["logvar"]
    l_z, l_c = negative_elbo_terms(
        _t(mu),
        _t(logvar),
        torch.zeros(n, 1, dtype=torch.float64),
        torch.zeros(1, dtype=torch.float64),
        torch.zeros(1, j, dtype=torch.float64),
        torch.zeros(1, j, dtype=torch.float64),
    )
    expected = 0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar).sum(1)
    assert (l_c.numpy() == 0.0).all()
    np.testing.assert_allclose(l_z.numpy(), expected, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------------------------------
# 4. The regulariser l_z + l_c (spec §6.4)
# --------------------------------------------------------------------------------------------------
def _log_softmax(logits):
    return logits - logsumexp(logits, axis=1, keepdims=True)


@FAST
@given(problems())
def test_regulariser_is_non_negative(p):
    l_z, l_c = _regulariser(p, _log_softmax(p["logits"]))
    total = l_z + l_c
    assert np.isfinite(total).all()
    assert (l_c >= -1e-12).all()  # KL(gamma || pi)
    assert (total >= -1e-9 * np.maximum(1.0, l_z)).all()


@FAST
@given(problems())
def test_regulariser_is_zero_when_posterior_equals_every_component(p):
    n = p["mu"].shape[0]
    c = p["log_pi"].shape[0]
    m, v = p["mu"][0], p["logvar"][0]
    q = dict(p)
    q["mu"], q["logvar"] = np.tile(m, (n, 1)), np.tile(v, (n, 1))
    q["mu_c"], q["logvar_c"] = np.tile(m, (c, 1)), np.tile(v, (c, 1))
    l_z, l_c = _regulariser(q, np.tile(p["log_pi"], (n, 1)))  # gamma = pi
    np.testing.assert_allclose(l_z + l_c, 0.0, atol=1e-10)


@FAST
@given(problems(), st.data())
def test_regulariser_invariant_to_joint_component_permutation(p, data):
    c = p["log_pi"].shape[0]
    perm = np.array(data.draw(st.permutations(range(c))))
    log_gamma = _log_softmax(p["logits"])
    l_z, l_c = _regulariser(p, log_gamma)
    q = dict(p)
    q["log_pi"], q["mu_c"], q["logvar_c"] = p["log_pi"][perm], p["mu_c"][perm], p["logvar_c"][perm]
    l_z2, l_c2 = _regulariser(q, log_gamma[:, perm])
    np.testing.assert_allclose(l_z2, l_z, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(l_c2, l_c, rtol=1e-12, atol=1e-9)


# --------------------------------------------------------------------------------------------------
# 5. The optimal gamma is the GMM-posterior-like softmax (spec §1.3 "useful fact", §6.5)
# --------------------------------------------------------------------------------------------------
@FAST
@given(problems())
def test_optimal_gamma_attains_the_lower_bound(p):
    kl = component_kl(_t(p["mu"]), _t(p["logvar"]), _t(p["mu_c"]), _t(p["logvar_c"])).numpy()
    a = p["log_pi"][None, :] - kl
    bound = -logsumexp(a, axis=1)
    tol = 1e-9 * np.maximum(1.0, np.abs(kl).max(1))

    l_z, l_c = _regulariser(p, _log_softmax(p["logits"]))  # any gamma on the simplex
    assert (l_z + l_c >= bound - tol).all()

    l_z, l_c = _regulariser(p, _log_softmax(a))  # gamma* = softmax(log pi - KL)
    np.testing.assert_allclose(l_z + l_c, bound, rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------------------------------
# 6. component_kl (spec §1.3)
# --------------------------------------------------------------------------------------------------
@FAST
@given(problems())
def test_component_kl_matches_numpy_closed_form(p):
    ours = component_kl(_t(p["mu"]), _t(p["logvar"]), _t(p["mu_c"]), _t(p["logvar_c"])).numpy()
    expected = _kl_numpy(p["mu"], p["logvar"], p["mu_c"], p["logvar_c"])
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-8)
    assert (ours >= -1e-9).all()


@FAST
@given(problems())
def test_component_kl_is_zero_between_equal_gaussians(p):
    mu, logvar = _t(p["mu"]), _t(p["logvar"])
    kl = component_kl(mu, logvar, mu, logvar).numpy()
    np.testing.assert_allclose(np.diag(kl), 0.0, atol=1e-10)


# --------------------------------------------------------------------------------------------------
# 7. Reconstruction likelihoods (spec §1.3, §6.11)
# --------------------------------------------------------------------------------------------------
@FAST
@given(st.data())
def test_bernoulli_nll_matches_cross_entropy(data):
    n, d = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 8))
    logits = _array(data.draw, (n, d), *VALUE)
    x = _array(data.draw, (n, d), 0.0, 1.0)
    ours = reconstruction_loss(_t(logits), _t(x), "bernoulli", "none").numpy()
    # 1 - sigmoid(l) is written sigmoid(-l): the same number, without cancellation near 1.
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = x * np.log(expit(logits)) + (1.0 - x) * np.log(expit(-logits))
    expected = -terms.sum(1)
    finite = np.isfinite(expected)
    assert ours.shape == (n,)
    np.testing.assert_allclose(ours[finite], expected[finite], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("logit", [1e4, -1e4])
@pytest.mark.parametrize("target", [0.0, 0.3, 1.0])
def test_bernoulli_nll_is_finite_for_huge_logits(logit, target):
    for dtype in (torch.float32, torch.float64):
        out = torch.full((2, 3), logit, dtype=dtype)
        x = torch.full((2, 3), target, dtype=dtype)
        nll = reconstruction_loss(out, x, "bernoulli", "none")
        assert torch.isfinite(nll).all()
        # softplus(l) - x l is exactly (1 - x) l for l >> 0 and -x l for l << 0.
        per_pixel = (1.0 - target) * logit if logit > 0 else -target * logit
        torch.testing.assert_close(nll, torch.full((2,), 3 * per_pixel, dtype=dtype))


@FAST
@given(st.data())
def test_gaussian_nll_matches_numpy_formula(data):
    n, d = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 8))
    out = _array(data.draw, (n, d), *VALUE)
    x = _array(data.draw, (n, d), *VALUE)
    variance = data.draw(_floats(0.01, 10.0))
    ours = reconstruction_loss(_t(out), _t(x), "gaussian", "none", variance).numpy()
    expected = ((x - out) ** 2).sum(1) / (2 * variance) + 0.5 * d * np.log(2 * np.pi * variance)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-10)


def test_gaussian_nll_default_variance_is_half():
    x = torch.zeros(1, 4, dtype=torch.float64)
    out = torch.ones(1, 4, dtype=torch.float64)
    expected = 4.0 + 2.0 * np.log(np.pi)  # sse / (2 * 0.5) + (D / 2) log(2 pi 0.5)
    torch.testing.assert_close(
        reconstruction_loss(out, x, "gaussian", "none"),
        torch.tensor([expected], dtype=torch.float64),
    )


# --------------------------------------------------------------------------------------------------
# 8. GMMPriorVAE structure (spec A2, §3)
# --------------------------------------------------------------------------------------------------
def test_classifier_is_single_linear_for_ten_clusters():
    module = _vae(64, 10, (32,), 6)
    assert isinstance(module.classifier, nn.Linear)
    assert (module.classifier.in_features, module.classifier.out_features) == (6, 10)


def test_classifier_is_two_layer_below_ten_clusters():
    module = _vae(64, 4, (32,), 6)
    layers = list(module.classifier)
    assert [type(m) for m in layers] == [nn.Linear, nn.ReLU, nn.Linear]
    assert (layers[0].in_features, layers[0].out_features) == (6, 4)
    assert (layers[2].in_features, layers[2].out_features) == (4, 4)


@pytest.mark.parametrize("n_clusters", [3, 10])
def test_classifier_small_init(n_clusters):
    torch.manual_seed(0)
    module = _vae(64, n_clusters, (32,), 6)
    for layer in module.classifier.modules():
        if isinstance(layer, nn.Linear):
            assert layer.weight.abs().max() < 0.06  # N(0, 0.01²)
            assert (layer.bias == 0).all()


@pytest.mark.parametrize("bias", [-100.0, 100.0])
def test_encode_full_clamps_logvar(bias):
    module = _vae(5, 3, (8,), 2)
    with torch.no_grad():
        module.logvar_head.bias.fill_(bias)
    mu, logvar = module.encode_full(torch.rand(4, 5))
    assert mu.shape == logvar.shape == (4, 2)
    expected = LOGVAR_CLAMP[1] if bias > 0 else LOGVAR_CLAMP[0]
    assert LOGVAR_CLAMP == (-10.0, 10.0)
    assert (logvar == expected).all()
    with torch.no_grad():
        module.prior.logvar_c.fill_(-50.0)
    assert (module.prior.logvar() == -10.0).all()


@pytest.mark.parametrize("hidden_dims", [(8,), (8, 6), ()])
def test_autoencoder_parameters_exclude_classifier_logvar_head_and_prior(hidden_dims):
    module = _vae(5, 3, hidden_dims, 2)
    ae = {id(p) for p in module.autoencoder_parameters()}
    excluded = [
        *module.classifier.parameters(),
        *module.logvar_head.parameters(),
        *module.prior_parameters(),
    ]
    assert not ae & {id(p) for p in excluded}
    included = [*module.encoder.parameters(), *module.head.parameters()]
    included += list(module.decoder.parameters())
    assert ae == {id(p) for p in included}
    assert ae | {id(p) for p in excluded} == {id(p) for p in module.parameters()}


def test_module_shapes_and_log_pi():
    module = _vae(7, 4, (8,), 3)
    x = torch.rand(5, 7)
    assert module.encode(x).shape == (5, 3)
    assert module(x).shape == (5, 7)
    assert module.prior.mu_c.shape == module.prior.logvar_c.shape == (4, 3)
    torch.testing.assert_close(module.prior.log_pi().exp().sum(), torch.tensor(1.0))


def test_rescaled_latent_keeps_every_reconstruction():
    module = _vae(7, 3, (8,), 2)
    x = torch.rand(5, 7)
    with torch.no_grad():
        module.logvar_head.bias.fill_(-1.0)
        before_out, before_code = module(x), module.encode(x)
        before_mu, before_logvar = module.encode_full(x)
        module.rescale_latent(7.0)
        torch.testing.assert_close(module(x), before_out)
        torch.testing.assert_close(module.encode(x), 7.0 * before_code)
        mu, logvar = module.encode_full(x)
    torch.testing.assert_close(mu, 7.0 * before_mu)
    torch.testing.assert_close(logvar, before_logvar)
    assert "latent_scale" in module.state_dict()


def test_module_pickled_before_the_latent_scale_loads_with_unit_scale():
    import pickle

    module = _vae(7, 3, (8,), 2)
    del module._buffers["latent_scale"]  # the state of a module from an older version
    restored = pickle.loads(pickle.dumps(module))
    assert float(restored.latent_scale) == 1.0
    x = torch.rand(4, 7)
    torch.testing.assert_close(restored(x), restored.decode(restored.encode(x)))


# --------------------------------------------------------------------------------------------------
# 9. Schedules (spec §6.10)
# --------------------------------------------------------------------------------------------------
def test_beta_schedule_switches_at_warmup_boundary():
    est = DVAEClusterer(similarity_weight=0.3, warmup_epochs=5)
    assert [est._beta(e) for e in range(8)] == [0.0] * 5 + [0.3] * 3
    assert DVAEClusterer(similarity_weight=0.3, warmup_epochs=0)._beta(0) == 0.3


def test_lr_schedule_steps_and_floors():
    cfg = FitConfig(
        n_epochs=1, batch_size=1, lr=0.002, lr_decay_step=10, lr_decay_gamma=0.9, lr_min=2e-4
    )
    expected = {
        0: 0.002,
        9: 0.002,
        10: 0.002 * 0.9,
        19: 0.002 * 0.9,
        20: 0.002 * 0.9**2,
        219: 0.002 * 0.9**21,  # 2.19e-4, still above the floor
        220: 2e-4,  # 0.002 * 0.9**22 = 1.97e-4 is floored
        1000: 2e-4,
    }
    for epoch, lr in expected.items():
        assert cfg.lr_at(epoch) == pytest.approx(lr, rel=1e-12), epoch
    for epoch in range(300):
        assert cfg.lr_at(epoch) == pytest.approx(max(0.002 * 0.9 ** (epoch // 10), 2e-4))
    # Parameter groups with their own rate follow the same schedule relative to it.
    assert cfg.lr_at(10, base_lr=0.01) == pytest.approx(0.009)


def _vae(n_features, n_clusters, hidden_dims, latent_dim):
    """The dense GMM-prior VAE as the estimator builds it."""
    return build_vae(
        np.zeros((2, n_features), np.float32),
        n_clusters=n_clusters,
        encoder="dense",
        decoder="auto",
        input_shape=None,
        hidden_dims=hidden_dims,
        channels=(1,),
        latent_dim=latent_dim,
    )
