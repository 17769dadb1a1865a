"""The scaled Wasserstein similarity kernel: its median-pair bandwidth and scale invariance."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from deepcluster_sk.metrics import similarity_bandwidth, wasserstein_similarity_loss


def test_scaled_similarity_loss_is_scale_invariant():
    rng = np.random.RandomState(0)
    mu, logvar = 7.0 * rng.randn(40, 4), 0.1 * rng.randn(40, 4)
    gamma = rng.dirichlet(np.ones(3), 40)
    reference = wasserstein_similarity_loss(
        gamma, mu, logvar, bandwidth=similarity_bandwidth(mu, logvar)
    )
    for c in (1e-2, 0.3, 10.0):
        scaled_logvar = logvar + 2 * np.log(c)
        h = similarity_bandwidth(c * mu, scaled_logvar)
        assert h == pytest.approx(c**2 * similarity_bandwidth(mu, logvar), rel=1e-9)
        loss = wasserstein_similarity_loss(gamma, c * mu, scaled_logvar, bandwidth=h)
        assert loss == pytest.approx(reference, rel=1e-9)
    # The literal kernel (h = 1) is not: it depends on the scale of the codes.
    literal = [wasserstein_similarity_loss(gamma, c * mu, logvar) for c in (0.01, 10.0)]
    assert literal[0] != pytest.approx(literal[1], rel=1e-6)


def test_bandwidth_is_the_median_pair_and_validates():
    assert similarity_bandwidth(np.array([[0.0], [1.0], [3.0]])) == 4.0
    assert similarity_bandwidth(np.zeros((5, 2))) > 0
    big = np.random.RandomState(0).randn(500, 3)
    assert similarity_bandwidth(big, max_samples=100, random_state=0) == similarity_bandwidth(
        big, max_samples=100, random_state=0
    )
    with pytest.raises(ValueError, match="mu must have shape"):
        similarity_bandwidth(np.zeros(3))
    with pytest.raises(ValueError, match="logvar must have the shape"):
        similarity_bandwidth(np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="bandwidth must be a positive"):
        wasserstein_similarity_loss(
            np.ones((2, 1)), np.zeros((2, 1)), np.zeros((2, 1)), bandwidth=0.0
        )


def test_the_scaled_term_has_a_gradient_where_the_literal_one_does_not():
    """On codes tens of units apart the literal kernel's gradient vanishes; the scaled one's
    gradient is the same at every scale (up to the 1/c of the chain rule)."""
    X, y = make_blobs(60, n_features=4, centers=3, random_state=0)
    gamma = torch.nn.functional.one_hot(torch.as_tensor(y), 3).double() * 0.9 + 0.1 / 3
    logvar = torch.zeros(60, 4, dtype=torch.float64)

    def grad_norm(scale, bandwidth):
        mu = torch.tensor(scale * X, requires_grad=True)
        h = similarity_bandwidth(scale * X) if bandwidth == "median" else 1.0
        wasserstein_similarity_loss(gamma, mu, logvar, bandwidth=h).backward()
        return float(mu.grad.norm()) * scale

    assert grad_norm(30.0, 1.0) < 1e-2 * grad_norm(0.1, 1.0)
    assert grad_norm(30.0, "median") == pytest.approx(grad_norm(0.1, "median"), rel=1e-6)
