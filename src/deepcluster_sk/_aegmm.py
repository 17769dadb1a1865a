"""AEGMM: autoencoder (dense or convolutional) followed by a Gaussian mixture fitted by EM."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
import torch
from sklearn.mixture import GaussianMixture
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import AutoencoderClusterer
from ._utils import draw_seed
from .nn import ConvAutoencoder, DenseAutoencoder

__all__ = ["AEGMM"]


class AEGMM(AutoencoderClusterer):
    """Autoencoder + Gaussian mixture clustering.

    An autoencoder is trained to reconstruct ``X`` (squared error, Adam); a
    :class:`~sklearn.mixture.GaussianMixture` is then fitted by EM on the latent codes.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of mixture components.
    architecture : {"dense", "conv"}, default="dense"
        ``"dense"``: ``d-500-500-2000-latent`` MLP with a mirror decoder. ``"conv"``: three
        stride-2 convolutions and a fully connected latent layer, mirrored with transposed
        convolutions (images given by ``input_shape``).
    hidden_dims : tuple of int, default=(500, 500, 2000)
        Encoder widths of the dense architecture.
    channels : tuple of int, default=(32, 64, 128)
        Encoder channels of the convolutional architecture.
    latent_dim : int, default=10
        Size of the code.
    input_shape : tuple of int, "1d" or None, default=None
        ``(channels, height, width)`` of each row for ``architecture="conv"``; None infers a
        square single-channel image; ``"1d"`` treats rows as one-channel 1-D signals.
    loss : {"mse", "bce"}, default="mse"
        Reconstruction loss; ``"bce"`` needs data in [0, 1].
    n_epochs : int, default=50
        Autoencoder training epochs.
    batch_size : int, default=256
        Mini-batch size.
    lr : float, default=1e-3
        Adam learning rate.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        Optimizer of the autoencoder.
    weight_decay : float, default=0.0
        L2 penalty.
    tol : float or None, default=None
        Early stopping on the relative decrease of the epoch loss (None: off).
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        Covariance structure of the mixture.
    gmm_max_iter : int, default=100
        EM iterations (the paper runs 100).
    gmm_n_init : int, default=1
        EM restarts; the best likelihood is kept.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where the network is trained; ``"auto"`` uses CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds network initialisation, shuffling and the mixture.
    verbose : int, default=0
        0 silent, 1 a progress bar, 2 one line per epoch.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained autoencoder.
    gmm_ : sklearn.mixture.GaussianMixture
        The mixture fitted on the training codes.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    history_ : list of dict
        Per-epoch training records (``loss``, ``lr``, ``seconds``).
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Input column names, when ``X`` had string column names.

    References
    ----------
    A. R. Bhattarai, "Unsupervised clustering using deep learning" (dense and convolutional
    AE + GMM on MNIST, v-measure; ``shared/papers/001_d6ae3b236a1fa64c.txt``).

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
        "architecture": [StrOptions({"dense", "conv"})],
        "hidden_dims": ["array-like"],
        "channels": ["array-like"],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "input_shape": ["array-like", StrOptions({"1d"}), None],
        "loss": [StrOptions({"mse", "bce"})],
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical"})],
        "gmm_max_iter": [Interval(Integral, 1, None, closed="left")],
        "gmm_n_init": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_clusters: int = 10,
        *,
        architecture: str = "dense",
        hidden_dims: Sequence[int] = (500, 500, 2000),
        channels: Sequence[int] = (32, 64, 128),
        latent_dim: int = 10,
        input_shape: Sequence[int] | str | None = None,
        loss: str = "mse",
        n_epochs: int = 50,
        batch_size: int = 256,
        lr: float = 1e-3,
        optimizer: str = "adam",
        weight_decay: float = 0.0,
        tol: float | None = None,
        covariance_type: str = "full",
        gmm_max_iter: int = 100,
        gmm_n_init: int = 1,
        device: str | torch.device = "auto",
        random_state: Any = None,
        verbose: int = 0,
    ):
        self.n_clusters = n_clusters
        self.architecture = architecture
        self.hidden_dims = hidden_dims
        self.channels = channels
        self.latent_dim = latent_dim
        self.input_shape = input_shape
        self.loss = loss
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.tol = tol
        self.covariance_type = covariance_type
        self.gmm_max_iter = gmm_max_iter
        self.gmm_n_init = gmm_n_init
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _check_input(self, X: np.ndarray) -> None:
        super()._check_input(X)
        if self.architecture == "conv":
            self.input_shape_ = self._resolve_input_shape(X.shape[1])

    def _build_module(self, n_features: int) -> torch.nn.Module:
        if self.architecture == "conv":
            return ConvAutoencoder(
                self.input_shape_,
                self.channels,
                self.latent_dim,
                kernel_size=5,
                batch_norm=False,
                downsample="stride",
            )
        return DenseAutoencoder(n_features, self.hidden_dims, self.latent_dim)

    def _fit_head(self, Z: np.ndarray, rng: np.random.RandomState) -> None:
        self.gmm_ = GaussianMixture(
            n_components=self.n_clusters,
            covariance_type=self.covariance_type,
            max_iter=self.gmm_max_iter,
            n_init=self.gmm_n_init,
            random_state=draw_seed(rng),
        ).fit(Z)

    def _predict_latent(self, Z: np.ndarray) -> np.ndarray:
        return self.gmm_.predict(Z)

    def _head_call(self, method: str, X: Any) -> Any:
        """Validate ``X``, encode it and call ``gmm_.<method>`` on the codes."""
        Z = self._checked_latent(X)
        return getattr(self.gmm_, method)(Z)

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
        return self._head_call("predict_proba", X)

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-likelihood of each sample's code under the mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
        """
        return self._head_call("score_samples", X)

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood of the codes of ``X`` under the mixture (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : Ignored
            Not used.

        Returns
        -------
        float
        """
        return float(self._head_call("score", X))

    def bic(self, X: Any) -> float:
        """Bayesian information criterion of the mixture on the codes of ``X`` (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        float
        """
        return float(self._head_call("bic", X))

    def aic(self, X: Any) -> float:
        """Akaike information criterion of the mixture on the codes of ``X`` (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        float
        """
        return float(self._head_call("aic", X))
