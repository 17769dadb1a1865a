"""Torch modules only: no training, no scikit-learn."""

from .autoencoders import ConvAutoencoder, DenseAutoencoder, mlp
from .losses import reconstruction_loss

__all__ = ["ConvAutoencoder", "DenseAutoencoder", "mlp", "reconstruction_loss"]
