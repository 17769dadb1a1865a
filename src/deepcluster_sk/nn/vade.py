"""The Gaussian-mixture-prior VAE of DVAE (VaDE family) and its loss terms as pure functions.

Notation follows ``shared/DVAE_SPEC.md``: ``mu``/``logvar`` are the encoder's posterior mean
and log-variance (``N x J``), ``mu_c``/``logvar_c`` the prior components (``C x J``),
``log_pi`` the log mixture weights (``C``) and ``log_gamma`` the log classifier
probabilities (``N x C``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .autoencoders import mlp

__all__ = [
    "LOGVAR_CLAMP",
    "GMMPriorVAE",
    "component_kl",
    "gmm_log_posterior",
    "negative_elbo_terms",
    "reconstruction_nll",
]

#: Encoder and prior log-variances are clamped to this range where they are used (spec F4).
LOGVAR_CLAMP = (-10.0, 10.0)


def component_kl(
    mu: torch.Tensor, logvar: torch.Tensor, mu_c: torch.Tensor, logvar_c: torch.Tensor
) -> torch.Tensor:
    """KL(N(mu, diag e^logvar) || N(mu_c, diag e^logvar_c)) for every sample and component.

    Parameters
    ----------
    mu, logvar : torch.Tensor of shape (N, J)
        Posterior mean and log-variance.
    mu_c, logvar_c : torch.Tensor of shape (C, J)
        Prior component means and log-variances.

    Returns
    -------
    torch.Tensor of shape (N, C)
    """
    diff2 = (mu.unsqueeze(1) - mu_c.unsqueeze(0)).square()  # (N, C, J)
    ratio = (logvar.exp().unsqueeze(1) + diff2) * (-logvar_c).exp().unsqueeze(0)
    return 0.5 * (logvar_c.unsqueeze(0) - logvar.unsqueeze(1) + ratio - 1.0).sum(-1)


def gmm_log_posterior(
    z: torch.Tensor, log_pi: torch.Tensor, mu_c: torch.Tensor, logvar_c: torch.Tensor
) -> torch.Tensor:
    """log p(c | z) under a diagonal Gaussian mixture, by log-softmax (no underflow).

    Parameters
    ----------
    z : torch.Tensor of shape (N, J)
    log_pi : torch.Tensor of shape (C,)
    mu_c, logvar_c : torch.Tensor of shape (C, J)

    Returns
    -------
    torch.Tensor of shape (N, C)
        Rows are log-probabilities (``logsumexp`` over the last axis is 0).
    """
    diff2 = (z.unsqueeze(1) - mu_c.unsqueeze(0)).square()
    log_norm = -0.5 * (logvar_c.unsqueeze(0) + diff2 * (-logvar_c).exp().unsqueeze(0)).sum(-1)
    return torch.log_softmax(log_pi.unsqueeze(0) + log_norm, dim=-1)


def reconstruction_nll(
    output: torch.Tensor, x: torch.Tensor, likelihood: str, variance: float = 0.5
) -> torch.Tensor:
    """Per-sample negative log-likelihood of ``x`` under the decoder, summed over features.

    Parameters
    ----------
    output : torch.Tensor of shape (N, D)
        Decoder logits (Bernoulli) or means (Gaussian).
    x : torch.Tensor of shape (N, D)
    likelihood : {"bernoulli", "gaussian"}
    variance : float, default=0.5
        The fixed variance lambda of the Gaussian decoder.

    Returns
    -------
    torch.Tensor of shape (N,)
    """
    if likelihood == "bernoulli":
        return F.binary_cross_entropy_with_logits(output, x, reduction="none").sum(-1)
    d = x.shape[-1]
    sse = (x - output).square().sum(-1)
    return sse / (2.0 * variance) + 0.5 * d * math.log(2.0 * math.pi * variance)


def negative_elbo_terms(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    log_gamma: torch.Tensor,
    log_pi: torch.Tensor,
    mu_c: torch.Tensor,
    logvar_c: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The latent and cluster terms of the negative ELBO (spec §1.3), per sample.

    Parameters
    ----------
    mu, logvar : torch.Tensor of shape (N, J)
        Posterior mean and (clamped) log-variance.
    log_gamma : torch.Tensor of shape (N, C)
        Log classifier probabilities (from ``log_softmax``).
    log_pi : torch.Tensor of shape (C,)
        Log mixture weights.
    mu_c, logvar_c : torch.Tensor of shape (C, J)
        Prior components.

    Returns
    -------
    l_z, l_c : torch.Tensor of shape (N,)
        ``l_z = sum_c gamma_c KL_c`` and ``l_c = KL(gamma || pi)``; adding the
        reconstruction NLL gives the per-sample negative ELBO.
    """
    gamma = log_gamma.exp()
    l_z = (gamma * component_kl(mu, logvar, mu_c, logvar_c)).sum(-1)
    l_c = (gamma * (log_gamma - log_pi.unsqueeze(0))).sum(-1)
    return l_z, l_c


