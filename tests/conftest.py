"""Shared tiny data sets and fast estimator settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def digits():
    """sklearn's 8x8 digits scaled to [0, 1], float32."""
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y


def make_bar_images(n_per_class: int = 40, side: int = 8, seed: int = 0):
    """Tiny separable image set: 3 classes of noisy horizontal, vertical and diagonal bars."""
    rng = np.random.RandomState(seed)
    protos = np.zeros((3, side, side), np.float32)
    protos[0, side // 2 - 1 : side // 2 + 1, :] = 1.0
    protos[1, :, side // 2 - 1 : side // 2 + 1] = 1.0
    protos[2] = np.eye(side, dtype=np.float32)
    X = np.repeat(protos.reshape(3, -1), n_per_class, axis=0)
    X = np.clip(X + 0.15 * rng.rand(*X.shape).astype(np.float32), 0.0, 1.0)
    y = np.repeat(np.arange(3), n_per_class)
    perm = rng.permutation(len(y))
    return X[perm], y[perm]


@pytest.fixture(scope="session")
def bars():
    return make_bar_images()


@pytest.fixture(scope="session")
def mnist_small():
    """A few hundred real MNIST images (skipped when the shared data is absent)."""
    path = SHARED_DATA / "mnist.npz"
    if not path.exists():
        pytest.skip("shared MNIST data not found")
    from deepcluster_sk.datasets import load_mnist

    X, y = load_mnist(path, split="test", return_X_y=True, download=False)
    return X[:600], y[:600]
