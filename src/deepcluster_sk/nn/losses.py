"""Reconstruction losses as pure functions of (decoder output, target).

One vocabulary for every estimator: the decoder *likelihood*, ``"bernoulli"`` (outputs are
logits, the target lies in [0, 1]) or ``"gaussian"`` (outputs are means).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["LOGVAR_CLAMP", "reconstruction_loss", "sharpened_target", "student_t_assignment"]

#: Log-variances (of the encoder, the prior and the similarity loss) are clamped to this range
#: before they are exponentiated, so one outlier cannot overflow ``exp`` (DVAE spec F4).
LOGVAR_CLAMP = (-10.0, 10.0)


def reconstruction_loss(
    output: torch.Tensor,
    target: torch.Tensor,
    likelihood: str = "bernoulli",
    reduction: str = "mean",
    variance: float = 0.5,
) -> torch.Tensor:
    """Reconstruction loss of pre-activation decoder outputs.

    Parameters
    ----------
    output : torch.Tensor of shape (N, D)
        Decoder output: logits for ``"bernoulli"``, means for ``"gaussian"``.
    target : torch.Tensor of shape (N, D)
        Input rows (in [0, 1] for ``"bernoulli"``).
    likelihood : {"bernoulli", "gaussian"}, default="bernoulli"
        Binary cross-entropy with logits, or the Gaussian likelihood.
    reduction : {"mean", "none"}, default="mean"
        ``"mean"``: the mean over all elements of the binary cross-entropy or of the
        squared error (the autoencoders' training loss). ``"none"``: the per-sample negative
        log-likelihood summed over features, with the Gaussian's ``1 / (2 variance)`` scale
        and normalising constant (the VAE's reconstruction term).
    variance : float, default=0.5
        The fixed variance lambda of the Gaussian likelihood (``reduction="none"`` only).

    Returns
    -------
    torch.Tensor
        A scalar for ``"mean"``, shape ``(N,)`` for ``"none"``.
    """
    if likelihood == "bernoulli":
        elem = F.binary_cross_entropy_with_logits(output, target, reduction="none")
        if reduction == "mean":
            return elem.mean()
        if reduction == "none":
            return elem.sum(-1)
    elif likelihood == "gaussian":
        if reduction == "mean":
            return (output - target).square().mean()
        if reduction == "none":
            d = target.shape[-1]
            sse = (target - output).square().sum(-1)
            return sse / (2.0 * variance) + 0.5 * d * math.log(2.0 * math.pi * variance)
    else:
        raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}.")
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}.")


def student_t_assignment(
    z: torch.Tensor, centers: torch.Tensor, alpha: float = 1.0
) -> torch.Tensor:
    """Compute the soft assignment of codes to centres under a Student's t kernel (DEC).

    ``q_ij`` is proportional to ``(1 + ||z_i - mu_j||^2 / alpha) ** (-(alpha + 1) / 2)``.

    Parameters
    ----------
    z : torch.Tensor of shape (N, J)
        Codes.
    centers : torch.Tensor of shape (K, J)
        Cluster centres.
    alpha : float, default=1.0
        Degrees of freedom.

    Returns
    -------
    torch.Tensor of shape (N, K)
        Rows sum to 1.
    """
    dist = (z[:, None, :] - centers[None, :, :]).square().sum(-1)
    q = (1.0 + dist / alpha).pow(-(alpha + 1.0) / 2.0)
    return q / q.sum(dim=1, keepdim=True)


def sharpened_target(q: torch.Tensor) -> torch.Tensor:
    """Compute the target distribution of DEC: ``p_ij`` proportional to ``q_ij^2 / sum_i q_ij``.

    Squaring puts more weight on confident assignments; dividing by the cluster's soft
    frequency keeps large clusters from absorbing the others.

    Parameters
    ----------
    q : torch.Tensor of shape (N, K)
        Soft assignments (rows sum to 1).

    Returns
    -------
    torch.Tensor of shape (N, K)
        Rows sum to 1.
    """
    weight = q.square() / q.sum(dim=0)
    return weight / weight.sum(dim=1, keepdim=True)
