"""AEGMM: autoencoder (dense or convolutional) followed by a Gaussian mixture fitted by EM."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._autoencoder import AutoencoderClusterer
from ._heads import GaussianMixtureHead

__all__ = ["AEGMM"]


class AEGMM(AutoencoderClusterer):
    """Autoencoder + Gaussian mixture clustering.

    An autoencoder is trained to reconstruct ``X`` (squared error, Adam); a
    :class:`~sklearn.mixture.GaussianMixture` is then fitted by EM on the latent codes or,
    by default (``manifold="umap"``), on a UMAP embedding of them. On images the network
    then trains on the mixture's own labels and the mixture is fitted again (see Notes).

    Parameters
    ----------
    n_clusters : int or "auto", default=10
        Number of mixture components. ``"auto"`` chooses it from the data
        before training (:ref:`guide-n-clusters`); the count fitted is ``n_clusters_``.
    encoder : {"auto", "dense", "conv", "conv_pool"} or torch.nn.Module, default="auto"
        The network that maps a batch to features ``(n, h)``; a ``Linear(h, latent_dim)``
        head gives the code. ``"auto"`` is the convolutional encoder when ``input_shape`` is
        given and the images are large enough for its blocks (both sides still at least 2
        pixels after ``len(channels)`` halvings: 28x28 MNIST and 16x16 USPS are, 8x8
        digits with the default three blocks are not), and the dense one (``hidden_dims``)
        otherwise. ``"conv"``: stride-2
        5x5 convolutions (``channels``); ``"conv_pool"``: 3x3 convolution + batch norm +
        max-pooling blocks. A user module receives ``(n, *input_shape)`` when
        ``input_shape`` is given and ``(n, n_features)`` otherwise; it is deep-copied in
        ``fit``, never trained in place.
    decoder : {"auto", "dense", "conv", "conv_pool"} or torch.nn.Module, default="auto"
        Maps codes ``(n, latent_dim)`` to ``(n, n_features)`` or ``(n, *input_shape)``.
        ``"auto"`` mirrors the encoder.
    hidden_dims : tuple of int or "auto", default="auto"
        Widths of the dense encoder (the dense decoder mirrors them). ``"auto"``: the papers'
        ``(500, 500, 2000)`` for rows of 64 or more features, one hidden layer of 64
        units for narrower rows (tables), which clusters small tables such as wine and
        breast cancer better than the papers' trunk, in a fraction of the time.
    channels : tuple of int, default=(32, 64, 128)
        Block channels of the convolutional encoder (the decoder mirrors them).
    latent_dim : int or "auto", default="auto"
        Size of the code. ``"auto"`` is ``max(10, n_clusters)``.
    input_shape : tuple of int, "1d" or None, default=None
        ``(channels, height, width)`` (or ``(height, width)``) of each row; ``"1d"``
        treats rows as one-channel 1-D signals. None means flat rows; a convolutional
        encoder then reads each row as a square one-channel image when ``n_features`` is
        a perfect square and as a 1-D signal otherwise.
    likelihood : {"gaussian", "bernoulli", "auto"}, default="gaussian"
        Reconstruction loss: squared error (``"gaussian"``) or binary cross-entropy
        (``"bernoulli"``, needs X in [0, 1]); ``"auto"`` is Bernoulli when X lies in [0, 1].
    n_epochs : int or "auto", default="auto"
        Autoencoder training epochs. ``"auto"`` is 50 on sets of up to 12,800 rows and, above, the
        count that passes as many rows through the network as 50 epochs of 12,800 rows
        (10 on MNIST's 70,000, 1 from 640,000 rows up): the training then costs about what
        it costs on 12,800 rows.
    batch_size : int or "auto", default="auto"
        Mini-batch size. ``"auto"`` is 256, halved (down to 32) while an epoch would hold
        fewer than 10 mini-batches, so small data sets get enough optimizer steps (1,797
        digits: 128, 15 steps an epoch).
    lr : float, default=1e-3
        Adam learning rate.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        Covariance structure of the mixture.
    gmm_n_init : int, default=30
        EM restarts from different k-means starts; the one with the highest likelihood of
        the training codes (or of their embedding) is kept, chosen without labels. On a
        UMAP embedding with well separated islands EM often stops where one component covers
        two islands and two share a third; only a minority of starts reach the most likely
        mixture, so many restarts are needed to find it reliably. Each is cheap: one EM run
        on low-dimensional codes.
    manifold : {"umap", None}, default="umap"
        The inductive manifold step between the codes and the head (N2D-style). ``"umap"``
        embeds the training codes with UMAP in ``n_clusters`` dimensions (``3 n / k**2``
        neighbours between 5 and 30, ``min_dist=0``, seeded) and fits the mixture there;
        ``labels_``, ``predict``, ``predict_proba``, ``transform`` and ``score`` place a row
        at the embedding of its nearest training code (a training row at its own), a
        deterministic map that treats unseen rows like training rows. When the network sees
        the rows as images (the convolutional encoder, or a module of yours given a
        ``(channels, height, width)`` ``input_shape``), UMAP and the nearest-code search see
        each code scaled to unit length (its direction); the codes of the dense network are
        used as they are. None fits the mixture on the codes themselves (the paper's
        method, see :meth:`paper`).
    self_training : int or "auto", default="auto"
        Epochs of self-training after the first mixture (see Notes); 0 turns it off.
        ``"auto"`` is 10 epochs when the network reads the rows as images (``input_shape_``
        of rank 3) and the expected cluster holds at least 20 rows (``n >= 20 *
        n_clusters``), 0 otherwise: without the random moves of images it gains little, and
        clusters smaller than twice its 10-code agreement test give it no targets. Above
        12,800 rows the 10 epochs shrink as ``n_epochs="auto"``'s 50 do (2 on MNIST's 70,000).
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Precision of the network's matrix products and convolutions during training
        (``torch.autocast``). ``"auto"`` is bfloat16 on a CUDA GPU that supports it and on
        a CPU with AMX or AVX-512-BF16, float32 elsewhere; losses, optimizer state and
        weights stay float32. Inference (``transform``, ``predict``) always runs in
        float32, so results do not depend on the training hardware's precision.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where the network is trained; ``"auto"`` uses CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds network initialisation, shuffling and the mixture.
    verbose : int, default=0
        0 silent, 1 a progress bar, 2 one line per epoch.
    warm_start : bool, default=False
        When True and the estimator is fitted, the next :meth:`fit` continues training a
        copy of the fitted network for ``n_epochs`` more epochs (``history_`` grows and
        the epochs are numbered on) and then refits the mixture on the new codes,
        instead of starting from a new network. The data must have the same number of
        features and the network parameters must be unchanged; otherwise ``fit`` raises a
        ``ValueError``. The optimizer's state (Adam's moments) is not kept between fits.

    Attributes
    ----------
    module_ : deepcluster_sk.nn.Autoencoder
        The trained autoencoder.
    input_shape_ : tuple of int or None
        The shape the network reads each row as (None: flat rows).
    likelihood_ : str
        The resolved likelihood.
    gmm_ : sklearn.mixture.GaussianMixture
        The mixture fitted on the training codes (the best restart).
    gmm_restart_scores_ : ndarray of shape (gmm_n_init,)
        Mean log-likelihood of the training codes under each restart.
    head_ : GaussianMixtureHead or ManifoldHead
        The fitted head: the mixture, inside a UMAP manifold head under ``manifold="umap"``.
    manifold_ : NeighbourExtension or None
        Maps new codes into the manifold: holds the training codes (at unit length when
        the network sees images) and their UMAP embedding (None when ``manifold=None``).
    phase_seconds_ : dict
        Wall time of ``pretrain``, ``head`` (both mixture fits) and ``joint``
        (self-training); under ``n_clusters="auto"`` also ``n_clusters``, the choice of
        the count.
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
        Per-epoch training records (``phase``, ``loss``, ``lr``, ``seconds``); the
        self-training epochs on images (see Notes) have the phase ``"refine"`` and also
        record their ``ce`` and ``recon`` terms.
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Input column names, when ``X`` had string column names.

    See Also
    --------
    ConvAEKMeans : Convolutional autoencoder, PCA and k-means (images).
    DVAEClusterer : A VAE with a mixture prior, trained jointly with the clustering.
    IDEC : An autoencoder trained towards sharpened Student's t cluster assignments.

    Notes
    -----
    Self-training: after the first mixture the network trains ``self_training`` more
    epochs on its reconstruction plus 0.1 times a cross-entropy towards the mixture's own
    labels of the rows whose 10 nearest codes mostly (90 %) share them, read by a cosine
    classifier started at the clusters' mean directions, on randomly shifted (up to 10 %)
    and rotated (up to 10 degrees) copies of the images; the manifold and the mixture are
    then fitted again on the new codes. ``y`` is never used. ``history_`` records these
    epochs as the phase ``"refine"``. EM runs at most 100 iterations per restart (the
    paper's).

    On more than 100,000 rows the manifold and the mixture are fitted on a random
    100,000 of them (drawn from ``random_state``), and every row, ``labels_`` included,
    is then placed through the fitted maps, in blocks: EM with ``gmm_n_init`` restarts on
    a million codes would take many times longer and large temporaries, for a partition
    that 100,000 rows already determine. Below that size (MNIST's 70,000 images) every
    row is used.

    References
    ----------
    A. R. Bhattarai, "Unsupervised clustering using deep learning" (dense and convolutional
    AE + GMM on MNIST, v-measure).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from deepcluster_sk import AEGMM
    >>> X, _ = make_blobs(200, n_features=8, centers=3, random_state=0)
    >>> est = AEGMM(3, hidden_dims=(32,), latent_dim=2, n_epochs=5, random_state=0)
    >>> est.fit_predict(X).shape
    (200,)
    """

    _parameter_constraints: dict = {  # noqa: RUF012
        **AutoencoderClusterer._parameter_constraints,
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical"})],
        "gmm_n_init": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_clusters: int = 10,
        *,
        encoder: str | torch.nn.Module = "auto",
        decoder: str | torch.nn.Module = "auto",
        hidden_dims: Sequence[int] | str = "auto",
        channels: Sequence[int] = (32, 64, 128),
        latent_dim: int | str = "auto",
        input_shape: Sequence[int] | str | None = None,
        likelihood: str = "gaussian",
        n_epochs: int | str = "auto",
        batch_size: int | str = "auto",
        lr: float = 1e-3,
        covariance_type: str = "full",
        gmm_n_init: int = 30,
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
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.covariance_type = covariance_type
        self.gmm_n_init = gmm_n_init
        self.precision = precision
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.manifold = manifold
        self.self_training = self_training

    @classmethod
    def paper(cls, n_clusters: int = 10, network: str = "dense", **params: Any) -> AEGMM:
        """The paper's recipe: a dense or convolutional autoencoder, 50 epochs, then EM.

        Bhattarai (paper 001) trains the dense ``x-500-500-2000-10`` autoencoder (or the
        convolutional one) for 50 epochs on the squared error and fits a full-covariance
        Gaussian mixture on the 10-d codes.

        Parameters
        ----------
        n_clusters : int, default=10
            Number of clusters.
        network : {"dense", "conv"}, default="dense"
            Which of the paper's two autoencoders.
        **params
            Any other constructor parameter, overriding the recipe.

        Returns
        -------
        AEGMM
            An unfitted estimator.
        """
        if network not in ("dense", "conv"):
            raise ValueError(f"network must be 'dense' or 'conv', got {network!r}.")
        recipe: dict[str, Any] = {
            "encoder": network,
            "decoder": "auto",
            "hidden_dims": (500, 500, 2000),
            "latent_dim": 10,
            "likelihood": "gaussian",
            "n_epochs": 50,
            "covariance_type": "full",
            "batch_size": 256,
            "manifold": None,
            "self_training": 0,
        }
        recipe.update(params)
        return cls(n_clusters, **recipe)

    def _inner_head(self) -> GaussianMixtureHead:
        return GaussianMixtureHead(
            self.n_clusters_, covariance_type=self.covariance_type, n_init=self.gmm_n_init
        )

    def _inner_head_from(self, state: dict) -> GaussianMixtureHead | None:
        if "gmm_" not in state:
            return None
        head = self._inner_head()
        head.mixture_ = state.pop("gmm_")
        head.restart_scores_ = state.pop("gmm_restart_scores_", None)
        head.n_features_out_ = int(head.mixture_.means_.shape[1])
        return head

    @property
    def gmm_(self):
        """The fitted :class:`~sklearn.mixture.GaussianMixture` (the best restart)."""
        return self._fitted_inner_head.mixture_

    @property
    def gmm_restart_scores_(self) -> np.ndarray:
        """Mean log-likelihood of the fitted codes (or embedding) under each restart."""
        return self._fitted_inner_head.restart_scores_

    def _head_call(self, method: str, X: Any) -> Any:
        """Validate ``X``, encode it and call the head's ``method`` on all the codes."""
        Z = self._checked_latent(X)  # first: raises NotFittedError before head_ is read
        return getattr(self.head_, method)(Z)

    def _head_rows(self, method: str, X: Any) -> np.ndarray:
        """The head's row-wise ``method`` of the codes of ``X``, block by block."""
        return self._map_codes(lambda Z: getattr(self.head_, method)(Z), X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Posterior probability of each mixture component.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
            Responsibilities; rows sum to 1.
        """
        return self._head_rows("predict_proba", X)

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-likelihood of each sample's code under the mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            Log-likelihood of each sample's code under the fitted mixture.
        """
        return self._head_rows("score_samples", X)

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood of the codes of ``X`` under the mixture (higher is better).

        The log-likelihood is measured in the space the mixture was fitted in: the codes,
        or with ``manifold="umap"`` (the default) the UMAP embedding. It moves by
        ``d * log(c)`` when that space is scaled by ``c``, so it compares settings of the
        mixture on one fitted map, not networks or manifolds (``latent_dim``,
        ``hidden_dims``, ``n_clusters`` under the manifold...); for those, score by
        :data:`~deepcluster_sk.metrics.silhouette_scorer`. Under the manifold the
        clusters are very tight (``min_dist=0``), so the few rows the neighbour map places
        between two clusters get very low log-likelihoods and dominate the mean; fit with
        ``manifold=None`` to use the likelihood (or ``bic``) as a model-selection score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : Ignored
            Not used.

        Returns
        -------
        score : float
            Mean log-likelihood of the codes of ``X`` under the mixture.
        """
        return float(self._head_rows("score_samples", X).mean())

    def bic(self, X: Any) -> float:
        """Bayesian information criterion of the mixture on the codes of ``X`` (lower is better).

        Computed in the space the mixture was fitted in (the UMAP embedding of dimension
        ``n_clusters`` under the default ``manifold="umap"``): to compare numbers of
        clusters, fit with ``manifold=None`` (see :meth:`score`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        bic : float
            The criterion; lower is better.
        """
        return float(self._head_call("bic", X))

    def aic(self, X: Any) -> float:
        """Akaike information criterion of the mixture on the codes of ``X`` (lower is better).

        Computed in the space the mixture was fitted in (the UMAP embedding of dimension
        ``n_clusters`` under the default ``manifold="umap"``): to compare numbers of
        clusters, fit with ``manifold=None`` (see :meth:`score`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        aic : float
            The criterion; lower is better.
        """
        return float(self._head_call("aic", X))