class GMMPriorVAE(nn.Module):
    """VAE with a learnable Gaussian-mixture prior and a classifier q(c | z).

    Encoder ``D-h1-...-hk`` (ReLU) with linear heads for the mean and the log-variance; decoder
    ``J-hk-...-h1-D`` returning logits (Bernoulli) or means (Gaussian); classifier
    ``Linear(J, C)`` when ``C >= 10`` and ``Linear(J, C)-ReLU-Linear(C, C)`` otherwise (the
    paper's "10-C" and "10-C-C"); prior parameters ``omega`` (``pi = softmax(omega)``),
    ``mu_c`` and ``logvar_c``.

    Parameters
    ----------
    n_features : int
    n_clusters : int
    hidden_dims : sequence of int, default=(500, 500, 2000)
    latent_dim : int, default=10
    """

    def __init__(
        self,
        n_features: int,
        n_clusters: int,
        hidden_dims: Sequence[int] = (500, 500, 2000),
        latent_dim: int = 10,
    ):
        super().__init__()
        hidden = [int(h) for h in hidden_dims]
        j, c = int(latent_dim), int(n_clusters)
        self.latent_dim = j
        self.n_clusters = c
        if hidden:
            self.trunk: nn.Module = mlp([int(n_features), *hidden], final_activation=True)
            width = hidden[-1]
        else:
            self.trunk = nn.Identity()
            width = int(n_features)
        self.mu_head = nn.Linear(width, j)
        self.logvar_head = nn.Linear(width, j)
        self.decoder = mlp([j, *hidden[::-1], int(n_features)])
        if c >= 10:
            self.classifier: nn.Module = nn.Linear(j, c)
        else:
            self.classifier = nn.Sequential(nn.Linear(j, c), nn.ReLU(), nn.Linear(c, c))
        for layer in self.classifier.modules():
            if isinstance(layer, nn.Linear):
                nn.init.normal_(layer.weight, 0.0, 0.01)
                nn.init.zeros_(layer.bias)
        self.omega = nn.Parameter(torch.zeros(c))
        self.mu_c = nn.Parameter(torch.zeros(c, j))
        self.logvar_c = nn.Parameter(torch.zeros(c, j))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Posterior mean ``(N, J)``."""
        return self.mu_head(self.trunk(x))

    def encode_full(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and clamped log-variance, each ``(N, J)``."""
        h = self.trunk(x)
        return self.mu_head(h), self.logvar_head(h).clamp(*LOGVAR_CLAMP)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder logits or means ``(N, D)``."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic autoencoding through the mean (used for pretraining)."""
        return self.decode(self.encode(x))

    def log_pi(self) -> torch.Tensor:
        """Log mixture weights ``(C,)``."""
        return torch.log_softmax(self.omega, dim=0)

    def prior_logvar(self) -> torch.Tensor:
        """Clamped prior log-variances ``(C, J)``."""
        return self.logvar_c.clamp(*LOGVAR_CLAMP)

    def autoencoder_parameters(self) -> list[nn.Parameter]:
        """Parameters trained in pretraining: trunk, mean head and decoder."""
        return [
            *self.trunk.parameters(),
            *self.mu_head.parameters(),
            *self.decoder.parameters(),
        ]

    def prior_parameters(self) -> list[nn.Parameter]:
        """The mixture prior's parameters."""
        return [self.omega, self.mu_c, self.logvar_c]
