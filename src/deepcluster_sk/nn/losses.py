"""Reconstruction losses as pure functions of (decoder output, target)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["reconstruction_loss"]


def reconstruction_loss(
    output: torch.Tensor, target: torch.Tensor, kind: str = "bce", reduction: str = "mean"
) -> torch.Tensor:
    """Reconstruction loss of pre-activation decoder outputs.

    Parameters
    ----------
    output : torch.Tensor of shape (batch, n_features)
        Decoder output: logits for ``kind="bce"``, the reconstruction for ``kind="mse"``.
    target : torch.Tensor of shape (batch, n_features)
        Input rows (in [0, 1] for ``"bce"``).
    kind : {"bce", "mse"}, default="bce"
        Binary cross-entropy with logits (stable for any logit) or squared error.
    reduction : {"mean", "sum"}, default="mean"
        ``"mean"`` averages over every element; ``"sum"`` sums over features and averages
        over the batch (a per-sample negative log-likelihood up to constants).

    Returns
    -------
    torch.Tensor
        Scalar loss.
    """
    if kind == "bce":
        elem = F.binary_cross_entropy_with_logits(output, target, reduction="none")
    elif kind == "mse":
        elem = (output - target).square()
    else:
        raise ValueError(f"kind must be 'bce' or 'mse', got {kind!r}.")
    if reduction == "mean":
        return elem.mean()
    if reduction == "sum":
        return elem.sum(dim=1).mean()
    raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}.")
