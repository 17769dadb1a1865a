"""Tests for deepcluster_sk.metrics: hand examples plus hypothesis property tests (DVAE spec §6)."""

import itertools
import warnings

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import softmax, xlogy
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score
from sklearn.model_selection import GridSearchCV

from deepcluster_sk.metrics import (
    cluster_accuracy,
    cluster_accuracy_scorer,
    make_silhouette_scorer,
    silhouette_scorer,
    transition_weights,
    wasserstein_distance_diag,
    wasserstein_similarity_loss,
)
from deepcluster_sk.nn import LOGVAR_CLAMP

FAST = settings(max_examples=50, deadline=None)


def _floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


# --------------------------------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------------------------------
@st.composite
def label_pairs(draw, max_classes=4, max_clusters=4, max_len=25):
    """(y_true, y_pred) as int arrays with small label counts."""
    n = draw(st.integers(1, max_len))
    y_true = draw(arrays(np.int64, n, elements=st.integers(0, max_classes - 1)))
    y_pred = draw(arrays(np.int64, n, elements=st.integers(0, max_clusters - 1)))
    return y_true, y_pred


@st.composite
def gaussians(draw, n_sets=2, max_j=5):
    """``n_sets`` pairs (mu, sigma) of shape (J,) with a shared J."""
    j = draw(st.integers(1, max_j))
    out = []
    for _ in range(n_sets):
        mu = draw(arrays(np.float64, j, elements=_floats(-20, 20)))
        sigma = draw(arrays(np.float64, j, elements=_floats(0, 20)))
        out.append((mu, sigma))
    return out


@st.composite
def batches(draw, min_n=1, max_n=8, min_c=1, max_c=4, max_j=4):
    """(gamma, mu, logvar) float64 arrays: gamma rows are softmax of logits in [-20, 20]."""
    n = draw(st.integers(min_n, max_n))
    c = draw(st.integers(min_c, max_c))
    j = draw(st.integers(1, max_j))
    logits = draw(arrays(np.float64, (n, c), elements=_floats(-20, 20)))
    mu = draw(arrays(np.float64, (n, j), elements=_floats(-20, 20)))
    logvar = draw(arrays(np.float64, (n, j), elements=_floats(-8, 8)))
    return softmax(logits, axis=1), mu, logvar


def _t(*arrays_):
    return tuple(torch.as_tensor(a, dtype=torch.float64) for a in arrays_)


def _brute_force_accuracy(y_true, y_pred):
    """Max over all injective cluster->class mappings (unmatched clusters count as wrong)."""
    classes, t = np.unique(y_true, return_inverse=True)
    clusters, p = np.unique(y_pred, return_inverse=True)
    n_classes, n_clusters = len(classes), len(clusters)
    best = 0
    if n_clusters <= n_classes:
        for perm in itertools.permutations(range(n_classes), n_clusters):
            best = max(best, int(np.sum(np.asarray(perm)[p] == t)))
    else:
        for perm in itertools.permutations(range(n_clusters), n_classes):
            # class c is matched with cluster perm[c]; other clusters are unmatched
            best = max(best, sum(int(np.sum((t == c) & (p == k))) for c, k in enumerate(perm)))
    return best / len(y_true)


def _reference_loss(gamma, mu, logvar, reduction="paper", include_self=True):
    """Loop-based float64 NumPy transcription of spec §2 (and the documented include_self=False)."""
    n = gamma.shape[0]
    if n == 1:
        return 0.0
    mass = np.maximum(gamma.sum(axis=0), 1e-8)
    s = np.exp(0.5 * np.clip(logvar, *LOGVAR_CLAMP))
    w = np.empty((n, n))
    d = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            w[i, j] = np.sum(gamma[i] * gamma[j] / mass)
            d[i, j] = np.sum((mu[i] - mu[j]) ** 2) + np.sum((s[i] - s[j]) ** 2)
    q = 1.0 / (1.0 + d)
    if not include_self:
        np.fill_diagonal(q, -np.inf)
        np.fill_diagonal(w, 0.0)
        w = w / np.maximum(w.sum(axis=1, keepdims=True), np.finfo(np.float64).eps)
    qmax = np.max(q, axis=1, keepdims=True)
    log_p = q - qmax - np.log(np.sum(np.exp(q - qmax), axis=1, keepdims=True))
    if not include_self:
        np.fill_diagonal(log_p, 0.0)
    total = -np.sum(w * log_p)
    return total / (n**2 if reduction == "paper" else n)


