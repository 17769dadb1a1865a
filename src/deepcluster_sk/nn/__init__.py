"""Torch modules only: no training, no scikit-learn."""

from .autoencoders import ConvAutoencoder, DenseAutoencoder, mlp
from .losses import reconstruction_loss
from .vade import GMMPriorVAE, component_kl, gmm_log_posterior, negative_elbo_terms

__all__ = [
    "ConvAutoencoder",
    "DenseAutoencoder",
    "GMMPriorVAE",
    "component_kl",
    "gmm_log_posterior",
    "mlp",
    "negative_elbo_terms",
    "reconstruction_loss",
]
