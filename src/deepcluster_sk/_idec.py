"""IDEC: an autoencoder whose codes are pulled towards sharpened Student's t assignments."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.utils._param_validation import Interval

from ._base import BaseDeepClusterer
from ._heads import KMeansHead
from ._networks import build_autoencoder
from ._training import JointPhase, LabelChangeStopping, full_precision
from .nn import sharpened_target, student_t_assignment

__all__ = ["IDEC"]


class IDEC(BaseDeepClusterer):
    """Improved Deep Embedded Clustering: reconstruction + KL to a sharpened target.

    An autoencoder is pretrained on its reconstruction; k-means on the codes gives the
    starting centres. Joint training then minimises the reconstruction loss plus ``gamma``
    times KL(P || Q) over network and centres: Q is the Student's t soft assignment of the
    codes to the centres, P the sharpened target ``q^2 / f`` (renormalised), recomputed on
    all rows after every epoch. A row's cluster is its nearest centre.

    Parameters
    ----------
    n_clusters : int or "auto", default=10
        Number of clusters. ``"auto"`` chooses it from the data
        before training (:ref:`guide-n-clusters`); the count fitted is ``n_clusters_``.
    encoder, decoder : {"auto", "dense", "conv", "conv_pool"} or torch.nn.Module, default="auto"
        The network, as in :class:`AEGMM`.
    hidden_dims : tuple of int or "auto", default="auto"
        Widths of the dense encoder, as in :class:`AEGMM`.
    channels : tuple of int, default=(32, 64, 128)
        Block channels of the convolutional encoder.
    latent_dim : int or "auto", default="auto"
        Size of the code. ``"auto"`` is ``max(10, n_clusters)``.
    input_shape : tuple of int, "1d" or None, default=None
        Shape of each row, as in :class:`AEGMM`.
    likelihood : {"gaussian", "bernoulli", "auto"}, default="gaussian"
        Reconstruction loss: squared error (the paper's) or binary cross-entropy.
    n_epochs : int or "auto", default="auto"
        Epochs of autoencoder pretraining. ``"auto"`` is 50 on sets of up to 12,800 rows
        and, above, the count that passes as many rows through the network as 50 epochs of
        12,800 rows (10 on MNIST's 70,000, 1 from 640,000 rows up): the training then costs
        about what it costs on 12,800 rows.
    batch_size : int or "auto", default="auto"
        Mini-batch size of both phases (``"auto"``: as in :class:`AEGMM`).
    lr : float, default=1e-3
        Adam learning rate of both phases.
    gamma : float, default=0.1
        Weight of the clustering loss KL(P || Q) (the paper's 0.1).
    joint_epochs : int, default=100
        Most epochs of joint training.
    tol : float, default=1e-3
        Stop once fewer than this share of labels changed in an epoch (0: never).
    kmeans_n_init : int, default=20
        Restarts of the k-means that gives the starting centres (lowest inertia kept).
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Training precision of the network, as in :class:`AEGMM`.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Training device.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and k-means.
    verbose : int, default=0
        0 silent, 1 a progress bar, 2 one line per epoch.
    warm_start : bool, default=False
        Continue pretraining the fitted network, then cluster again (as :class:`AEGMM`).

    Attributes
    ----------
    module_ : deepcluster_sk.nn.Autoencoder
        The trained autoencoder.
    head_ : KMeansHead
        The k-means that gave the starting centres.
    init_labels_ : ndarray of shape (n_samples,)
        Its partition of the pretrained codes (cluster ``k`` starts at centre ``k``).
    cluster_centers_ : ndarray of shape (n_clusters, latent_dim)
        The trained centres.
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
        Per-epoch records; joint epochs (``"joint"``) hold ``recon``, ``kl``, ``label_change``.
    phase_seconds_ : dict
        Wall time of ``pretrain``, ``head`` and ``joint``. Under ``n_clusters="auto"``
        also ``n_clusters``, the choice of the count.

    See Also
    --------
    AEGMM : Autoencoder, then a Gaussian mixture fitted on the codes (or their embedding).
    ConvAEKMeans : Convolutional autoencoder, PCA and k-means.
    DVAEClusterer : A VAE with a mixture prior, trained jointly with the clustering.

    References
    ----------
    X. Guo, L. Gao, X. Liu and J. Yin, "Improved Deep Embedded Clustering with Local
    Structure Preservation", IJCAI 2017.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from deepcluster_sk import IDEC
    >>> X, _ = make_blobs(200, n_features=8, centers=3, random_state=0)
    >>> est = IDEC(3, hidden_dims=(32,), n_epochs=5, joint_epochs=5, random_state=0)
    >>> est.fit_predict(X).shape
    (200,)
    """

    _parameter_constraints: dict = {  # noqa: RUF012
        **BaseDeepClusterer._parameter_constraints,
        "gamma": [Interval(Real, 0, None, closed="left")],
        "joint_epochs": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, 1, closed="both")],
        "kmeans_n_init": [Interval(Integral, 1, None, closed="left")],
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
        gamma: float = 0.1,
        joint_epochs: int = 100,
        tol: float = 1e-3,
        kmeans_n_init: int = 20,
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
        self.gamma = gamma
        self.joint_epochs = joint_epochs
        self.tol = tol
        self.kmeans_n_init = kmeans_n_init
        self.precision = precision
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def _build_module(self, X: np.ndarray) -> torch.nn.Module:
        return build_autoencoder(X, **self._network_params())

    def _build_head(self, n_samples: int) -> KMeansHead:
        return KMeansHead(self.n_clusters_, n_init=self.kmeans_n_init)

    def _fit_head(self, Z: np.ndarray, rng: np.random.RandomState, warm: bool) -> np.ndarray:
        self.init_labels_ = super()._fit_head(Z, rng, warm)
        self.cluster_centers_ = self.head_.kmeans_.cluster_centers_.astype(np.float32)
        return self.init_labels_

    def _joint_phase(
        self, X: torch.Tensor, codes: np.ndarray, labels: np.ndarray, rng: np.random.RandomState
    ) -> JointPhase | None:
        if self.joint_epochs <= 0:
            return None
        module, device = self.module_, self._device
        centers = torch.nn.Parameter(torch.as_tensor(self.cluster_centers_, device=device))
        # The target P of every row, indexed with the rows (refreshed after each epoch).
        target = torch.empty((len(codes), self.n_clusters_), device=X.device)
        state = {}

        def refresh(epoch: int = 0, record: Any = None, codes: Any = None) -> None:
            self.cluster_centers_ = centers.detach().cpu().numpy().copy()
            q = self._soft_assignment(self._latent(X) if codes is None else codes)
            state["labels"] = q.argmax(axis=1)
            target.copy_(sharpened_target(torch.from_numpy(q)).to(target))

        def loss(batch, epoch):
            xb, pb = batch
            z = module.encode(xb)
            recon = self._reconstruction_loss(module.decode(z), xb, "mean").mean()
            with full_precision(z):
                q = student_t_assignment(z, centers)
                kl = (pb * (pb.clamp_min(1e-12).log() - q.clamp_min(1e-12).log())).sum(1).mean()
            return recon + self.gamma * kl, {"recon": recon.detach(), "kl": kl.detach()}

        refresh(codes=codes)
        stopping = LabelChangeStopping(lambda: state["labels"], self.tol, interval=1)
        return JointPhase(
            loss,
            (X, target),
            params=[*module.autoencoder_parameters(), centers],
            config={"phase": "joint", "n_epochs": self.joint_epochs},
            callbacks=[refresh, stopping],
            refit_head=False,
        )

    def _soft_assignment(self, Z: np.ndarray) -> np.ndarray:
        z, centers = np.asarray(Z, np.float64), np.asarray(self.cluster_centers_, np.float64)
        return student_t_assignment(torch.from_numpy(z), torch.from_numpy(centers)).numpy()

    def _predict_latent(self, Z: np.ndarray) -> np.ndarray:
        return self._soft_assignment(Z).argmax(axis=1)

    def score(self, X: Any, y: Any = None) -> float:
        """Opposite of the summed squared distances of the codes to their nearest centre.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : Ignored
            Not used.

        Returns
        -------
        score : float
            Higher is better (k-means' ``score`` in the code space).
        """
        Z = self._checked_latent(X)
        dist = ((Z[:, None, :] - self.cluster_centers_[None]) ** 2).sum(-1)
        return -float(dist.min(axis=1).sum())

    def predict_proba(self, X: Any) -> np.ndarray:
        """Compute the Student's t soft assignment Q of each sample's code to the centres.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
            Rows sum to 1.
        """
        return self._map_codes(self._soft_assignment, X)