# --------------------------------------------------------------------------------------------------
# cluster_accuracy
# --------------------------------------------------------------------------------------------------
def test_cluster_accuracy_hand_example():
    # clusters {1}->class 0, {0}->class 1, {2}->class 2: the sample (class 2, cluster 0) is wrong
    assert cluster_accuracy([0, 0, 1, 1, 2, 2], [1, 1, 0, 0, 0, 2]) == pytest.approx(5 / 6)
    assert cluster_accuracy([0, 1], [0, 0]) == 0.5
    assert isinstance(cluster_accuracy([0], [3]), float)


def test_cluster_accuracy_unequal_counts():
    y_true = np.array([0, 0, 0, 1, 1, 1])
    # more clusters than classes: the third cluster is unmatched
    assert cluster_accuracy(y_true, [0, 0, 2, 1, 1, 1]) == pytest.approx(5 / 6)
    # one cluster per sample: only two can be matched
    assert cluster_accuracy(y_true, np.arange(6)) == pytest.approx(2 / 6)
    # fewer clusters than classes
    assert cluster_accuracy([0, 1, 2, 2], [5, 5, 9, 9]) == pytest.approx(3 / 4)


def test_cluster_accuracy_arbitrary_label_values():
    assert cluster_accuracy(["cat", "cat", "dog"], [-3, -3, 10]) == 1.0
    assert cluster_accuracy([-1, -1, 2, 2], ["b", "a", "a", "a"]) == pytest.approx(3 / 4)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([0, 1, 2], [0, 1], "must have the same length, got 3 and 2"),
        ([], [], "must not be empty"),
        ([[0, 1]], [[0, 1]], r"must be 1-D arrays, got shapes \(1, 2\) and \(1, 2\)"),
        ([0, 1], [[0], [1]], r"must be 1-D arrays, got shapes \(2,\) and \(2, 1\)"),
    ],
    ids=["length-mismatch", "empty", "2d", "2d-pred"],
)
def test_cluster_accuracy_invalid_input(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        cluster_accuracy(y_true, y_pred)


@FAST
@given(
    y_true=arrays(np.int64, st.integers(1, 30), elements=st.integers(-5, 5)),
    names=st.permutations(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]),
)
def test_cluster_accuracy_one_for_any_relabelling(y_true, names):
    renamed = np.array([names[v + 5] for v in y_true])
    assert cluster_accuracy(y_true, renamed) == 1.0
    assert cluster_accuracy(renamed, y_true) == 1.0
    assert cluster_accuracy(y_true, -7 * y_true + 3) == 1.0


@FAST
@given(pair=label_pairs(), perm=st.permutations(range(4)))
def test_cluster_accuracy_properties(pair, perm):
    y_true, y_pred = pair
    acc = cluster_accuracy(y_true, y_pred)
    assert 0.0 <= acc <= 1.0
    # invariant to renaming the predicted cluster ids
    assert cluster_accuracy(y_true, np.asarray(perm)[y_pred]) == acc
    # equal to the brute-force maximum over all injective mappings
    assert acc == pytest.approx(_brute_force_accuracy(y_true, y_pred), abs=1e-12)
    # at least the share of the largest (cluster, class) cell
    assert acc * len(y_true) >= 1


# --------------------------------------------------------------------------------------------------
# scorers
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def blobs():
    return make_blobs(n_samples=150, centers=3, cluster_std=0.6, random_state=0)


def test_cluster_accuracy_scorer_in_grid_search(blobs):
    X, y = blobs
    search = GridSearchCV(
        KMeans(n_init=2, random_state=0),
        {"n_clusters": [2, 3, 4, 5]},
        scoring=cluster_accuracy_scorer,
        cv=3,
    ).fit(X, y)
    assert search.best_params_ == {"n_clusters": 3}
    assert search.best_score_ > 0.95
    assert cluster_accuracy_scorer(search.best_estimator_, X, y) == pytest.approx(
        cluster_accuracy(y, search.best_estimator_.predict(X))
    )


