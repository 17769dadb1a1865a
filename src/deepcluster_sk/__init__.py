"""scikit-learn compatible deep clustering estimators on PyTorch.

Estimators
----------
ConvAEKMeans
    Convolutional autoencoder -> PCA -> k-means.
AEGMM
    Dense or convolutional autoencoder -> Gaussian mixture (EM).
DVAEClusterer
    GMM-prior VAE with a classifier and a Wasserstein similarity loss.
IDEC
    Autoencoder trained with a KL loss towards sharpened Student's t assignments.

Each is a preset of (network, head, joint loss): the ``encoder``/``decoder`` parameters
take a built-in name or a user's ``torch.nn.Module``; the clustering head and the training
that follows it distinguish them.
"""

from ._aegmm import AEGMM
from ._conv_ae_kmeans import ConvAEKMeans
from ._dvae import DVAEClusterer
from ._heads import ClusterCollapseWarning, SmallDataWarning
from ._idec import IDEC
from ._persistence import load, save
from ._training import TrainingDivergedError
from ._version import __version__

__all__ = [
    "AEGMM",
    "IDEC",
    "ClusterCollapseWarning",
    "ConvAEKMeans",
    "DVAEClusterer",
    "SmallDataWarning",
    "TrainingDivergedError",
    "__version__",
    "all_estimators",
    "load",
    "save",
]


def all_estimators() -> list[tuple[str, type]]:
    """The package's estimators, the one list the CLI, the benchmarks and the tests use.

    Returns
    -------
    list of (str, type)
        ``(name, class)`` pairs sorted by name, as :func:`sklearn.utils.all_estimators`.

    Examples
    --------
    >>> from deepcluster_sk import all_estimators
    >>> [name for name, _ in all_estimators()]
    ['AEGMM', 'ConvAEKMeans', 'DVAEClusterer', 'IDEC']
    """
    return sorted(
        [(cls.__name__, cls) for cls in (AEGMM, ConvAEKMeans, DVAEClusterer, IDEC)],
        key=lambda pair: pair[0],
    )
