"""Shared tiny data sets and fast estimator settings (fixtures for every sub-folder).

Helpers that tests import by name are in ``tests/_helpers.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from tests._helpers import SHARED_DATA, make_bar_images


@pytest.fixture(scope="session")
def digits():
    """sklearn's 8x8 digits scaled to [0, 1], float32."""
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y


@pytest.fixture(scope="session")
def bars():
    return make_bar_images()


@pytest.fixture(scope="session")
def mnist_test():
    """The 10,000 MNIST test images (skipped when the shared data is absent)."""
    path = SHARED_DATA / "mnist.npz"
    if not path.exists():
        pytest.skip("shared MNIST data not found")
    from deepcluster_sk.datasets import load_mnist

    return load_mnist(path, split="test", return_X_y=True, download=False)
