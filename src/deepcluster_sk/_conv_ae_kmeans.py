"""ConvAEKMeans: convolutional autoencoder -> PCA -> k-means."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted

from ._autoencoder import AutoencoderClusterer
from ._heads import KMeansHead
from ._manifold import umap_neighbours
from ._utils import as_tensor

__all__ = ["ConvAEKMeans"]


class ConvAEKMeans(AutoencoderClusterer):
    """Convolutional autoencoder features, reduced by PCA, clustered by k-means.

    The encoder halves the image size in each block, a fully connected layer maps the last
    feature map to a ``latent_dim`` code, and the decoder mirrors it with
    ``ConvTranspose2d`` layers. After training, the codes (by default their UMAP embedding,
    ``manifold="umap"``) are reduced to ``n_components`` principal components and
    clustered by :class:`~sklearn.cluster.KMeans`.

    The paper's encoder blocks are ``Conv2d`` + ``BatchNorm2d`` + ReLU + ``MaxPool2d`` with
    a sigmoid output trained by binary cross-entropy, and it clusters the flattened feature
    maps; :meth:`paper` builds exactly that (``encoder="conv_pool"``, ``latent_dim=None``).
    The defaults differ where it clusters better on MNIST: stride-2 5x5 convolutions without
    batch normalisation (``encoder="conv"``), a 10-d bottleneck and a squared-error loss
    (the convolutional autoencoder of the AE+GMM paper).

    Parameters
    ----------
    n_clusters : int or "auto", default=10
        Number of clusters. ``"auto"`` chooses it from the data
        before training (:ref:`guide-n-clusters`); the count fitted is ``n_clusters_``.
    encoder : {"conv", "conv_pool", "dense", "auto"} or torch.nn.Module, default="conv"
        The network that maps a batch to features ``(n, h)``. The default is convolutional
        whatever the data; ``"auto"`` picks it only for images given by ``input_shape`` that
        are large enough for its blocks, and the dense network otherwise (see
        :class:`AEGMM`). A user module receives ``(n, *input_shape)`` when ``input_shape``
        is given and ``(n, n_features)`` otherwise, and is deep-copied in ``fit``.
    decoder : {"auto", "dense", "conv", "conv_pool"} or torch.nn.Module, default="auto"
        Maps codes back to ``(n, n_features)`` or ``(n, *input_shape)``; ``"auto"`` mirrors
        the encoder.
    hidden_dims : tuple of int or "auto", default="auto"
        Widths of the dense network (``encoder="dense"``). ``"auto"``: the papers'
        ``(500, 500, 2000)`` for rows of 64 or more features, one hidden layer of 64
        units for narrower rows (tables), which clusters small tables such as wine and
        breast cancer better than the papers' trunk, in a fraction of the time.
    channels : tuple of int, default=(32, 64, 128)
        Output channels of the convolutional blocks.
    latent_dim : int, "auto" or None, default="auto"
        With an int, a fully connected bottleneck of that size follows the encoder;
        ``"auto"`` is ``max(10, n_clusters)``. None uses the encoder's features (the
        flattened last feature map) as the code (the paper's recipe, see :meth:`paper`);
        on MNIST the 10-d bottleneck clusters better.
    input_shape : tuple of int, "1d" or None, default=None
        ``(channels, height, width)`` (or ``(height, width)``) of each row; ``"1d"`` treats
        rows as one-channel 1-D signals. With None a convolutional encoder (the default)
        reads a row as a square one-channel image when ``n_features`` is a perfect square
        (784 -> 28x28) and as a 1-D signal otherwise, so tabular data work with the default
        network (give the shape of non-square or colour images); a dense encoder reads
        flat rows.
    likelihood : {"gaussian", "bernoulli", "auto"}, default="gaussian"
        Reconstruction loss: squared error, or binary cross-entropy with a sigmoid output
        (``"bernoulli"``, needs data in [0, 1]); ``"auto"`` is Bernoulli for data in [0, 1].
    n_components : int, default=50
        PCA components (capped by the number of samples and the code size).
    n_epochs : int or "auto", default="auto"
        Training epochs. ``"auto"`` is 50 on sets of up to 12,800 rows and, above, the
        count that passes as many rows through the network as 50 epochs of 12,800 rows
        (10 on MNIST's 70,000, 1 from 640,000 rows up): the training then costs about what
        it costs on 12,800 rows.
    batch_size : int or "auto", default="auto"
        Mini-batch size (at least 2, for batch normalisation). ``"auto"`` is 256, halved
        (down to 32) while an epoch would hold fewer than 25 mini-batches (AEGMM's rule
        asks for 10), so sets of fewer than 6,400 rows get smaller batches and more
        optimizer steps (1,797 digits: 64, 29 steps an epoch).
    lr : float, default=1e-3
        Adam learning rate.
    kmeans_n_init : int, default=10
        Number of k-means restarts; the lowest inertia is kept.
    manifold : {"umap", None}, default="umap"
        The inductive manifold step between the codes and the head (N2D-style). ``"umap"``
        embeds the training codes with UMAP in ``n_clusters`` dimensions (``3 n / k**2``
        neighbours, at least 5 and at most 30, or at most 50 on sets of fewer than 4,096
        rows; ``min_dist=0``, seeded) and fits the PCA and
        k-means there; ``labels_``, ``predict``, ``transform`` and ``score`` place a row
        at the embedding of its nearest training code (a training row at its own), a
        deterministic map that treats unseen rows like training rows. When the network
        sees the rows as images (the default convolutional encoder, or a module of yours
        given a ``(channels, height, width)`` ``input_shape``), UMAP and the nearest-code
        search see each code scaled to unit length (its direction). None clusters the
        codes themselves (the paper's method, see :meth:`paper`; needed for
        :meth:`inverse_transform`).
    self_training : int or "auto", default="auto"
        Epochs of self-training after the first k-means, as in :class:`AEGMM` (see its
        Notes): the network trains on its reconstruction plus a cross-entropy towards
        k-means' own labels, and the head is fitted again. ``"auto"`` is 10 epochs on
        images when ``n >= 20 * n_clusters`` (fewer above 12,800 rows), as in
        :class:`AEGMM`, and 0 otherwise; 0 skips it, as the paper does. The default
        convolutional network reads a table's row as a one-pixel-high image, so
        ``"auto"`` self-trains on tables too, its random moves shifting the columns.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Precision of the network's matrix products and convolutions during training
        (``torch.autocast``). ``"auto"`` is bfloat16 on a CUDA GPU that supports it and on
        a CPU with AMX or AVX-512-BF16, float32 elsewhere; losses, optimizer state and
        weights stay float32. Inference (``transform``, ``predict``) always runs in
        float32, so results do not depend on the training hardware's precision.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Training device; ``"auto"`` uses CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds network initialisation, shuffling, PCA and k-means.
    verbose : int, default=0
        0 silent, 1 a progress bar, 2 one line per epoch.
    warm_start : bool, default=False
        When True and the estimator is fitted, the next :meth:`fit` continues training a
        copy of the fitted network for ``n_epochs`` more epochs (``history_`` grows and
        the epochs are numbered on) and then refits the PCA and k-means on the new codes,
        instead of starting from a new network. The data must have the same number of
        features and the network parameters must be unchanged; otherwise ``fit`` raises a
        ``ValueError``. The optimizer's state (Adam's moments) is not kept between fits.

    Attributes
    ----------
    module_ : deepcluster_sk.nn.Autoencoder
        The trained autoencoder.
    input_shape_ : tuple of int or None
        The shape the network reads each row as, e.g. the resolved
        ``(channels, height, width)``.
    likelihood_ : str
        The resolved likelihood.
    pca_ : sklearn.decomposition.PCA
        PCA fitted on the training codes.
    kmeans_ : sklearn.cluster.KMeans
        k-means fitted in the PCA space.
    cluster_centers_ : ndarray of shape (n_clusters, n_components)
        Centroids in the PCA space.
    head_ : KMeansHead or ManifoldHead
        The fitted head: PCA and k-means, inside a UMAP manifold head by default.
    manifold_ : NeighbourExtension or None
        Maps new codes into the manifold: holds the training codes and their UMAP
        embedding (None when ``manifold=None``).
    phase_seconds_ : dict
        Wall time of ``pretrain``, ``head`` and ``joint`` (self-training, when on); under
        ``n_clusters="auto"`` also ``n_clusters``, the choice of the count.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    n_clusters_ : int
        The number of clusters fitted: ``n_clusters``, or the count ``"auto"`` chose.
    n_clusters_candidates_ : ndarray of int or None
        Under ``n_clusters="auto"``, the counts compared; None for an integer ``n_clusters``.
    n_clusters_scores_ : ndarray of float or None
        Under ``n_clusters="auto"``, the criterion (a silhouette, higher is better) of each
        candidate, for a plot; None for an integer ``n_clusters``.
    history_ : list of dict
        Per-epoch training records.

    See Also
    --------
    AEGMM : Autoencoder and Gaussian mixture, with likelihoods and a BIC.
    DVAEClusterer : A VAE with a mixture prior, trained jointly with the clustering.
    IDEC : An autoencoder trained towards sharpened Student's t cluster assignments.

    Notes
    -----
    On more than 100,000 rows the manifold, the PCA and k-means are fitted on a random
    100,000 of them (drawn from ``random_state``), and every row, ``labels_`` included,
    is then placed through the fitted maps, in blocks; below that size every row is used.

    References
    ----------
    R. Das, "Deep Autoencoder-Based Feature Learning for Enhanced Unsupervised Clustering
    of MNIST".

    Examples
    --------
    >>> import numpy as np
    >>> from deepcluster_sk import ConvAEKMeans
    >>> X = np.random.RandomState(0).rand(60, 64).astype("float32")
    >>> est = ConvAEKMeans(3, channels=(4, 8), n_components=5, n_epochs=2, random_state=0)
    >>> est.fit(X).transform(X).shape
    (60, 5)
    """

    _parameter_constraints: dict = {  # noqa: RUF012
        **AutoencoderClusterer._parameter_constraints,
        # BatchNorm needs two values per channel when the last feature map is 1x1.
        "batch_size": [Interval(Integral, 2, None, closed="left"), StrOptions({"auto"})],
        "latent_dim": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "kmeans_n_init": [Interval(Integral, 1, None, closed="left")],
    }

    #: Small sets get 25 mini-batches an epoch (AEGMM's rule asks for 10).
    _auto_min_batches: int = 25

    def __init__(
        self,
        n_clusters: int = 10,
        *,
        encoder: str | torch.nn.Module = "conv",
        decoder: str | torch.nn.Module = "auto",
        hidden_dims: Sequence[int] | str = "auto",
        channels: Sequence[int] = (32, 64, 128),
        latent_dim: int | str | None = "auto",
        input_shape: Sequence[int] | str | None = None,
        likelihood: str = "gaussian",
        n_components: int = 50,
        n_epochs: int | str = "auto",
        batch_size: int | str = "auto",
        lr: float = 1e-3,
        kmeans_n_init: int = 10,
        manifold: str | None = "umap",
        self_training: int | str = "auto",
        precision: str = "auto",
        device: str | torch.device = "auto",
        random_state: Any = None,
        verbose: int = 0,
        warm_start: bool = False,
    ):
        self.n_clusters = n_clusters
        self.encoder = encoder
        self.decoder = decoder
        self.hidden_dims = hidden_dims
        self.channels = channels
        self.latent_dim = latent_dim
        self.input_shape = input_shape
        self.likelihood = likelihood
        self.n_components = n_components
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.kmeans_n_init = kmeans_n_init
        self.precision = precision
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.manifold = manifold
        self.self_training = self_training

    @classmethod
    def paper(cls, n_clusters: int = 10, **params: Any) -> ConvAEKMeans:
        """The paper's recipe: flattened conv feature maps -> PCA(50) -> k-means.

        Das (paper 000) clusters the flattened output of the last pooling block (no fully
        connected bottleneck) of 3x3 convolution + batch norm + ReLU + max-pooling blocks,
        trained 50 epochs by Adam with binary cross-entropy at batch 256.

        Parameters
        ----------
        n_clusters : int, default=10
            Number of clusters.
        **params
            Any other constructor parameter, overriding the recipe.

        Returns
        -------
        ConvAEKMeans
            An unfitted estimator.
        """
        recipe: dict[str, Any] = {
            "encoder": "conv_pool",
            "channels": (32, 64, 128),
            "latent_dim": None,
            "likelihood": "bernoulli",
            "n_components": 50,
            "n_epochs": 50,
            "batch_size": 256,
            "lr": 1e-3,
            "manifold": None,
            "self_training": 0,
        }
        recipe.update(params)
        return cls(n_clusters, **recipe)

    def _inner_head(self) -> KMeansHead:
        return KMeansHead(
            self.n_clusters_, n_components=self.n_components, n_init=self.kmeans_n_init
        )

    def _umap_neighbours(self, n_samples: int) -> int:
        # On small sets (digits: 180 images a class) 30 neighbours leave sub-styles of a
        # digit (the two kinds of 1) as separate islands, which k-means splits while
        # merging 3 and 9; 50 join them. Large sets keep at most 30.
        if n_samples < 4096:
            return umap_neighbours(n_samples, self.n_clusters_, 50)
        return super()._umap_neighbours(n_samples)

    def _inner_head_from(self, state: dict) -> KMeansHead | None:
        if "kmeans_" not in state:
            return None
        head = self._inner_head()
        head.pca_, head.kmeans_ = state.pop("pca_"), state.pop("kmeans_")
        state.pop("cluster_centers_", None)
        head.n_features_out_ = int(head.pca_.n_components_)
        return head

    @property
    def pca_(self):
        """The :class:`~sklearn.decomposition.PCA` fitted on the training codes."""
        return self._fitted_inner_head.pca_

    @property
    def kmeans_(self):
        """The :class:`~sklearn.cluster.KMeans` fitted in the PCA space."""
        return self._fitted_inner_head.kmeans_

    @property
    def cluster_centers_(self) -> np.ndarray:
        """Centroids in the PCA space."""
        return self.kmeans_.cluster_centers_

    def score(self, X: Any, y: Any = None) -> float:
        """Opposite of the k-means inertia of ``X`` in the PCA space (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : Ignored
            Not used.

        Returns
        -------
        score : float
            Opposite of the k-means inertia of the PCA-reduced codes of ``X``; higher is
            better.
        """
        Z = self._checked_latent(X)  # first: raises NotFittedError before head_ is read
        return float(self.head_.score(Z))

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Decode points of the PCA space back to images.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Points in the space returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
            Decoded images (probabilities for ``likelihood="bernoulli"``).
        """
        check_is_fitted(self)
        if self.manifold_ is not None:
            raise ValueError(
                "inverse_transform is not available with manifold='umap' (the default): the "
                "PCA space is that of the UMAP embedding, which has no inverse map to the "
                "codes. Fit with manifold=None to decode points of the PCA space."
            )
        X = check_array(X, dtype=np.float64)
        if X.shape[1] != self.pca_.n_components_:
            raise ValueError(
                f"inverse_transform expects points of the PCA space with "
                f"n_components={self.pca_.n_components_} columns, got {X.shape[1]}."
            )
        Z = self.pca_.inverse_transform(X).astype(np.float32)
        return self._map_batches(self._decode_output, as_tensor(Z, torch.device("cpu")))