def test_silhouette_scorer_in_grid_search(blobs):
    X, _ = blobs
    search = GridSearchCV(
        KMeans(n_init=2, random_state=0),
        {"n_clusters": [1, 2, 3, 4]},
        scoring=silhouette_scorer,
        cv=3,
    ).fit(X)
    # runs without y; the silhouette is taken in KMeans' transform space (distances to centres),
    # so the selected k is not asserted here
    assert search.best_params_["n_clusters"] in (2, 3, 4)
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] == -1.0  # one cluster: worst score, no error
    assert np.all((scores >= -1.0) & (scores <= 1.0))


def test_silhouette_scorer_values(blobs):
    X, _ = blobs
    km = KMeans(n_clusters=3, n_init=2, random_state=0).fit(X)
    expected = silhouette_score(km.transform(X), km.predict(X))
    assert silhouette_scorer(km, X) == pytest.approx(expected)
    assert silhouette_scorer(km, X, np.zeros(len(X))) == pytest.approx(expected)  # y ignored
    # labels == n_samples is degenerate too
    km_all = KMeans(n_clusters=4, n_init=1, random_state=0).fit(X[:4])
    assert silhouette_scorer(km_all, X[:4]) == -1.0
    # subsampling: reproducible with an int random_state, and sample_size >= n uses all samples
    sub = make_silhouette_scorer(sample_size=50, random_state=0)
    assert sub(km, X) == sub(km, X)
    assert make_silhouette_scorer(sample_size=1000)(km, X) == pytest.approx(expected)
    assert "sample_size=50" in repr(sub)


@pytest.mark.parametrize("sample_size", [0, 1, 2.5, True, "10"])
def test_make_silhouette_scorer_invalid_sample_size(sample_size):
    with pytest.raises(ValueError, match="sample_size"):
        make_silhouette_scorer(sample_size=sample_size)


# --------------------------------------------------------------------------------------------------
# wasserstein_distance_diag
# --------------------------------------------------------------------------------------------------
def _general_w2_squared(mu1, s1, mu2, s2):
    """‖Δμ‖² + tr(Σ1 + Σ2 − 2(Σ1^½ Σ2 Σ1^½)^½) with scipy.linalg.sqrtm on the diagonal matrices."""
    cov1, cov2 = np.diag(s1**2), np.diag(s2**2)
    with warnings.catch_warnings():
        # a zero standard deviation makes the diagonal matrix singular; sqrtm is still exact on it
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        root1 = np.real(scipy.linalg.sqrtm(cov1))
        cross = np.real(scipy.linalg.sqrtm(root1 @ cov2 @ root1))
    return np.sum((mu1 - mu2) ** 2) + np.trace(cov1 + cov2 - 2.0 * cross)


@FAST
@given(gs=gaussians(n_sets=3))
def test_wasserstein_properties(gs):
    (m1, s1), (m2, s2), (m3, s3) = gs
    d12 = wasserstein_distance_diag(m1, s1, m2, s2)
    assert isinstance(d12, np.ndarray | np.float64)
    assert np.shape(d12) == ()
    assert d12 >= 0.0
    assert wasserstein_distance_diag(m1, s1, m1, s1) == 0.0
    assert d12 == pytest.approx(wasserstein_distance_diag(m2, s2, m1, s1), rel=1e-12)
    assert wasserstein_distance_diag(m1, s1, m2, s1) == pytest.approx(np.sum((m1 - m2) ** 2))
    scale = 1.0 + np.sum(s1**2) + np.sum(s2**2)
    assert d12 == pytest.approx(_general_w2_squared(m1, s1, m2, s2), rel=1e-7, abs=1e-9 * scale)
    # W2 = sqrt(W2²) is a metric: triangle inequality
    d13 = wasserstein_distance_diag(m1, s1, m3, s3)
    d23 = wasserstein_distance_diag(m2, s2, m3, s3)
    assert np.sqrt(d13) <= np.sqrt(d12) + np.sqrt(d23) + 1e-9 * (1.0 + np.sqrt(d13))


