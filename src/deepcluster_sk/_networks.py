"""Resolve the ``encoder``/``decoder`` parameters into torch modules.

A network parameter is a built-in name or a user's :class:`torch.nn.Module`:

- ``"dense"``: Linear + ReLU layers of widths ``hidden_dims`` on flattened rows;
  ``hidden_dims="auto"`` is the papers' ``d-500-500-2000`` trunk for rows of 64 or more
  features and one hidden layer of 64 units for narrower rows (tables);
- ``"conv"``: stride-2 5x5 convolutions (``channels``) on images, no batch norm;
- ``"conv_pool"``: 3x3 convolution + batch norm + ReLU + max-pooling blocks (Das' network);
- ``"auto"``: ``"conv"`` when the rows are images (``input_shape`` is given) large enough for
  the convolutional blocks to leave at least a 2x2 feature map, else ``"dense"``;
  as a decoder, ``"auto"`` mirrors the encoder (a user encoder gets the conv decoder on images
  and the dense one otherwise).

User modules are deep-copied, so the instance passed in is never trained. The encoder's
feature width ``h`` is found by one dry forward pass on two rows of the training data; a
module that fails or returns the wrong shape raises a ``ValueError`` naming it, the shape it
returned and the shape expected.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import torch
from torch import nn

from ._utils import resolve_image_shape
from .nn import (
    Autoencoder,
    ConvDecoder,
    ConvEncoder,
    GMMPrior,
    GMMPriorVAE,
    cluster_classifier,
    conv_output_sizes,
    dense_decoder,
    dense_encoder,
)

__all__ = [
    "NETWORK_NAMES",
    "build_autoencoder",
    "build_vae",
    "encoder_kind",
    "resolve_hidden_dims",
]

#: Built-in names accepted by ``encoder`` and ``decoder``.
NETWORK_NAMES = frozenset({"auto", "dense", "conv", "conv_pool"})

#: Layer settings of the built-in convolutional networks.
_CONV_SETTINGS: dict[str, dict[str, Any]] = {
    "conv": {"kernel_size": 5, "batch_norm": False, "downsample": "stride"},
    "conv_pool": {"kernel_size": 3, "batch_norm": True, "downsample": "pool"},
}


def encoder_kind(
    encoder: str | nn.Module,
    input_shape: Any,
    n_features: int,
    channels: Sequence[int] = (32, 64, 128),
) -> str:
    """``"dense"``, ``"conv"``, ``"conv_pool"`` or ``"module"`` for an ``encoder`` value.

    ``"auto"`` is ``"conv"`` when the rows are images (``input_shape`` given) large enough
    for the convolutional blocks: after ``len(channels)`` halvings both sides must still be
    at least 2 pixels (28x28 MNIST and 16x16 USPS are; 8x8 digits with the default three
    blocks, which would end at 1x1, and ``"1d"`` signals are not). Otherwise ``"dense"``.
    """
    if isinstance(encoder, nn.Module):
        return "module"
    if encoder != "auto":
        return str(encoder)
    if input_shape is None:
        return "dense"
    shape = resolve_image_shape(input_shape, n_features)
    blocks = len(_positive_ints(channels, "channels", allow_empty=False))
    final = conv_output_sizes(shape[-2], shape[-1], blocks)[-1]
    return "conv" if min(final) >= 2 else "dense"


#: ``hidden_dims="auto"``: the papers' trunk for rows of at least this many features (8x8
#: digits included), ``_SMALL_HIDDEN_DIMS`` below it.
_WIDE_MIN_FEATURES = 64
_PAPER_HIDDEN_DIMS = (500, 500, 2000)
_SMALL_HIDDEN_DIMS = (64,)


def resolve_hidden_dims(hidden_dims: Any, n_features: int) -> list[int]:
    """The dense network's layer widths for rows of ``n_features`` features.

    ``"auto"`` is the papers' ``(500, 500, 2000)`` for rows of 64 or more features and
    ``(64,)`` for narrower rows. On scikit-learn's wine (13 columns) and breast-cancer (30)
    tables the small network clusters better than the papers' trunk, for AEGMM and for
    DVAEClusterer, in a fraction of the time (``benchmarks/tabular.py`` compares them); on
    the 64 pixels of 8x8 digits the papers' trunk clusters better.

    Parameters
    ----------
    hidden_dims : sequence of int or "auto"
    n_features : int

    Returns
    -------
    list of int
    """
    if isinstance(hidden_dims, str) and hidden_dims == "auto":
        wide = n_features >= _WIDE_MIN_FEATURES
        return list(_PAPER_HIDDEN_DIMS if wide else _SMALL_HIDDEN_DIMS)
    return _positive_ints(hidden_dims, "hidden_dims", allow_empty=True)


def _positive_ints(values: Any, name: str, *, allow_empty: bool) -> list[int]:
    try:
        items = list(values)
    except TypeError:
        raise TypeError(
            f"{name} must be a sequence of positive integers, got {values!r}."
        ) from None
    if not allow_empty and not items:
        raise ValueError(f"{name} must hold at least one layer size, got {values!r}.")
    bad = [v for v in items if not isinstance(v, Integral) or isinstance(v, bool) or v < 1]
    if bad:
        raise ValueError(f"{name} must hold positive integers, got {values!r}.")
    return [int(v) for v in items]


def _describe(module: nn.Module) -> str:
    return type(module).__name__


def _dry_run(module: nn.Module, x: torch.Tensor, role: str) -> torch.Tensor:
    """One forward pass in eval mode without gradients; wraps failures in a ValueError."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(x)
    except Exception as exc:
        raise ValueError(
            f"{role}={_describe(module)} failed on a batch of shape {tuple(x.shape)}: {exc}"
        ) from exc
    finally:
        module.train(was_training)
    if not isinstance(out, torch.Tensor):
        raise ValueError(
            f"{role}={_describe(module)} returned {type(out).__name__}, expected a tensor."
        )
    return out


