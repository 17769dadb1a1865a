"""Importable helpers shared by the tests (``from tests._helpers import ...``).

Fixtures live in ``tests/conftest.py``, which pytest loads for every sub-folder; what a test
module imports by name lives here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: The repository root (this file is ``<root>/tests/_helpers.py``).
ROOT = Path(__file__).resolve().parents[1]
#: Real data sets shared between checkouts, next to the repository.
SHARED_DATA = ROOT.parent / "shared" / "data"


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