@FAST
@given(gs=gaussians(n_sets=2), shift=_floats(-20, 20), data=st.data())
def test_wasserstein_translation_and_dimension_permutation(gs, shift, data):
    (m1, s1), (m2, s2) = gs
    d = wasserstein_distance_diag(m1, s1, m2, s2)
    assert wasserstein_distance_diag(m1 + shift, s1, m2 + shift, s2) == pytest.approx(
        d, rel=1e-9, abs=1e-9
    )
    perm = np.asarray(data.draw(st.permutations(range(len(m1)))))
    assert wasserstein_distance_diag(m1[perm], s1[perm], m2[perm], s2[perm]) == pytest.approx(
        d, rel=1e-12
    )


@FAST
@given(data=st.data())
def test_wasserstein_pairwise_equals_loop(data):
    n, m, j = (
        data.draw(st.integers(1, 5)),
        data.draw(st.integers(1, 5)),
        data.draw(st.integers(1, 4)),
    )
    mu1 = data.draw(arrays(np.float64, (n, j), elements=_floats(-20, 20)))
    s1 = data.draw(arrays(np.float64, (n, j), elements=_floats(0, 20)))
    mu2 = data.draw(arrays(np.float64, (m, j), elements=_floats(-20, 20)))
    s2 = data.draw(arrays(np.float64, (m, j), elements=_floats(0, 20)))
    pairwise = wasserstein_distance_diag(mu1, s1, mu2, s2, pairwise=True)
    assert pairwise.shape == (n, m)
    loop = np.array(
        [
            [wasserstein_distance_diag(mu1[a], s1[a], mu2[b], s2[b]) for b in range(m)]
            for a in range(n)
        ]
    )
    np.testing.assert_allclose(pairwise, loop, rtol=1e-12, atol=0)
    # broadcast (non-pairwise) form over the leading dimension
    rowwise = wasserstein_distance_diag(mu1, s1, mu1[::-1], s1[::-1])
    assert rowwise.shape == (n,)
    np.testing.assert_allclose(
        rowwise, np.diag(wasserstein_distance_diag(mu1, s1, mu1[::-1], s1[::-1], pairwise=True))
    )
    # self-pairwise matrix: zero diagonal, symmetric
    self_d = wasserstein_distance_diag(mu1, s1, mu1, s1, pairwise=True)
    np.testing.assert_array_equal(np.diag(self_d), 0.0)
    np.testing.assert_array_equal(self_d, self_d.T)