def _network_shape(
    kind: str, input_shape: Any, n_features: int
) -> tuple[int, int, int] | tuple[int, ...] | None:
    """The shape rows are viewed as: the checked ``input_shape``, else None (flat rows).

    Without ``input_shape`` a convolutional network reads each row as a square
    single-channel image when ``n_features`` is a perfect square, and as a one-channel 1-D
    signal (``input_shape="1d"``) otherwise, so tabular data still fit.
    """
    if kind.startswith("conv") and input_shape is None:
        side = math.isqrt(n_features)
        return (1, side, side) if side * side == n_features else (1, 1, n_features)
    if input_shape is not None:
        return resolve_image_shape(input_shape, n_features)
    return None


def _build_encoder(
    encoder: str | nn.Module,
    *,
    probe: torch.Tensor,
    input_shape: Any,
    hidden_dims: Sequence[int],
    channels: Sequence[int],
) -> tuple[nn.Module, int, str, tuple[int, ...] | None]:
    """Encoder module, its feature width h, its kind and the shape it reads rows as."""
    n_features = int(probe.shape[1])
    kind = encoder_kind(encoder, input_shape, n_features, channels)
    shape = _network_shape(kind, input_shape, n_features)
    if kind == "dense":
        module = dense_encoder(n_features, resolve_hidden_dims(hidden_dims, n_features))
        shape = None
    elif kind in _CONV_SETTINGS:
        chans = _positive_ints(channels, "channels", allow_empty=False)
        module = ConvEncoder(shape[0], chans, **_CONV_SETTINGS[kind])
    else:
        module = copy.deepcopy(encoder)
    x = probe if shape is None else probe.view(-1, *shape)
    out = _dry_run(module, x, "encoder")
    if out.ndim != 2 or out.shape[0] != x.shape[0]:
        raise ValueError(
            f"encoder={_describe(module)} returned shape {tuple(out.shape)} for a batch of shape "
            f"{tuple(x.shape)}; expected features of shape ({x.shape[0]}, h)."
        )
    return module, int(out.shape[1]), kind, shape


