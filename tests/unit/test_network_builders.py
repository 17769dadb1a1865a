"""The network builders' rules: the encoder kind, the ``hidden_dims="auto"`` widths, seeding."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from deepcluster_sk._networks import build_autoencoder, encoder_kind, resolve_hidden_dims


def test_encoder_kind_rule():
    assert encoder_kind("auto", None, 784) == "dense"
    assert encoder_kind("auto", (1, 28, 28), 784) == "conv"  # 28 -> 14 -> 7 -> 4
    assert encoder_kind("auto", (16, 16), 256) == "conv"  # 16 -> 8 -> 4 -> 2
    # 8x8 with three blocks would end at 1x1: the dense network; two blocks leave 2x2.
    assert encoder_kind("auto", (1, 8, 8), 64) == "dense"
    assert encoder_kind("auto", (1, 8, 8), 64, channels=(8, 16)) == "conv"
    assert encoder_kind("auto", "1d", 64) == "dense"  # 1-D signals: ask for "conv"
    assert encoder_kind("dense", (1, 28, 28), 784) == "dense"
    assert encoder_kind("conv", None, 64) == "conv"
    assert encoder_kind(nn.Identity(), None, 64) == "module"


def test_hidden_dims_auto_rule():
    """The papers' trunk from 64 features on (digits, USPS, MNIST), one layer of 64 below."""
    assert resolve_hidden_dims("auto", 13) == [64]  # wine
    assert resolve_hidden_dims("auto", 63) == [64]
    assert resolve_hidden_dims("auto", 64) == [500, 500, 2000]  # 8x8 digits
    assert resolve_hidden_dims("auto", 784) == [500, 500, 2000]
    assert resolve_hidden_dims((32, 16), 13) == [32, 16]  # explicit widths pass through
    assert resolve_hidden_dims((), 13) == []


def test_builder_is_reproducible_under_a_seed():
    X = np.random.RandomState(0).rand(4, 64).astype(np.float32)
    params = {
        "encoder": "conv",
        "decoder": "auto",
        "input_shape": (1, 8, 8),
        "hidden_dims": (),
        "channels": (4, 8),
        "latent_dim": 5,
    }
    torch.manual_seed(3)
    a = build_autoencoder(X, **params)
    torch.manual_seed(3)
    b = build_autoencoder(X, **params)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb)
    x = torch.as_tensor(X)
    assert a.encode(x).shape == (4, 5) and a(x).shape == (4, 64)