def test_wasserstein_torch_in_torch_out_with_gradient():
    gen = torch.Generator().manual_seed(0)
    mu = torch.randn(4, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    sigma = torch.rand(4, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    # duplicated rows: D_ij = 0 off the diagonal, gradient still finite (no sqrt as in cdist)
    mu_dup, sigma_dup = torch.cat([mu, mu[:1]]), torch.cat([sigma, sigma[:1]])
    d = wasserstein_distance_diag(mu_dup, sigma_dup, mu_dup, sigma_dup, pairwise=True)
    assert isinstance(d, torch.Tensor)
    assert d.shape == (5, 5)
    assert d.dtype == torch.float64
    assert d[0, 4].item() == 0.0
    grad_mu, grad_sigma = torch.autograd.grad(d.sum() + d[0, 1], [mu, sigma])
    assert torch.isfinite(grad_mu).all() and grad_mu.abs().sum() > 0
    assert torch.isfinite(grad_sigma).all()
    # mixed inputs: any tensor gives a tensor, with the tensor's dtype
    mixed = wasserstein_distance_diag(np.zeros(3), np.ones(3), torch.ones(3), torch.ones(3))
    assert isinstance(mixed, torch.Tensor) and mixed.dtype == torch.float32
    assert mixed.item() == pytest.approx(3.0)
    np.testing.assert_allclose(
        wasserstein_distance_diag(mu, sigma, mu.flip(0), sigma.flip(0)).detach().numpy(),
        wasserstein_distance_diag(
            mu.detach().numpy(),
            sigma.detach().numpy(),
            mu.detach().flip(0).numpy(),
            sigma.detach().flip(0).numpy(),
        ),
    )


def test_wasserstein_pairwise_invalid_shapes():
    with pytest.raises(ValueError, match="pairwise"):
        wasserstein_distance_diag(np.zeros(3), np.ones(3), np.zeros(3), np.ones(3), pairwise=True)
    with pytest.raises(ValueError, match="pairwise"):
        wasserstein_distance_diag(
            np.zeros((2, 3)), np.ones((2, 3)), np.zeros((2, 4)), np.ones((2, 4)), pairwise=True
        )


# --------------------------------------------------------------------------------------------------
# transition_weights
# --------------------------------------------------------------------------------------------------
@FAST
@given(batch=batches(), data=st.data())
def test_transition_weights_properties(batch, data):
    gamma = batch[0]
    n, c = gamma.shape
    w = transition_weights(torch.as_tensor(gamma))
    assert isinstance(w, torch.Tensor) and w.shape == (n, n)
    w = w.numpy()
    assert np.all(w >= 0)
    np.testing.assert_allclose(w, w.T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(w.sum(axis=0), 1.0, atol=1e-6)
    # numpy in -> numpy out, same values
    np.testing.assert_allclose(transition_weights(gamma), w, rtol=1e-12)
    # equivariant to batch permutation, invariant to cluster permutation
    p = np.asarray(data.draw(st.permutations(range(n))))
    np.testing.assert_allclose(transition_weights(gamma[p]), w[np.ix_(p, p)], rtol=1e-12, atol=0)
    q = np.asarray(data.draw(st.permutations(range(c))))
    np.testing.assert_allclose(transition_weights(gamma[:, q]), w, rtol=1e-12, atol=1e-300)


@FAST
@given(labels=arrays(np.int64, st.integers(1, 12), elements=st.integers(0, 4)))
def test_transition_weights_one_hot(labels):
    gamma = np.eye(5)[labels]  # cluster(s) may be empty: mass clamped, no NaN
    w = transition_weights(gamma)
    counts = np.bincount(labels, minlength=5)
    same = labels[:, None] == labels[None, :]
    expected = np.where(same, 1.0 / counts[labels][:, None], 0.0)
    np.testing.assert_allclose(w, expected, rtol=1e-12)


def test_transition_weights_invalid_shape():
    with pytest.raises(ValueError, match="gamma"):
        transition_weights(np.ones(3))


# --------------------------------------------------------------------------------------------------
# wasserstein_similarity_loss
# --------------------------------------------------------------------------------------------------
@FAST
@given(batch=batches(), include_self=st.booleans())
def test_similarity_loss_matches_reference(batch, include_self):
    gamma, mu, logvar = batch
    loss = wasserstein_similarity_loss(*_t(gamma, mu, logvar), include_self=include_self)
    assert isinstance(loss, torch.Tensor) and loss.ndim == 0 and loss.dtype == torch.float64
    expected = _reference_loss(gamma, mu, logvar, include_self=include_self)
    assert loss.item() == pytest.approx(expected, rel=1e-9, abs=1e-12)
    # numpy in -> float out, same value
    value = wasserstein_similarity_loss(gamma, mu, logvar, include_self=include_self)
    assert isinstance(value, float)
    assert value == pytest.approx(loss.item(), rel=1e-12, abs=1e-15)


@FAST
@given(batch=batches())
def test_similarity_loss_lower_bound(batch):
    gamma, mu, logvar = batch
    n = gamma.shape[0]
    loss = wasserstein_similarity_loss(gamma, mu, logvar)
    w = transition_weights(gamma)
    entropy_bound = -np.sum(xlogy(w, w)) / n**2
    assert np.isfinite(loss)
    assert entropy_bound >= -1e-12
    # The bound needs rows of W summing to 1. The clamp n_k >= 1e-8 (spec F12) lets a row
    # exceed 1 by sum_k gamma_ik^2 / 1e-8 over components with n_k < 1e-8, i.e. by < 1e-8
    # (hypothesis found gamma = [7.6e-9, 0.5, 0.5], N = 1: loss 0, bound 1.8e-9).
    assert loss >= entropy_bound - 1e-7


@FAST
@given(batch=batches(), include_self=st.booleans(), shift=_floats(-20, 20), data=st.data())
def test_similarity_loss_invariances(batch, include_self, shift, data):
    gamma, mu, logvar = batch
    n, c = gamma.shape
    j = mu.shape[1]
    base = wasserstein_similarity_loss(gamma, mu, logvar, include_self=include_self)
    p = np.asarray(data.draw(st.permutations(range(n))))
    q = np.asarray(data.draw(st.permutations(range(j))))
    k = np.asarray(data.draw(st.permutations(range(c))))
    variants = {
        "batch permutation": (gamma[p], mu[p], logvar[p]),
        "latent translation": (gamma, mu + shift, logvar),
        "latent dimension permutation": (gamma, mu[:, q], logvar[:, q]),
        "cluster permutation": (gamma[:, k], mu, logvar),
    }
    for name, args in variants.items():
        value = wasserstein_similarity_loss(*args, include_self=include_self)
        assert value == pytest.approx(base, rel=1e-9, abs=1e-12), name


@FAST
@given(batch=batches())
def test_similarity_loss_reductions(batch):
    gamma, mu, logvar = batch
    n = gamma.shape[0]
    paper = wasserstein_similarity_loss(gamma, mu, logvar, reduction="paper")
    anchor = wasserstein_similarity_loss(gamma, mu, logvar, reduction="anchor_mean")
    assert anchor == pytest.approx(n * paper, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("include_self", [True, False])
def test_similarity_loss_single_sample_is_zero(include_self):
    logits = torch.randn(1, 3, requires_grad=True)
    mu = torch.randn(1, 2, requires_grad=True)
    logvar = torch.randn(1, 2, requires_grad=True)
    loss = wasserstein_similarity_loss(
        torch.softmax(logits, dim=1), mu, logvar, include_self=include_self
    )
    assert isinstance(loss, torch.Tensor)
    assert loss.item() == 0.0
    loss.backward()
    for t in (logits, mu, logvar):
        assert torch.isfinite(t.grad).all()
    assert wasserstein_similarity_loss(np.ones((1, 1)), np.zeros((1, 2)), np.zeros((1, 2))) == 0.0


def _extreme_cases(dtype):
    gen = torch.Generator().manual_seed(0)
    n, c, j = 6, 3, 4
    logits = torch.randn(n, c, generator=gen, dtype=dtype)
    mu = torch.randn(n, j, generator=gen, dtype=dtype)
    logvar = torch.randn(n, j, generator=gen, dtype=dtype)
    one_hot_logits = torch.tensor(
        [[1e4, -1e4, -1e4]] * 3 + [[-1e4, 1e4, -1e4]] * 2 + [[-1e4, -1e4, 1e4]], dtype=dtype
    )
    empty_logits = torch.tensor([[1e4, -1e4, -1e4]] * 4 + [[-1e4, 1e4, -1e4]] * 2, dtype=dtype)
    parity = (torch.arange(n)[:, None] + torch.arange(j)[None, :]) % 2
    signs = torch.where(parity == 0, 1.0, -1.0).to(dtype)  # rows differ
    return {
        "logvar+30": (logits, mu, torch.full_like(logvar, 30.0)),
        "logvar-30": (logits, mu, torch.full_like(logvar, -30.0)),
        "logvar+-30 mixed": (logits, mu, 30.0 * signs),
        "logvar beyond clamp": (logits, mu, 200.0 * signs),
        "means 1e6": (logits, 1e6 * signs * mu.abs().add(1.0), logvar),
        "distance 1e30": (logits, 1e15 * signs, logvar),
        "one-hot gamma": (one_hot_logits, mu, logvar),
        "empty cluster": (empty_logits, mu, logvar),
        "zero-mass column": (
            torch.cat([logits[:, :2], torch.full((n, 1), -1e4, dtype=dtype)], 1),
            mu,
            logvar,
        ),
        "duplicated rows": (
            logits[[0, 0, 1, 1, 2, 2]],
            mu[[0, 0, 1, 1, 2, 2]],
            logvar[[0, 0, 1, 1, 2, 2]],
        ),
        "all identical": (logits[[0] * n], mu[[0] * n], logvar[[0] * n]),
    }


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("detach", [False, True])
def test_similarity_loss_finite_with_finite_gradients_on_extreme_inputs(
    dtype, include_self, detach
):
    for name, (logits, mu, logvar) in _extreme_cases(dtype).items():
        logits = logits.clone().requires_grad_(True)
        mu = mu.clone().requires_grad_(True)
        logvar = logvar.clone().requires_grad_(True)
        for reduction in ("paper", "anchor_mean"):
            loss = wasserstein_similarity_loss(
                torch.softmax(logits, dim=1),
                mu,
                logvar,
                reduction=reduction,
                include_self=include_self,
                detach_transition_weights=detach,
            )
            assert torch.isfinite(loss), name
            assert loss.item() >= 0.0, name
            grads = torch.autograd.grad(
                loss, [logits, mu, logvar], allow_unused=True, materialize_grads=True
            )
            for grad in grads:
                assert torch.isfinite(grad).all(), name


def test_similarity_loss_empty_cluster_literal_gamma():
    # a literally zero column in gamma (not produced by a softmax): no 0/0
    gamma = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], requires_grad=True)
    mu = torch.randn(3, 2, dtype=torch.float32, requires_grad=True)
    for include_self in (True, False):
        loss = wasserstein_similarity_loss(gamma, mu, torch.zeros(3, 2), include_self=include_self)
        g_gamma, g_mu = torch.autograd.grad(loss, [gamma, mu])
        assert torch.isfinite(loss)
        assert torch.isfinite(g_gamma).all() and torch.isfinite(g_mu).all()


@pytest.mark.parametrize("include_self", [True, False])
def test_similarity_loss_gradient_flow_through_transition_weights(include_self):
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(8, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    mu = torch.randn(8, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    logvar = torch.randn(8, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    results = {}
    for detach in (False, True):
        loss = wasserstein_similarity_loss(
            torch.softmax(logits, dim=1),
            mu,
            logvar,
            include_self=include_self,
            detach_transition_weights=detach,
        )
        results[detach] = torch.autograd.grad(
            loss, [logits, mu, logvar], allow_unused=True, materialize_grads=True
        )
    (g_logits, g_mu, g_logvar), (d_logits, d_mu, d_logvar) = results[False], results[True]
    assert g_logits.abs().sum() > 0
    assert torch.equal(d_logits, torch.zeros_like(d_logits))
    assert g_mu.abs().sum() > 0 and d_mu.abs().sum() > 0
    assert g_logvar.abs().sum() > 0 and d_logvar.abs().sum() > 0
    # the encoder-side gradient does not depend on whether W is detached
    torch.testing.assert_close(g_mu, d_mu)


def test_similarity_loss_include_self_false_isolated_sample():
    # sample 2 is alone in its cluster: with include_self=False it has no target and adds nothing
    gamma = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    mu = np.array([[0.0], [1.0], [5.0]])
    logvar = np.zeros((3, 1))
    loss = wasserstein_similarity_loss(gamma, mu, logvar, include_self=False)
    q01 = 1.0 / (1.0 + 1.0)
    log_p01 = q01 - np.log(np.exp(q01) + np.exp(1.0 / (1.0 + 25.0)))
    q10 = q01
    log_p10 = q10 - np.log(np.exp(q10) + np.exp(1.0 / (1.0 + 16.0)))
    assert loss == pytest.approx(-(log_p01 + log_p10) / 9, rel=1e-12)


def test_similarity_loss_invalid_arguments():
    gamma, mu = np.full((3, 2), 0.5), np.zeros((3, 2))
    with pytest.raises(ValueError, match="reduction"):
        wasserstein_similarity_loss(gamma, mu, mu, reduction="mean")
    with pytest.raises(ValueError, match="rows"):
        wasserstein_similarity_loss(gamma[:2], mu, mu)
    with pytest.raises(ValueError, match="shape"):
        wasserstein_similarity_loss(gamma, mu, mu[:, :1])
    with pytest.raises(ValueError, match="shape"):
        wasserstein_similarity_loss(gamma[0], mu, mu)