def _build_decoder(
    decoder: str | nn.Module,
    *,
    encoder_kind_: str,
    code_dim: int,
    code_is_feature_map: bool,
    n_features: int,
    shape: tuple[int, ...] | None,
    input_shape: Any,
    hidden_dims: Sequence[int],
    channels: Sequence[int],
) -> nn.Module:
    if isinstance(decoder, nn.Module):
        kind = "module"
    elif decoder == "auto":
        if encoder_kind_ == "module":
            kind = "dense" if shape is None else "conv"
        else:
            kind = encoder_kind_
    else:
        kind = str(decoder)
    if kind == "dense":
        module: nn.Module = dense_decoder(
            code_dim, resolve_hidden_dims(hidden_dims, n_features), n_features
        )
    elif kind in _CONV_SETTINGS:
        image = shape or _network_shape(kind, input_shape, n_features)
        module = ConvDecoder(
            image,
            _positive_ints(channels, "channels", allow_empty=False),
            None if code_is_feature_map else code_dim,
            batch_norm=_CONV_SETTINGS[kind]["batch_norm"],
        )
    else:
        module = copy.deepcopy(decoder)
    z = torch.zeros(2, code_dim)
    out = _dry_run(module, z, "decoder")
    if out.ndim < 2 or out.shape[0] != 2 or math.prod(out.shape[1:]) != n_features:
        expected = f"(2, {n_features})" + ("" if shape is None else f" or (2, *{tuple(shape)})")
        raise ValueError(
            f"decoder={_describe(module)} returned shape {tuple(out.shape)} for codes of shape "
            f"(2, {code_dim}); expected {expected}."
        )
    return module


def _probe(X: np.ndarray) -> torch.Tensor:
    """Two rows of ``X`` for the dry forward passes (a copy: ``X`` may be read-only)."""
    rows = np.asarray(X[:2], dtype=np.float32)
    return torch.tensor(rows / 255 if X.dtype == np.uint8 else rows)


def _build_network(
    X: np.ndarray,
    *,
    encoder: str | nn.Module,
    decoder: str | nn.Module,
    input_shape: Any,
    hidden_dims: Sequence[int],
    channels: Sequence[int],
    latent_dim: int | None,
    make_heads: Callable[[int], list[nn.Module]],
) -> tuple[nn.Module, list[nn.Module], nn.Module, int, tuple[int, ...] | None]:
    """Encoder, the latent heads ``make_heads(h)`` and the decoder, built in that order.

    The fixed order makes a seeded build reproducible. Returns the encoder, the heads, the
    decoder, the code width and the shape rows are viewed as.
    """
    enc, h, kind, shape = _build_encoder(
        encoder,
        probe=_probe(X),
        input_shape=input_shape,
        hidden_dims=hidden_dims,
        channels=channels,
    )
    heads = make_heads(h)
    code_dim = h if latent_dim is None else int(latent_dim)
    dec = _build_decoder(
        decoder,
        encoder_kind_=kind,
        code_dim=code_dim,
        code_is_feature_map=latent_dim is None,
        n_features=X.shape[1],
        shape=shape,
        input_shape=input_shape,
        hidden_dims=hidden_dims,
        channels=channels,
    )
    return enc, heads, dec, code_dim, shape


def build_autoencoder(X: np.ndarray, *, latent_dim: int | None, **network: Any) -> Autoencoder:
    """Encoder, ``Linear(h, latent_dim)`` head and decoder for the rows of ``X``.

    ``network`` holds the ``encoder``, ``decoder``, ``input_shape``, ``hidden_dims`` and
    ``channels`` parameters. With ``latent_dim=None`` the encoder's features are the codes
    (no head).
    """

    def make_heads(h: int) -> list[nn.Module]:
        return [nn.Identity() if latent_dim is None else nn.Linear(h, int(latent_dim))]

    enc, (head,), dec, code_dim, shape = _build_network(
        X, latent_dim=latent_dim, make_heads=make_heads, **network
    )
    return Autoencoder(enc, head, dec, code_dim, input_shape=shape)


def build_vae(X: np.ndarray, *, n_clusters: int, latent_dim: int, **network: Any) -> GMMPriorVAE:
    """The GMM-prior VAE: encoder, mean and log-variance heads, decoder, classifier, prior.

    ``network`` holds the ``encoder``, ``decoder``, ``input_shape``, ``hidden_dims`` and
    ``channels`` parameters.
    """
    j = int(latent_dim)
    enc, (mu_head, logvar_head), dec, _, shape = _build_network(
        X, latent_dim=j, make_heads=lambda h: [nn.Linear(h, j), nn.Linear(h, j)], **network
    )
    classifier = cluster_classifier(j, int(n_clusters))
    prior = GMMPrior(int(n_clusters), j)
    return GMMPriorVAE(enc, mu_head, logvar_head, dec, classifier, prior, input_shape=shape)
