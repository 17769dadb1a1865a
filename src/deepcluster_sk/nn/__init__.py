"""Torch modules and pure loss functions only: no training, no scikit-learn."""

from .losses import LOGVAR_CLAMP, reconstruction_loss, sharpened_target, student_t_assignment
from .networks import (
    Autoencoder,
    ConvDecoder,
    ConvEncoder,
    conv_output_sizes,
    dense_decoder,
    dense_encoder,
    mlp,
)
from .vade import (
    DVAELossTerms,
    GMMPrior,
    GMMPriorVAE,
    cluster_classifier,
    component_kl,
    gmm_log_posterior,
    init_classifier_as_nearest_centre,
    negative_elbo_terms,
)

__all__ = [
    "LOGVAR_CLAMP",
    "Autoencoder",
    "ConvDecoder",
    "ConvEncoder",
    "DVAELossTerms",
    "GMMPrior",
    "GMMPriorVAE",
    "cluster_classifier",
    "component_kl",
    "conv_output_sizes",
    "dense_decoder",
    "dense_encoder",
    "gmm_log_posterior",
    "init_classifier_as_nearest_centre",
    "mlp",
    "negative_elbo_terms",
    "reconstruction_loss",
    "sharpened_target",
    "student_t_assignment",
]
