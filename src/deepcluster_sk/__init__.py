"""scikit-learn compatible deep clustering estimators on PyTorch.

Estimators
----------
ConvAEKMeans
    Convolutional autoencoder -> PCA -> k-means.
AEGMM
    Dense or convolutional autoencoder -> Gaussian mixture (EM).
DVAEClusterer
    GMM-prior VAE with a classifier and a Wasserstein similarity loss.
"""

from ._aegmm import AEGMM
from ._conv_ae_kmeans import ConvAEKMeans
from ._dvae import DVAEClusterer
from ._training import TrainingDivergedError

__version__ = "0.1.0"

__all__ = ["AEGMM", "ConvAEKMeans", "DVAEClusterer", "TrainingDivergedError", "__version__"]
