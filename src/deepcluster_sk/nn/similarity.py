"""The diagonal-Gaussian W2 distance and the DVAE similarity loss (He Ma, 2022, eqs. 3.8-3.13).

Numpy-or-torch pure functions: they take numpy arrays (and return numpy) or tensors (and
keep the autograd graph). :mod:`deepcluster_sk.metrics` re-exports them.

"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state

from .losses import LOGVAR_CLAMP

__all__ = [
    "similarity_bandwidth",
    "transition_weights",
    "wasserstein_distance_diag",
    "wasserstein_similarity_loss",
]

# Lower bound on a cluster's batch mass n_k (spec §2 step 1): an empty cluster would give 0/0.
_MASS_EPS = 1e-8
_REDUCTIONS = ("paper", "anchor_mean")


# --------------------------------------------------------------------------------------------------
# Wasserstein distance
# --------------------------------------------------------------------------------------------------
def _torch_float_dtype(*arrays: Any) -> torch.dtype:
    """Common floating dtype of the torch tensors among ``arrays``."""
    dtype = None
    for a in arrays:
        if isinstance(a, torch.Tensor) and a.is_floating_point():
            dtype = a.dtype if dtype is None else torch.promote_types(dtype, a.dtype)
    return torch.get_default_dtype() if dtype is None else dtype


def _to_torch(arrays: tuple[Any, ...]) -> tuple[torch.Tensor, ...]:
    """Convert all ``arrays`` to floating torch tensors of one dtype and device."""
    dtype = _torch_float_dtype(*arrays)
    device = next((a.device for a in arrays if isinstance(a, torch.Tensor)), None)
    return tuple(torch.as_tensor(a, dtype=dtype, device=device) for a in arrays)


def wasserstein_distance_diag(
    mu1: ArrayLike | torch.Tensor,
    sigma1: ArrayLike | torch.Tensor,
    mu2: ArrayLike | torch.Tensor,
    sigma2: ArrayLike | torch.Tensor,
    *,
    pairwise: bool = False,
) -> np.ndarray | torch.Tensor:
    r"""Squared 2-Wasserstein distance W2² between diagonal Gaussians.

    For N(μ₁, diag σ₁²) and N(μ₂, diag σ₂²) the closed form is

    .. math:: W_2^2 = \lVert \mu_1 - \mu_2 \rVert^2 + \lVert \sigma_1 - \sigma_2 \rVert^2,

    the diagonal case of ‖Δμ‖² + tr(Σ₁ + Σ₂ − 2(Σ₁^½ Σ₂ Σ₁^½)^½). **The result is the squared
    distance W2², not W2**, as in the DVAE paper's eq. 3.13; take the square root for a metric.

    Parameters
    ----------
    mu1, sigma1 : array-like or torch.Tensor of shape (..., J)
        Means and **standard deviations** (not variances, not log-variances) of the first
        Gaussians. With ``pairwise=True``: shape (N, J).
    mu2, sigma2 : array-like or torch.Tensor of shape (..., J)
        Means and standard deviations of the second Gaussians. With ``pairwise=True``: shape (M, J).
    pairwise : bool, default=False
        If False, the leading dimensions of all inputs broadcast and the distance is taken between
        matching Gaussians. If True, return the (N, M) matrix of distances between every first and
        every second Gaussian, computed by broadcast differences (N, 1, J) − (1, M, J), which is
        exact, zero on identical pairs and smooth (unlike ``torch.cdist(...) ** 2``, whose gradient
        goes through a square root that is singular at zero).

    Returns
    -------
    distance : ndarray or torch.Tensor of shape (...) or (N, M)
        W2² ≥ 0. A torch tensor (differentiable, with the inputs' floating dtype and device) if
        any input is a torch tensor, otherwise a float64 ndarray (a ``np.float64`` scalar when the
        inputs are 1-D).

    Raises
    ------
    ValueError
        If ``pairwise=True`` and the inputs are not 2-D with a common last dimension.

    References
    ----------
    .. [1] C. R. Givens and R. M. Shortt, "A class of Wasserstein metrics for probability
       distributions", Michigan Mathematical Journal 31(2):231-240, 1984.
    .. [2] H. Ma, "Achieving deep clustering through the use of variational autoencoders and
       similarity-based loss", Mathematical Biosciences and Engineering 19(10):10344-10360, 2022,
       eq. 3.13.

    Examples
    --------
    >>> import numpy as np
    >>> from deepcluster_sk.metrics import wasserstein_distance_diag
    >>> float(wasserstein_distance_diag([0.0, 0.0], [1.0, 1.0], [3.0, 4.0], [1.0, 2.0]))
    26.0
    >>> mu, sigma = np.zeros((3, 2)), np.ones((3, 2))
    >>> wasserstein_distance_diag(mu, sigma, mu[:2] + 1.0, sigma[:2], pairwise=True)
    array([[2., 2.],
           [2., 2.],
           [2., 2.]])
    """
    arrays = (mu1, sigma1, mu2, sigma2)
    if any(isinstance(a, torch.Tensor) for a in arrays):
        mu1, sigma1, mu2, sigma2 = _to_torch(arrays)
        mu1, sigma1 = torch.broadcast_tensors(mu1, sigma1)
        mu2, sigma2 = torch.broadcast_tensors(mu2, sigma2)
    else:
        mu1, sigma1, mu2, sigma2 = (np.asarray(a, dtype=np.float64) for a in arrays)
        mu1, sigma1 = np.broadcast_arrays(mu1, sigma1)
        mu2, sigma2 = np.broadcast_arrays(mu2, sigma2)
    if pairwise:
        if mu1.ndim != 2 or mu2.ndim != 2 or mu1.shape[1] != mu2.shape[1]:
            raise ValueError(
                "With pairwise=True, mu1/sigma1 must have shape (N, J) and mu2/sigma2 shape "
                f"(M, J); got {tuple(mu1.shape)} and {tuple(mu2.shape)}."
            )
        # (N, 1, J) - (1, M, J) -> (N, M, J)
        d_mu = mu1[:, None, :] - mu2[None, :, :]
        d_sigma = sigma1[:, None, :] - sigma2[None, :, :]
    else:
        d_mu = mu1 - mu2
        d_sigma = sigma1 - sigma2
    return (d_mu**2).sum(-1) + (d_sigma**2).sum(-1)


# --------------------------------------------------------------------------------------------------
# DVAE similarity loss
# --------------------------------------------------------------------------------------------------
def transition_weights(gamma: ArrayLike | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Ideal transition matrix W = Γ diag(1/n) Γᵀ of a batch of soft cluster assignments.

    ``w_ij = Σ_k γ_ik γ_jk / n_k`` with the batch cluster masses ``n_k = Σ_i γ_ik`` clamped below
    at 1e-8 (an empty cluster would otherwise give 0/0). When the rows of Γ sum to 1, W is
    symmetric, non-negative and doubly stochastic: row i is the target distribution over the
    batch partners j of sample i.

    Parameters
    ----------
    gamma : array-like or torch.Tensor of shape (N, C)
        Cluster probabilities of the N samples of a batch (rows on the simplex).

    Returns
    -------
    W : ndarray or torch.Tensor of shape (N, N)
        Torch tensor (differentiable with respect to ``gamma``) for a torch input, float64
        ndarray otherwise.

    Raises
    ------
    ValueError
        If ``gamma`` is not 2-D.

    References
    ----------
    .. [1] K. Kamnitsas, D. C. Castro, L. Le Folgoc, I. Walker, R. Tanno, D. Rueckert, B. Glocker,
       A. Criminisi and A. Nori, "Semi-supervised learning via compact latent space clustering",
       ICML 2018.
    .. [2] H. Ma, "Achieving deep clustering through the use of variational autoencoders and
       similarity-based loss", Mathematical Biosciences and Engineering 19(10):10344-10360, 2022,
       eqs. 3.10-3.11.

    Examples
    --------
    >>> import torch
    >>> from deepcluster_sk.metrics import transition_weights
    >>> transition_weights(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    tensor([[0.5000, 0.5000, 0.0000],
            [0.5000, 0.5000, 0.0000],
            [0.0000, 0.0000, 1.0000]])
    """
    is_torch = isinstance(gamma, torch.Tensor)
    g = _to_torch((gamma,))[0] if is_torch else torch.as_tensor(np.asarray(gamma, np.float64))
    if g.ndim != 2:
        raise ValueError(f"gamma must have shape (N, C), got {tuple(g.shape)}.")
    mass = g.sum(dim=0).clamp_min(_MASS_EPS)  # (C,)
    weights = (g / mass) @ g.T  # (N, N)
    return weights if is_torch else weights.numpy()


def wasserstein_similarity_loss(
    gamma: ArrayLike | torch.Tensor,
    mu: ArrayLike | torch.Tensor,
    logvar: ArrayLike | torch.Tensor,
    *,
    reduction: str = "paper",
    include_self: bool = True,
    detach_transition_weights: bool = False,
    bandwidth: float = 1.0,
) -> torch.Tensor | float:
    """Similarity loss of DVAE: cross-entropy between transition weights and a Wasserstein kernel.

    On a batch of N samples with cluster probabilities Γ, latent means M and latent standard
    deviations S = exp(logvar / 2):

    1. ``W = transition_weights(Γ)`` (rows sum to 1);
    2. ``D_ij = ‖m_i − m_j‖² + ‖s_i − s_j‖²``, the squared 2-Wasserstein distance
       (:func:`wasserstein_distance_diag` with ``pairwise=True``);
    3. ``Q = 1 / (1 + D / h)`` in (0, 1] with the bandwidth ``h`` (the paper: h = 1) and
       ``log P = log_softmax(Q, dim=1)``;
    4. ``L = −(1/N²) Σ_ij W_ij log P_ij`` (``reduction="paper"``) or with 1/N
       (``reduction="anchor_mean"``).

    With ``include_self=True`` this equals (1/N²) Σ_i H(w_i, p_i) ≥ (1/N²) Σ_i H(w_i) ≥ 0.

    Parameters
    ----------
    gamma : array-like or torch.Tensor of shape (N, C)
        Classifier probabilities γ_ik (rows on the simplex).
    mu : array-like or torch.Tensor of shape (N, J)
        Means of q(z | x).
    logvar : array-like or torch.Tensor of shape (N, J)
        Log-variances log σ² of q(z | x). They are clamped to
        :data:`deepcluster_sk.nn.LOGVAR_CLAMP` = [-10, 10] before the exponential (the range the
        VAE's encoder and prior use), so the standard deviations stay in [6.7e-3, 148] and the
        loss and its gradient stay finite (the gradient with respect to a clamped entry is 0).
    reduction : {"paper", "anchor_mean"}, default="paper"
        ``"paper"`` divides the sum by N² (the paper's eq. 3.9); ``"anchor_mean"`` divides by N,
        i.e. the mean over anchors i of the per-anchor cross-entropy, N times larger.
    include_self : bool, default=True
        If True, the pairs i = j enter both W and the softmax (the literal sum over all j). If
        False, the diagonal is removed from the softmax (its logit is set to −inf) and from W
        (``W_ii = 0``), and each row of W is renormalised to sum to 1 again, so that it stays a
        target distribution over the other samples. A row whose off-diagonal mass is below the
        machine epsilon ε of the dtype is divided by ε instead (row sum ``mass / ε`` < 1): a
        sample whose clusters hold no other sample of the batch has no target and contributes
        (almost) nothing, and the gradient stays finite.
    detach_transition_weights : bool, default=False
        If True, W is treated as a constant target (no gradient flows into ``gamma``). The
        default lets the gradient flow through W into the classifier.
    bandwidth : float, default=1.0
        ``h``, the squared distance at which the kernel falls to 1/2. The paper's kernel has
        h = 1, which is inert when the codes sit tens of squared units apart (the kernel is
        then ~0 for every pair); :func:`similarity_bandwidth` sets h from the data, which
        makes the loss invariant to the scale of the latent space.

    Returns
    -------
    loss : torch.Tensor or float
        Scalar. A 0-dim tensor (differentiable, in the inputs' floating dtype) if any input is a
        torch tensor; a Python float computed in float64 if all inputs are array-likes. Equals 0
        for N = 1.

    Raises
    ------
    ValueError
        If the shapes are inconsistent or ``reduction`` is not one of the above.

    References
    ----------
    .. [1] H. Ma, "Achieving deep clustering through the use of variational autoencoders and
       similarity-based loss", Mathematical Biosciences and Engineering 19(10):10344-10360, 2022,
       eqs. 3.8-3.13.
    .. [2] K. Kamnitsas et al., "Semi-supervised learning via compact latent space clustering",
       ICML 2018.

    Examples
    --------
    >>> import torch
    >>> from deepcluster_sk.metrics import wasserstein_similarity_loss
    >>> gamma = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9]])
    >>> mu = torch.tensor([[0.0, 0.0], [0.1, 0.0], [3.0, 3.0]], requires_grad=True)
    >>> logvar = torch.zeros(3, 2)
    >>> loss = wasserstein_similarity_loss(gamma, mu, logvar)
    >>> loss.backward()
    >>> round(loss.item(), 4), bool(torch.isfinite(mu.grad).all())
    (0.3244, True)
    >>> round(wasserstein_similarity_loss(gamma.numpy(), mu.detach().numpy(), logvar.numpy()), 4)
    0.3244
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}.")
    arrays = (gamma, mu, logvar)
    is_torch = any(isinstance(a, torch.Tensor) for a in arrays)
    if is_torch:
        gamma, mu, logvar = _to_torch(arrays)
    else:
        gamma, mu, logvar = (torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in arrays)
    if gamma.ndim != 2 or mu.ndim != 2 or mu.shape != logvar.shape:
        raise ValueError(
            "gamma must have shape (N, C) and mu, logvar shape (N, J); got "
            f"{tuple(gamma.shape)}, {tuple(mu.shape)} and {tuple(logvar.shape)}."
        )
    if gamma.shape[0] != mu.shape[0]:
        raise ValueError(
            f"gamma and mu must have the same number of rows, got {gamma.shape[0]} and "
            f"{mu.shape[0]}."
        )
    n_samples = mu.shape[0]
    if n_samples == 1:
        # With one sample the loss is 0 either way; the include_self=True path gives an exact 0
        # with a well-defined (zero) gradient, whereas an all-masked softmax row would be NaN.
        include_self = True

    weights = transition_weights(gamma)  # (N, N)
    if detach_transition_weights:
        weights = weights.detach()
    sigma = torch.exp(0.5 * logvar.clamp(*LOGVAR_CLAMP))  # (N, J)
    distance = wasserstein_distance_diag(mu, sigma, mu, sigma, pairwise=True)  # (N, N)
    if not (isinstance(bandwidth, numbers.Real) and np.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError(f"bandwidth must be a positive finite number, got {bandwidth!r}.")
    kernel = 1.0 / (1.0 + distance / float(bandwidth))  # (N, N), in (0, 1]

    if include_self:
        log_p = torch.log_softmax(kernel, dim=1)
    else:
        eye = torch.eye(n_samples, dtype=torch.bool, device=kernel.device)
        log_p = torch.log_softmax(kernel.masked_fill(eye, float("-inf")), dim=1)
        # Replace the -inf diagonal by 0 before multiplying (0 * -inf would be NaN, and so would
        # its gradient); masked_fill sends no gradient to the masked entries.
        log_p = log_p.masked_fill(eye, 0.0)
        weights = weights.masked_fill(eye, 0.0)
        row_mass = weights.sum(dim=1, keepdim=True).clamp_min(torch.finfo(weights.dtype).eps)
        weights = weights / row_mass

    normaliser = n_samples**2 if reduction == "paper" else n_samples
    loss = -(weights * log_p).sum() / normaliser
    return loss if is_torch else float(loss)


def similarity_bandwidth(
    mu: ArrayLike,
    logvar: ArrayLike | None = None,
    *,
    max_samples: int = 2000,
    random_state: Any = None,
) -> float:
    """Median pairwise squared 2-Wasserstein distance: a data-driven kernel bandwidth.

    The bandwidth ``h`` of :func:`wasserstein_similarity_loss` at which the kernel
    ``1 / (1 + D / h)`` is 1/2 for the median pair. Scaling every mean and standard deviation
    by ``c`` scales ``h`` by ``c**2``, so the scaled kernel, and the loss, do not change.

    Parameters
    ----------
    mu : array-like of shape (n_samples, n_features)
        Latent means (e.g. the pretrained codes).
    logvar : array-like of shape (n_samples, n_features) or None, default=None
        Log-variances; None treats the points as Dirac masses (plain squared distances).
    max_samples : int, default=2000
        At most this many rows, drawn without replacement, enter the median (the cost is
        quadratic in this number).
    random_state : int, RandomState instance or None, default=None
        Seeds the subsample.

    Returns
    -------
    float
        The median over distinct pairs, positive (the smallest positive float64 when all
        points coincide).

    Examples
    --------
    >>> import numpy as np
    >>> from deepcluster_sk.metrics import similarity_bandwidth
    >>> similarity_bandwidth(np.array([[0.0], [1.0], [3.0]]))
    4.0
    """
    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim != 2 or mu.shape[0] < 2:
        raise ValueError(f"mu must have shape (n_samples >= 2, n_features), got {mu.shape}.")
    sigma = np.zeros_like(mu)
    if logvar is not None:
        logvar = np.asarray(logvar, dtype=np.float64)
        if logvar.shape != mu.shape:
            raise ValueError(f"logvar must have the shape of mu {mu.shape}, got {logvar.shape}.")
        sigma = np.exp(0.5 * np.clip(logvar, *LOGVAR_CLAMP))
    if not (isinstance(max_samples, numbers.Integral) and max_samples >= 2):
        raise ValueError(f"max_samples must be an integer >= 2, got {max_samples!r}.")
    if mu.shape[0] > max_samples:
        rows = check_random_state(random_state).choice(mu.shape[0], max_samples, replace=False)
        mu, sigma = mu[rows], sigma[rows]
    distance = wasserstein_distance_diag(
        torch.as_tensor(mu),
        torch.as_tensor(sigma),
        torch.as_tensor(mu),
        torch.as_tensor(sigma),
        pairwise=True,
    ).numpy()
    upper = distance[np.triu_indices(mu.shape[0], k=1)]
    return float(max(np.median(upper), np.finfo(np.float64).tiny))
