"""The Gaussian-mixture-prior VAE of DVAE (VaDE family) and its loss terms as pure functions.

Notation follows the DVAE page of the user guide: ``mu``/``logvar`` are the encoder's
posterior mean and log-variance (``N x J``), ``mu_c``/``logvar_c`` the prior components (``C x J``),
``log_pi`` the log mixture weights (``C``) and ``log_gamma`` the log classifier
probabilities (``N x C``).

Over 400 lines because the ELBO terms, the prior, the network and the joint loss are one
model whose derivations sit in their docstrings.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .losses import LOGVAR_CLAMP
from .networks import Autoencoder
from .similarity import wasserstein_similarity_loss

__all__ = [
    "DVAELossTerms",
    "GMMPrior",
    "GMMPriorVAE",
    "cluster_classifier",
    "component_kl",
    "gmm_log_posterior",
    "init_classifier_as_nearest_centre",
    "negative_elbo_terms",
]


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


def cluster_classifier(latent_dim: int, n_clusters: int) -> nn.Module:
    """The classifier q(c | z): ``Linear(J, C)`` when ``C >= 10``, else ``J-C-C`` with a ReLU.

    These are the paper's "10-C" and "10-C-C" networks, initialised with small weights
    (normal, std 0.01) and zero biases.

    Parameters
    ----------
    latent_dim : int
        J.
    n_clusters : int
        C.

    Returns
    -------
    torch.nn.Module
        Maps codes ``(N, J)`` to logits ``(N, C)``.
    """
    j, c = int(latent_dim), int(n_clusters)
    if c >= 10:
        classifier: nn.Module = nn.Linear(j, c)
    else:
        classifier = nn.Sequential(nn.Linear(j, c), nn.ReLU(), nn.Linear(c, c))
    for layer in classifier.modules():
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, 0.01)
            nn.init.zeros_(layer.bias)
    return classifier


class GMMPrior(nn.Module):
    """A learnable diagonal Gaussian-mixture prior p(c) p(z | c).

    Parameters ``omega`` (``pi = softmax(omega)``), ``mu_c`` and ``logvar_c``, all zero until
    the estimator initialises them from a partition of the pretrained codes.

    Parameters
    ----------
    n_clusters : int
        C.
    latent_dim : int
        J.
    """

    def __init__(self, n_clusters: int, latent_dim: int):
        super().__init__()
        self.omega = nn.Parameter(torch.zeros(int(n_clusters)))
        self.mu_c = nn.Parameter(torch.zeros(int(n_clusters), int(latent_dim)))
        self.logvar_c = nn.Parameter(torch.zeros(int(n_clusters), int(latent_dim)))

    def log_pi(self) -> torch.Tensor:
        """Compute the log mixture weights.

        Returns
        -------
        torch.Tensor of shape (C,)
            ``log_softmax(omega)``.
        """
        return torch.log_softmax(self.omega, dim=0)

    def logvar(self) -> torch.Tensor:
        """Compute the clamped component log-variances.

        Returns
        -------
        torch.Tensor of shape (C, J)
            ``logvar_c`` clamped to the range every log-variance of the package is kept in.
        """
        return self.logvar_c.clamp(*LOGVAR_CLAMP)

    def init_from_partition(self, Z: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, ...]:
        """Set the weights, means and variances to those of a partition of codes ``Z``.

        An empty cluster (possible only for degenerate codes) sits at the codes' mean with
        unit variance; variances get 1e-6 added.

        Parameters
        ----------
        Z : ndarray of shape (N, J)
            Codes.
        labels : ndarray of shape (N,)
            Their partition into ``C`` clusters.

        Returns
        -------
        centers : ndarray of shape (C, J)
            The clusters' means.
        var : ndarray of shape (C, J)
            Their per-dimension variances.
        """
        n_clusters = self.mu_c.shape[0]
        counts = np.bincount(labels, minlength=n_clusters).astype(np.float64)
        centers = np.tile(Z.mean(axis=0), (n_clusters, 1))
        var = np.ones((n_clusters, Z.shape[1]))
        for k in range(n_clusters):
            members = Z[labels == k]
            if len(members):
                centers[k] = members.mean(axis=0)
            if len(members) > 1:
                var[k] = members.var(axis=0, ddof=1)
        var += 1e-6
        weights = np.log(np.maximum(counts, 1.0) / counts.sum())
        with torch.no_grad():
            self.mu_c.copy_(torch.as_tensor(centers, dtype=torch.float32))
            self.logvar_c.copy_(torch.as_tensor(np.log(var), dtype=torch.float32))
            self.omega.copy_(torch.as_tensor(weights, dtype=torch.float32))
        return centers, var


class GMMPriorVAE(Autoencoder):
    """VAE with a Gaussian-mixture prior and a classifier q(c | z), on any encoder.

    The encoder's features feed two linear heads, the posterior mean (``head``, the code of
    :meth:`encode`) and the log-variance (``logvar_head``); the decoder returns logits
    (Bernoulli) or means (Gaussian).

    Parameters
    ----------
    encoder : torch.nn.Module
        As in :class:`~deepcluster_sk.nn.Autoencoder`.
    mu_head, logvar_head : torch.nn.Module
        ``Linear(h, J)`` heads of the posterior mean and log-variance.
    decoder : torch.nn.Module
        As in :class:`~deepcluster_sk.nn.Autoencoder`.
    classifier : torch.nn.Module
        The cluster classifier q(c | z), see :func:`cluster_classifier`.
    prior : GMMPrior
        The mixture prior.
    input_shape : tuple of int or None, default=None
        Shape each row is viewed as before the encoder.
    """

    def __init__(
        self,
        encoder: nn.Module,
        mu_head: nn.Module,
        logvar_head: nn.Module,
        decoder: nn.Module,
        classifier: nn.Module,
        prior: GMMPrior,
        input_shape: tuple[int, ...] | None = None,
    ):
        super().__init__(
            encoder, mu_head, decoder, int(prior.mu_c.shape[1]), input_shape=input_shape
        )
        self.logvar_head = logvar_head
        self.classifier = classifier
        self.prior = prior
        self.n_clusters = int(prior.mu_c.shape[0])
        # Codes are ``latent_scale`` times the mean head's output, and the decoder reads
        # ``z / latent_scale``: the estimator sets it after pretraining so that the codes
        # have unit variance whatever scale pretraining left them at (see rescale_latent).
        self.register_buffer("latent_scale", torch.ones(()))

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        # Modules pickled before the latent scale existed had unit scale.
        if "latent_scale" not in self._buffers:
            self.register_buffer("latent_scale", torch.ones(()))

    def rescale_latent(self, factor: float) -> None:
        """Multiply the codes by ``factor`` without changing any reconstruction.

        Parameters
        ----------
        factor : float
            Positive; the decoder divides its input by the same factor, so
            ``decode(encode(x))`` is unchanged.
        """
        with torch.no_grad():
            self.latent_scale.mul_(float(factor))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map flattened rows to codes (the posterior means).

        Parameters
        ----------
        x : torch.Tensor of shape (n, d)
            Flattened rows.

        Returns
        -------
        torch.Tensor of shape (n, latent_dim)
            The codes, float32, times ``latent_scale``.
        """
        return super().encode(x) * self.latent_scale

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map codes to pre-activation flattened rows.

        Parameters
        ----------
        z : torch.Tensor of shape (n, latent_dim)
            Codes, as :meth:`encode` returns them.

        Returns
        -------
        torch.Tensor of shape (n, d)
            Logits (Bernoulli) or means (Gaussian), float32; the decoder reads
            ``z / latent_scale``.
        """
        return super().decode(z / self.latent_scale)

    def encode_full(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Compute the posterior mean and log-variance of flattened rows.

        Parameters
        ----------
        x : torch.Tensor of shape (N, D)
            Flattened rows.

        Returns
        -------
        mu : torch.Tensor of shape (N, J)
            Posterior means, float32.
        logvar : torch.Tensor of shape (N, J)
            Posterior log-variances, float32, clamped.
        """
        h = self.features(x)
        mu, logvar = self.head(h), self.logvar_head(h)
        return mu.float() * self.latent_scale, logvar.float().clamp(*LOGVAR_CLAMP)

    def elbo_terms(
        self,
        x: torch.Tensor,
        mu: torch.Tensor,
        logvar: torch.Tensor,
        eps: torch.Tensor,
        reconstruction: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        labels: torch.Tensor | None = None,
        smoothing: float = 1e-3,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-sample terms of the negative ELBO at ``z = mu + sigma * eps``.

        The decoder runs in the caller's autocast region; the classifier and the mixture
        terms run in float32.

        Parameters
        ----------
        x : torch.Tensor of shape (N, D)
            Rows.
        mu, logvar : torch.Tensor of shape (N, J)
            Posterior means and log-variances.
        eps : torch.Tensor of shape (N, J) or (J,)
            Standard-normal noise.
        reconstruction : callable
            ``reconstruction(decoder_output, x)``: the per-sample negative log-likelihood.
        labels : torch.Tensor of shape (N,), optional
            Pseudo-labels: when given, the latent and cluster terms weight the components
            by their one-hot vectors (smoothed by ``smoothing``) instead of by the
            classifier.
        smoothing : float, default=1e-3
            Mass spread evenly over the other components of each pseudo-label.

        Returns
        -------
        rec, l_z, l_c : torch.Tensor of shape (N,)
            ``rec + l_z + l_c`` is the negative ELBO.
        log_gamma : torch.Tensor of shape (N, C)
            The classifier's log-probabilities at ``z``.
        """
        z = mu + (0.5 * logvar).exp() * eps
        rec = reconstruction(self.decode(z), x)
        with torch.autocast(z.device.type, enabled=False):
            log_gamma = torch.log_softmax(self.classifier(z), dim=-1)
            weights = log_gamma
            if labels is not None:
                n_clusters = log_gamma.shape[1]
                target = torch.full_like(log_gamma, smoothing / n_clusters)
                target.scatter_(1, labels[:, None], 1.0 - smoothing + smoothing / n_clusters)
                weights = target.log()
            prior = self.prior
            l_z, l_c = negative_elbo_terms(
                mu, logvar, weights, prior.log_pi(), prior.mu_c, prior.logvar()
            )
        return rec, l_z, l_c, log_gamma

    def prior_parameters(self) -> list[nn.Parameter]:
        """List the mixture prior's parameters.

        Returns
        -------
        list of torch.nn.Parameter
            ``omega``, ``mu_c`` and ``logvar_c``.
        """
        return list(self.prior.parameters())


def init_classifier_as_nearest_centre(
    classifier: nn.Module, centers: torch.Tensor, variance: float, codes: torch.Tensor
) -> None:
    """Set a fresh classifier to the k-means (nearest-centre) rule, softened by ``variance``.

    The logits ``(c_k . z - |c_k|^2 / 2) / variance`` are the log-posterior of an isotropic,
    equal-weight Gaussian mixture at the k-means centres: their argmax is the k-means label.
    For the two-layer classifier (C < 10) the first layer carries these logits shifted to be
    positive on the training codes (so the ReLU is the identity there) and the second layer
    is the identity.
    """
    c = torch.as_tensor(centers, dtype=torch.float32, device=codes.device)
    weight = c / variance
    bias = -0.5 * c.square().sum(1) / variance
    layers = [m for m in classifier.modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():
        layers[0].weight.copy_(weight)
        layers[0].bias.copy_(bias)
        if len(layers) > 1:
            shift = float((-(codes @ weight.T + bias).min()).clamp(min=0.0)) + 1.0
            layers[0].bias.add_(shift)
            layers[1].weight.copy_(torch.eye(c.shape[0], device=codes.device))
            layers[1].bias.fill_(-shift)


def _gradient_ratio(part: torch.Tensor, whole: torch.Tensor, wrt: torch.Tensor) -> float:
    """``||d part / d wrt|| / ||d whole / d wrt||`` without touching parameter gradients."""
    (g_part,) = torch.autograd.grad(part, wrt, retain_graph=True)
    (g_whole,) = torch.autograd.grad(whole, wrt, retain_graph=True)
    return float(g_part.norm() / g_whole.norm().clamp_min(1e-30))


class DVAELossTerms:
    """DVAE's anchored joint loss on one batch (He Ma, 2022, with the anchor of the estimator).

    ``loss = mean(rec + l_z + l_c) + anchor_weight * CE(classifier, pseudo-labels)
    + beta * L_sim``, where the latent and cluster terms weight the components by the
    smoothed pseudo-labels and ``L_sim`` is the Wasserstein similarity loss divided by N
    (``reduction="anchor_mean"``). The decoder runs in the caller's autocast region,
    everything after it in float32.

    Parameters
    ----------
    module : GMMPriorVAE
    reconstruction : callable
        ``reconstruction(decoder_output, x)``: per-sample negative log-likelihood.
    anchor_weight : float
    smoothing : float
        Smoothing of the one-hot pseudo-labels.
    bandwidth : float
        ``h`` of the similarity kernel.
    """

    def __init__(self, module, reconstruction, anchor_weight, smoothing, bandwidth):
        self.module = module
        self.reconstruction = reconstruction
        self.anchor_weight = anchor_weight
        self.smoothing = smoothing
        self.bandwidth = bandwidth

    def __call__(
        self,
        x: torch.Tensor,
        labels: torch.Tensor,
        eps_generator: torch.Generator,
        beta: float,
        measure_ratio: bool = False,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], float | None]:
        """Return the loss, its terms (detached means), and the similarity gradient ratio.

        The ratio, ``||d(beta L_sim)/d mu|| / ||d(rest)/d mu||``, is measured only when
        ``measure_ratio`` and ``beta > 0`` (else None).
        """
        module = self.module
        mu, logvar = module.encode_full(x)
        eps = torch.randn(mu.shape, generator=eps_generator, device=mu.device, dtype=mu.dtype)
        rec, l_z, l_c, log_gamma = module.elbo_terms(
            x, mu, logvar, eps, self.reconstruction, labels=labels, smoothing=self.smoothing
        )
        ratio = None
        with torch.autocast(mu.device.type, enabled=False):
            prior = module.prior
            log_pi, mu_c, logvar_c = prior.log_pi(), prior.mu_c, prior.logvar()
            # The anchor: the classifier follows the pseudo-labels (cross-entropy).
            anchor = torch.nn.functional.nll_loss(log_gamma, labels)
            loss = (rec + l_z + l_c).mean() + self.anchor_weight * anchor
            terms = {"rec": rec.mean(), "kl_z": l_z.mean(), "kl_c": l_c.mean()}
            terms["anchor"] = anchor
            if beta > 0.0:
                sim = wasserstein_similarity_loss(
                    log_gamma.exp(), mu, logvar, reduction="anchor_mean", bandwidth=self.bandwidth
                )
                if measure_ratio:
                    ratio = _gradient_ratio(beta * sim, loss, mu)
                loss = loss + beta * sim
                terms["sim"] = sim
            else:
                terms["sim"] = torch.zeros((), device=mu.device)
            with torch.no_grad():
                gmm_pred = gmm_log_posterior(mu, log_pi, mu_c, logvar_c).argmax(-1)
                cls_pred = log_gamma.argmax(-1)
                terms["agreement"] = (gmm_pred == cls_pred).float().mean()
                occupied = torch.bincount(cls_pred, minlength=log_gamma.shape[1]).gt(0)
                terms["occupied"] = occupied.float().sum()
                terms["beta"] = torch.full((), beta, device=mu.device)
        return loss, terms, ratio
