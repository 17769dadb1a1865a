"""DVAEClusterer: GMM-prior VAE + classifier q(c|z) + Wasserstein similarity loss.

Over 400 lines on purpose: one estimator whose three training phases (pretraining, the
initial partition and classifier, joint training) and its probabilistic methods (ELBO score,
sampling) share the module's state; the pure maths lives in ``nn`` and ``metrics``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseDeepClusterer, best_of_restarts, check_partition
from ._manifold import NeighbourExtension, fit_umap_embedding
from ._networks import build_vae
from ._partitions import spectral_labels
from ._utils import as_tensor, draw_seed, make_generator, resolve_batch_size
from .metrics import similarity_bandwidth, wasserstein_similarity_loss
from .nn import (
    GMMPriorVAE,
    gmm_log_posterior,
    init_classifier_as_nearest_centre,
    negative_elbo_terms,
)

__all__ = ["DVAEClusterer"]


def _gradient_ratio(part: torch.Tensor, whole: torch.Tensor, wrt: torch.Tensor) -> float:
    """``||d part / d wrt|| / ||d whole / d wrt||`` without touching parameter gradients."""
    (g_part,) = torch.autograd.grad(part, wrt, retain_graph=True)
    (g_whole,) = torch.autograd.grad(whole, wrt, retain_graph=True)
    return float(g_part.norm() / g_whole.norm().clamp_min(1e-30))


class DVAEClusterer(BaseDeepClusterer):
    """Deep clustering with a GMM-prior VAE, a classifier and a similarity loss (DVAE).

    Training has three phases:

    1. autoencoder pretraining of the encoder, the mean head and the decoder on the
       reconstruction likelihood (the routine every estimator of the package shares);
    2. a partition of the pretrained means (``init``) gives pseudo-labels that initialise the
       mixture prior (means, variances, weights) and pre-train the classifier, so classifier
       class ``k`` and prior component ``k`` agree;
    3. joint training of everything on the negative ELBO with the mixture prior plus
       ``similarity_weight`` times the Wasserstein similarity loss, switched on after
       ``warmup_epochs``. Throughout joint training (``_anchor_epochs = None``) the latent
       term weights the components by the pseudo-labels rather than by the classifier, and
       the classifier is trained on them by cross-entropy with weight
       ``_anchor_weight = 10``, so the codes gather round the components of the initial
       partition and the classifier learns to draw it. Released, the ELBO pulls the
       partition towards what a diagonal Gaussian mixture of the codes gives, and the
       partition drifts to one that the classifier can draw; the anchor
       keeps the initial partition, which decides the result.
       Training stops once the labels settle (``tol``).

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters C.
    encoder : {"auto", "dense", "conv", "conv_pool"} or torch.nn.Module, default="auto"
        The network that maps a batch to features ``(n, h)``; linear heads give the posterior
        mean and log-variance. ``"auto"`` is the convolutional encoder when ``input_shape``
        is given and the images are large enough for its blocks (both sides still at least
        2 pixels after ``len(channels)`` halvings: 28x28 MNIST and 16x16 USPS are, 8x8
        digits with the default three blocks are not), and the dense ``d-500-500-2000``
        one otherwise. A user module
        receives ``(n, *input_shape)`` when ``input_shape`` is given and ``(n, n_features)``
        otherwise; it is deep-copied in ``fit``.
    decoder : {"auto", "dense", "conv", "conv_pool"} or torch.nn.Module, default="auto"
        Maps codes ``(n, latent_dim)`` to logits (Bernoulli) or means (Gaussian) of shape
        ``(n, n_features)`` or ``(n, *input_shape)``; ``"auto"`` mirrors the encoder.
    hidden_dims : tuple of int or "auto", default="auto"
        Widths of the dense encoder (the dense decoder mirrors them). ``"auto"``: the papers'
        ``(500, 500, 2000)`` for rows of 64 or more features, one hidden layer of 64
        units for narrower rows (tables), which clusters small tables such as wine and
        breast cancer better than the papers' trunk, in a fraction of the time.
    channels : tuple of int, default=(32, 64, 128)
        Block channels of the convolutional encoder.
    latent_dim : int, default=10
        Latent size J.
    input_shape : tuple of int, "1d" or None, default=None
        ``(channels, height, width)`` (or ``(height, width)``) of each row; ``"1d"``
        treats rows as one-channel 1-D signals. None means flat rows; a convolutional
        encoder then reads each row as a square one-channel image when ``n_features`` is
        a perfect square and as a 1-D signal otherwise.
    likelihood : {"auto", "bernoulli", "gaussian"}, default="auto"
        Decoder likelihood; ``"auto"`` is Bernoulli when X lies in [0, 1]. The Gaussian has
        the fixed variance ``_gaussian_variance = 0.5``.
    pretrain_epochs : int, default=100
        Epochs of autoencoder pretraining (Adam at 1e-3, AEGMM's ``batch_size="auto"``),
        the paper's 100. The pretrained codes decide the result (joint training keeps the
        partition it starts from), so pretraining gets twice AEGMM's 50 epochs, for a
        better starting partition at twice the pretraining time.
    init : {"umap", "spectral", "gmm", "kmeans"}, default="umap"
        Partition of the pretrained codes that initialises the prior and the classifier.
        Joint training keeps the partition it starts from (the anchor, above), so this
        choice decides most of the result. ``"umap"`` embeds the codes with UMAP
        in ``n_clusters`` dimensions (30 neighbours, ``min_dist=0``, as the ``manifold``
        option of :class:`AEGMM`) and fits a full-covariance Gaussian mixture there
        (``_gmm_n_init = 10`` restarts, the most likely kept); the embedding serves only
        this partition, so prediction stays the classifier on the codes. ``"spectral"``
        clusters the codes' 10-nearest-neighbour graph, which follows curved clusters
        that k-means and a Gaussian mixture cut; ``"gmm"`` is a diagonal Gaussian mixture
        (VaDE's initialisation; ``_gmm_n_init = 10`` restarts, the one with the highest
        likelihood is kept, never chosen by labels); ``"kmeans"`` is the paper's k-means
        (``_kmeans_n_init = 20`` restarts, lowest inertia).
    n_epochs : int, default=300
        Epochs of joint training.
    batch_size : int or "auto", default=300
        Mini-batch size of joint training (the last partial batch is dropped), the paper's
        300. ``"auto"`` is AEGMM's rule: 256, halved (down to 32) while an epoch would hold
        fewer than 10 mini-batches.
    lr : float, default=0.002
        Initial Adam learning rate of joint training (decayed by 0.9 every 10 epochs, to
        at least 2e-4).
    similarity_weight : float, default=1.0
        The weight beta of the similarity loss; 0 gives the VaDE-style ablation.
    similarity_bandwidth : "median" or float, default="median"
        ``h`` of the similarity kernel ``1 / (1 + W2^2 / h)``. ``"median"`` is the median
        pairwise squared distance of the pretrained codes
        (:func:`~deepcluster_sk.metrics.similarity_bandwidth`), fixed before joint
        training, which makes the loss independent of the scale of the latent space;
        ``1.0`` is the paper's literal kernel, which is close to 0 for almost every pair of
        pretrained codes (they sit tens of squared units apart), so its gradient is
        negligible next to the ELBO's.
    warmup_epochs : int, default=10
        Joint-training epochs with beta = 0 before the similarity loss starts (the paper's
        50 in :meth:`paper`). With the anchor holding the partition, training stops at the
        first label check after the warm-up that finds the labels settled (``tol``), so
        this sets most of the joint phase's length: at least ``warmup_epochs + 5`` epochs.
    tol : float, default=5e-3
        After the warm-up, joint training stops early once fewer than this fraction of the
        training samples changed cluster over the last ``_tol_interval = 5`` epochs
        (``n_epochs`` is then a maximum; ``history_`` holds the epochs run and, at each
        check, the share that changed as ``label_change``). ``0`` runs all ``n_epochs``,
        as the paper does. A few boundary points keep changing cluster to the end, so a
        ``tol`` far below their share only lengthens training.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Precision of the network's matrix products and convolutions during training
        (``torch.autocast``). ``"auto"`` is bfloat16 on a CUDA GPU that supports it and on
        a CPU with AMX or AVX-512-BF16, float32 elsewhere; losses, optimizer state and
        weights stay float32. Inference (``transform``, ``predict``) always runs in
        float32, so results do not depend on the training hardware's precision.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Training device.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, sampling and the initial partition.
    verbose : int, default=0
        0 silent, 1 a progress bar per phase, 2 one line per epoch.
    warm_start : bool, default=False
        When True and the estimator is fitted, the next :meth:`fit` skips pretraining and
        the initial partition and continues the joint training of a copy of the fitted
        network, classifier and prior for ``n_epochs`` more epochs; the learning-rate
        schedule and ``warmup_epochs`` count the epochs already run, and ``history_``
        grows. ``pretrain_epochs``, ``init`` and ``similarity_bandwidth`` then have no
        effect. The data must have the same number of features and the network
        parameters (and ``n_clusters``) must be unchanged; otherwise ``fit`` raises a
        ``ValueError``. The optimizer's state (Adam's moments) is not kept between fits.

    Attributes
    ----------
    module_ : deepcluster_sk.nn.GMMPriorVAE
        The trained network, classifier and prior.
    input_shape_ : tuple of int or None
        The shape the network reads each row as (None: flat rows).
    likelihood_ : str
        The resolved likelihood.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    history_ : list of dict
        Per-epoch records of every phase (``phase`` is ``"pretrain"``, ``"classifier"`` or
        ``"train"``) with the loss terms ``rec``, ``kl_z``, ``kl_c``, ``anchor`` (the
        classifier's cross-entropy on the pseudo-labels in the anchored epochs, else 0),
        ``sim``, the classifier/mixture ``agreement``, ``beta`` and ``lr``. Joint-training
        records also hold ``min_pi`` and ``sim_grad_ratio``: the norm of the gradient of
        ``beta * L_sim`` on the posterior means over that of the negative ELBO, on the
        epoch's first batch (0 while beta is 0); values far below 1 mean the similarity
        loss barely steers training. The records of the epochs that check ``tol`` hold
        ``label_change``, the share of training labels changed since the last check.
    phase_seconds_ : dict
        Wall time of ``pretrain``, ``init`` (initial partition and classifier) and ``train``.
    init_labels_ : ndarray of shape (n_samples,)
        The initial partition of the pretrained codes (``init``): pseudo-labels of the
        classifier pretraining; label ``k`` is prior component ``k``.
    latent_scale_ : float
        Factor that gives the pretrained codes unit variance (the root mean per-dimension
        variance is divided out) before the partition and the prior are fitted; the
        network keeps it (``module_.latent_scale``) so that :meth:`transform` returns the
        codes the prior lives on, and the decoder divides it out again.
    kmeans_inertia_ : float
        Within-cluster sum of squares of that partition around its cluster means.
    init_restart_scores_ : ndarray of shape (n_restarts,)
        Selection criterion of each restart of the initial partition (mean log-likelihood
        for ``init="gmm"``, minus the inertia for ``init="kmeans"``); the best is kept.
    similarity_bandwidth_ : float
        The bandwidth ``h`` used in joint training.

    See Also
    --------
    AEGMM : Autoencoder and Gaussian mixture, fitted after the network (faster).
    ConvAEKMeans : Convolutional autoencoder, PCA and k-means.

    Notes
    -----
    Settings that make no measurable difference, or that reproduce the paper exactly, are
    private class attributes; a subclass may override them (the benchmarks do):
    ``_pretrain_lr = 1e-3``, ``_pretrain_batch_size = "auto"`` (256, or smaller on small
    data sets so that an epoch has at least 10 steps: AEGMM's ``batch_size="auto"``),
    ``_kmeans_n_init = 20``, ``_gmm_n_init = 10``, ``_init_n_neighbors = 10``,
    ``_classifier_init = "voronoi"``
    (the classifier starts as the nearest-centre rule of the initial partition; ``"random"``
    is the paper's), ``_classifier_epochs = 30``, ``_classifier_lr = 1e-3``,
    ``_lr_decay_step = 10``, ``_lr_decay_gamma = 0.9``, ``_lr_min = 2e-4``,
    ``_warmup_steps = 100`` (joint training's learning rate rises linearly over its first
    100 steps: Adam's first steps move every weight by about ``lr`` whatever its gradient,
    which on small data can cross the prior's variances and merge clusters in one step),
    ``_anchor_epochs = None`` (the anchor lasts all of joint training; an int releases it
    after that many epochs), ``_anchor_weight = 10`` (the weight of the classifier's
    cross-entropy on the pseudo-labels), ``_anchor_smoothing = 1e-3`` (the smoothing of
    the one-hot pseudo-labels), ``_tol_interval = 5`` (the epochs between two label
    checks of ``tol``),
    ``_adam_eps = 1e-4`` (VaDE's), ``_gmm_lr = None`` (the prior uses ``lr``),
    ``_similarity_reduction = "anchor_mean"`` (divide the sum by N: the mean
    per-anchor cross-entropy; the paper divides by N², which makes the term N times
    smaller, 300 times at the default batch size),
    ``_similarity_include_self = True``,
    ``_detach_transition_weights = False``, ``_classifier_input = "sample"``,
    ``_learn_pi = True`` and ``_assign = "classifier"`` (the rule of :meth:`predict_proba`:
    the classifier at the posterior mean; ``"gmm"`` uses the mixture posterior).

    On more than 100,000 rows the initial partition (UMAP and the mixture, or k-means) is
    fitted on a random 100,000 of the pretrained codes, drawn from ``random_state``, and
    every code is labelled through it; below that size (all of MNIST) every row is used.

    References
    ----------
    He Ma, "Achieving deep clustering through the use of variational autoencoders and
    similarity-based loss", Mathematical Biosciences and Engineering 19(10), 2022.
    Jiang et al., "Variational Deep Embedding", IJCAI 2017.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from deepcluster_sk import DVAEClusterer
    >>> X, _ = make_blobs(150, n_features=6, centers=3, random_state=0)
    >>> est = DVAEClusterer(3, hidden_dims=(32,), latent_dim=2, pretrain_epochs=5,
    ...                     n_epochs=4, warmup_epochs=2, random_state=0)
    >>> est.fit(X).predict_proba(X).shape
    (150, 3)
    """

    _parameter_constraints: dict = {  # noqa: RUF012
        **BaseDeepClusterer._parameter_constraints,
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "init": [StrOptions({"umap", "spectral", "gmm", "kmeans"})],
        "similarity_weight": [Interval(Real, 0, None, closed="left")],
        "similarity_bandwidth": [
            StrOptions({"median"}),
            Interval(Real, 0, None, closed="neither"),
        ],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, 1, closed="both")],
    }

    _pretrain_lr: float = 1e-3
    _pretrain_batch_size: int | str = "auto"
    _kmeans_n_init: int = 20
    _gmm_n_init: int = 10
    _init_n_neighbors: int = 10
    _umap_n_neighbors: int = 30
    #: Training codes that place a code outside the fitted subset in the UMAP embedding
    #: (above ``_head_max_samples`` rows; see NeighbourExtension).
    _extension_n_neighbors: int = 10
    _umap_min_dist: float = 0.0
    _classifier_init: str = "voronoi"
    _classifier_epochs: int = 30
    _classifier_lr: float = 1e-3
    _lr_decay_step: int | None = 10
    _lr_decay_gamma: float = 0.9
    _lr_min: float = 2e-4
    _warmup_steps: int = 100
    _anchor_epochs: int | None = None
    _tol_interval: int = 5
    _anchor_smoothing: float = 1e-3
    _anchor_weight: float = 10.0
    _adam_eps: float = 1e-4
    _gmm_lr: float | None = None
    _similarity_reduction: str = "anchor_mean"
    _similarity_include_self: bool = True
    _detach_transition_weights: bool = False
    _classifier_input: str = "sample"
    _learn_pi: bool = True
    _assign: str = "classifier"

    def __init__(
        self,
        n_clusters: int = 10,
        *,
        encoder: str | torch.nn.Module = "auto",
        decoder: str | torch.nn.Module = "auto",
        hidden_dims: Sequence[int] | str = "auto",
        channels: Sequence[int] = (32, 64, 128),
        latent_dim: int = 10,
        input_shape: Sequence[int] | str | None = None,
        likelihood: str = "auto",
        pretrain_epochs: int = 100,
        init: str = "umap",
        n_epochs: int = 300,
        batch_size: int = 300,
        lr: float = 0.002,
        similarity_weight: float = 1.0,
        similarity_bandwidth: str | float = "median",
        warmup_epochs: int = 10,
        tol: float = 5e-3,
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
        self.pretrain_epochs = pretrain_epochs
        self.init = init
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.similarity_weight = similarity_weight
        self.similarity_bandwidth = similarity_bandwidth
        self.warmup_epochs = warmup_epochs
        self.tol = tol
        self.precision = precision
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    @classmethod
    def paper(cls, n_clusters: int = 10, **params: Any) -> DVAEClusterer:
        """The paper's network and schedule: the dense ``D-500-500-2000-10`` VAE.

        100 pretraining epochs, then 300 joint epochs at batch 300 with Adam (lr 0.002,
        decayed by 0.9 every 10 epochs), beta = 1 after 50 warm-up epochs with the literal
        kernel (``similarity_bandwidth=1.0``), and a k-means initial partition. Private
        settings keep the measured fixes of the paper's ambiguities (see the class
        notes): the learning-rate floor ``_lr_min = 2e-4``, the nearest-centre
        classifier start ``_classifier_init = "voronoi"``, the learning-rate warm-up
        ``_warmup_steps = 100`` and the unit-variance codes (``latent_scale_``).

        Parameters
        ----------
        n_clusters : int, default=10
            Number of clusters.
        **params
            Any other constructor parameter, overriding the recipe.

        Returns
        -------
        DVAEClusterer
            An unfitted estimator.
        """
        recipe: dict[str, Any] = {
            "encoder": "dense",
            "decoder": "auto",
            "hidden_dims": (500, 500, 2000),
            "latent_dim": 10,
            "pretrain_epochs": 100,
            "init": "kmeans",
            "n_epochs": 300,
            "batch_size": 300,
            "lr": 0.002,
            "similarity_weight": 1.0,
            "similarity_bandwidth": 1.0,
            "warmup_epochs": 50,
            "tol": 0.0,
        }
        recipe.update(params)
        return cls(n_clusters, **recipe)

    # ----------------------------------------------------------------- hooks
    def _build_module(self, X: np.ndarray) -> torch.nn.Module:
        return build_vae(X, n_clusters=self.n_clusters, **self._network_params())

    def _rec_nll(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self._reconstruction_loss(output, x, "none")

    def _fit_module(
        self, X: torch.Tensor, rng: np.random.RandomState, *, warm: bool = False
    ) -> None:
        self.phase_seconds_: dict[str, float] = {"pretrain": 0.0, "init": 0.0}
        if warm:
            # warm_start: the network, prior and classifier are trained; only the joint
            # training continues (its schedule and warm-up from the epochs already run).
            self._joint_training(X, rng)
            return
        # One seed for the Monte Carlo samples of score_samples: scores are deterministic.
        self._score_seed_ = draw_seed(rng)

        # Phase 1: deterministic autoencoder pretraining through the mean.
        t0 = time.perf_counter()
        self._pretrain(
            X,
            rng,
            self._fit_config(
                n_epochs=self.pretrain_epochs,
                batch_size=resolve_batch_size(self._pretrain_batch_size, X.shape[0]),
                lr=self._pretrain_lr,
                phase="pretrain",
                hint="_pretrain_lr",
            ),
            reduction="none",
        )
        self.phase_seconds_["pretrain"] = time.perf_counter() - t0

        # Phase 2: the initial partition (init) -> prior, log-variance head, classifier.
        t0 = time.perf_counter()
        self._initialise_from_partition(X, rng)
        self.phase_seconds_["init"] = time.perf_counter() - t0
        self._joint_training(X, rng)

    def _joint_training(self, X: torch.Tensor, rng: np.random.RandomState) -> None:
        """Phase 3: joint training on the negative ELBO (+ beta * similarity loss)."""
        t0 = time.perf_counter()
        noise = make_generator(draw_seed(rng), self._device)
        # Epoch -> ||d(beta L_sim)/d mu|| / ||d L_GVAE/d mu||, measured on its first batch.
        grad_ratio: dict[int, float] = {}
        pseudo = torch.as_tensor(self.init_labels_, dtype=torch.long, device=X.device)
        self._train(
            self._joint_loss_fn(noise, grad_ratio),
            (X, pseudo),
            self._fit_config(
                lr_decay_step=self._lr_decay_step,
                lr_decay_gamma=self._lr_decay_gamma,
                lr_min=self._lr_min,
                warmup_steps=self._warmup_steps,
                adam_eps=self._adam_eps,
                drop_last=True,
                phase="train",
                first_epoch=self._epochs_run("train"),
            ),
            rng,
            params=self._joint_param_groups(),
            on_epoch_end=self._joint_epoch_end(X, grad_ratio),
        )
        self.phase_seconds_["train"] = time.perf_counter() - t0

    def _joint_epoch_end(
        self, X: torch.Tensor, grad_ratio: dict[int, float]
    ) -> Callable[[int, dict[str, Any]], bool]:
        """Record the prior's smallest weight and the similarity gradient ratio; stop on ``tol``.

        From the end of the warm-up (and of the anchored epochs) on, the training labels
        are compared every ``_tol_interval`` epochs; training stops when fewer than ``tol``
        of them changed (the change is recorded as ``label_change``).
        """
        module: GMMPriorVAE = self.module_
        # The label check starts once the similarity loss is on and, with a finite
        # ``_anchor_epochs``, once the anchor is released; a permanent anchor does not delay it.
        start = max(int(self.warmup_epochs), int(self._anchor_epochs or 0))
        state: dict[str, Any] = {"labels": None, "since": 0}

        def on_epoch_end(epoch: int, record: dict[str, Any]) -> bool:
            record.update(
                min_pi=float(module.prior.log_pi().detach().exp().min()),
                sim_grad_ratio=grad_ratio.pop(epoch, 0.0),
            )
            if self.tol <= 0 or epoch + 1 < start:
                return False
            state["since"] += 1
            if state["labels"] is not None and state["since"] < self._tol_interval:
                return False
            labels = self._predict_latent(self._latent(X))
            module.train()
            previous, state["labels"], state["since"] = state["labels"], labels, 0
            if previous is None:
                return False
            record["label_change"] = float(np.mean(labels != previous))
            return record["label_change"] < self.tol

        return on_epoch_end

    def _initial_partition(self, Z: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        """Pseudo-labels of the pretrained codes.

        ``init="gmm"`` fits ``_gmm_n_init`` diagonal Gaussian mixtures and keeps the one
        with the highest mean log-likelihood; ``init="kmeans"`` is the paper's k-means
        (``_kmeans_n_init`` restarts, lowest inertia); ``init="spectral"`` clusters a
        ``_init_n_neighbors``-nearest-neighbour graph of the codes. Either way label ``k``
        becomes prior component ``k`` and classifier class ``k``.
        """
        if self.init == "spectral":
            self.init_restart_scores_ = np.zeros(1)
            return spectral_labels(Z, self.n_clusters, self._init_n_neighbors, draw_seed(rng))
        # As for the other estimators' heads: above ``_head_max_samples`` rows the
        # partition is fitted on a random subset and every code is labelled through it.
        sample = self._head_sample(Z, rng)
        if self.init in ("gmm", "umap"):
            space, covariance, place = sample, "diag", None
            if self.init == "umap":
                space = fit_umap_embedding(
                    sample,
                    self.n_clusters,
                    self._umap_n_neighbors,
                    self._umap_min_dist,
                    rng,
                    verbose=self.verbose > 1,
                )
                covariance = "full"
                if sample is not Z:
                    place = NeighbourExtension(self._extension_n_neighbors).fit(sample, space)

            def fit_one(seed):
                return GaussianMixture(
                    self.n_clusters, covariance_type=covariance, random_state=seed
                ).fit(space)

            model, self.init_restart_scores_ = best_of_restarts(
                fit_one, lambda g: g.score(space), self._gmm_n_init, rng
            )
            if sample is Z:
                return model.predict(space)
            return self._by_chunks(
                lambda B: model.predict(B if place is None else place.transform(B)), Z
            )

        def fit_km(seed):
            return KMeans(self.n_clusters, n_init=1, random_state=seed).fit(sample)

        model, self.init_restart_scores_ = best_of_restarts(
            fit_km, lambda km: -km.inertia_, self._kmeans_n_init, rng
        )
        return model.labels_ if sample is Z else self._by_chunks(model.predict, Z)

    def _initialise_from_partition(self, X: torch.Tensor, rng: np.random.RandomState) -> None:
        module: GMMPriorVAE = self.module_
        Z = self._latent(X)
        # Pretraining leaves the codes at an arbitrary scale (from hundredths on briefly
        # trained blobs to tens on images). Unit-variance codes give the prior's
        # variances, the posterior's starting variance and ``lr`` the same meaning on
        # every data set. On their own they do not stop Adam's first full-rate steps from
        # crossing the prior's variances on small data; the learning-rate warm-up does.
        spread = float(np.sqrt(Z.var(axis=0).mean()))
        if np.isfinite(spread) and spread > 0.0:
            module.rescale_latent(1.0 / spread)
            Z = Z / spread
        self.latent_scale_ = float(module.latent_scale)
        labels = self._initial_partition(Z, rng)
        self.init_labels_ = labels
        check_partition(
            labels,
            self.n_clusters,
            f"The initial partition (init={self.init!r}) of DVAEClusterer",
            "Joint training starts from this partition: pretrain longer "
            "(pretrain_epochs), try another init, or lower n_clusters.",
        )
        counts = np.bincount(labels, minlength=self.n_clusters).astype(np.float64)
        # An empty cluster (possible only for degenerate codes) sits at the global mean.
        centers = np.tile(Z.mean(axis=0), (self.n_clusters, 1))
        var = np.ones((self.n_clusters, Z.shape[1]))
        for k in range(self.n_clusters):
            members = Z[labels == k]
            if len(members):
                centers[k] = members.mean(axis=0)
            if len(members) > 1:
                var[k] = members.var(axis=0, ddof=1)
        var += 1e-6
        self.kmeans_inertia_ = float(((Z - centers[labels]) ** 2).sum())
        if self.similarity_bandwidth == "median":
            self.similarity_bandwidth_ = similarity_bandwidth(Z, random_state=draw_seed(rng))
        else:
            self.similarity_bandwidth_ = float(self.similarity_bandwidth)
        device = self._device
        with torch.no_grad():
            module.prior.mu_c.copy_(torch.as_tensor(centers, dtype=torch.float32))
            module.prior.logvar_c.copy_(torch.as_tensor(np.log(var), dtype=torch.float32))
            module.prior.omega.copy_(
                torch.as_tensor(np.log(np.maximum(counts, 1.0) / counts.sum()), dtype=torch.float32)
            )
            # Sampled z should start inside its cluster: small posterior variance.
            module.logvar_head.weight.normal_(
                0.0, 1e-3, generator=make_generator(draw_seed(rng), device)
            )
            module.logvar_head.bias.fill_(float(np.log(0.1 * np.median(var))))
        module.prior.omega.requires_grad_(self._learn_pi)

        # Classifier pretraining on the pseudo-labels, encoder frozen (input: the means).
        mu_all = as_tensor(Z.astype(np.float32), device)
        y_all = torch.as_tensor(labels, dtype=torch.long, device=device)
        if self._classifier_init == "voronoi":
            init_classifier_as_nearest_centre(module.classifier, centers, float(var.mean()), mu_all)

        def classifier_loss(batch, epoch):
            mb, yb = batch
            return F.cross_entropy(module.classifier(mb), yb), {}

        def agreement(epoch, record):
            with torch.no_grad():
                pred = module.classifier(mu_all).argmax(1)
                record["agreement"] = float((pred == y_all).float().mean())
            return record["agreement"] >= 0.98

        if self._classifier_epochs > 0:
            self._train(
                classifier_loss,
                (mu_all, y_all),
                self._fit_config(
                    n_epochs=self._classifier_epochs,
                    batch_size=resolve_batch_size(self._pretrain_batch_size, X.shape[0]),
                    lr=self._classifier_lr,
                    phase="classifier",
                    hint="_classifier_lr",
                ),
                rng,
                params=list(module.classifier.parameters()),
                on_epoch_end=agreement,
            )

    def _joint_param_groups(self) -> list[dict[str, Any]]:
        module: GMMPriorVAE = self.module_
        prior = {id(p) for p in module.prior_parameters()}
        rest = [p for p in module.parameters() if id(p) not in prior]
        prior_params = [p for p in module.prior_parameters() if p.requires_grad]
        groups: list[dict[str, Any]] = [{"params": rest}]
        if prior_params:
            groups.append({"params": prior_params, "lr": self._gmm_lr or self.lr})
        return groups

    def _anchored(self, epoch: int) -> bool:
        """Whether joint epoch ``epoch`` is anchored (every one with ``_anchor_epochs=None``)."""
        return self._anchor_epochs is None or epoch < self._anchor_epochs

    def _beta(self, epoch: int) -> float:
        return float(self.similarity_weight) if epoch >= self.warmup_epochs else 0.0

    def _neg_elbo_terms(
        self,
        xb: torch.Tensor,
        mu: torch.Tensor,
        logvar: torch.Tensor,
        eps: torch.Tensor,
        labels: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-sample reconstruction NLL, latent and cluster terms at z = mu + sigma * eps.

        Returns ``(rec, l_z, l_c, log_gamma)``; ``rec + l_z + l_c`` is the negative ELBO.
        ``log_gamma`` is the classifier's; with ``labels`` (the anchored epochs) the latent
        and cluster terms weight the components by the one-hot pseudo-labels instead
        (smoothed by ``_anchor_smoothing``).
        """
        module: GMMPriorVAE = self.module_
        z = mu + (0.5 * logvar).exp() * eps
        rec = self._rec_nll(module.decode(z), xb)
        cls_in = z if self._classifier_input == "sample" else mu
        log_gamma = torch.log_softmax(module.classifier(cls_in), dim=-1)
        weights = log_gamma
        if labels is not None:
            n_clusters, eps_s = log_gamma.shape[1], self._anchor_smoothing
            target = torch.full_like(log_gamma, eps_s / n_clusters)
            target.scatter_(1, labels[:, None], 1.0 - eps_s + eps_s / n_clusters)
            weights = target.log()
        l_z, l_c = negative_elbo_terms(
            mu, logvar, weights, module.prior.log_pi(), module.prior.mu_c, module.prior.logvar()
        )
        return rec, l_z, l_c, log_gamma

    def _joint_loss_fn(self, noise: torch.Generator, grad_ratio: dict[int, float]):
        module: GMMPriorVAE = self.module_

        def loss_fn(batch, epoch):
            xb, yb = batch
            anchored = self._anchored(epoch)
            mu, logvar = module.encode_full(xb)
            eps = torch.randn(mu.shape, generator=noise, device=mu.device, dtype=mu.dtype)
            rec, l_z, l_c, log_gamma = self._neg_elbo_terms(
                xb, mu, logvar, eps, labels=yb if anchored else None
            )
            log_pi, mu_c, logvar_c = module.prior.log_pi(), module.prior.mu_c, module.prior.logvar()
            loss = (rec + l_z + l_c).mean()
            # While anchored, the classifier follows the pseudo-labels (cross-entropy).
            anchor = F.nll_loss(log_gamma, yb) if anchored else torch.zeros((), device=mu.device)
            loss = loss + self._anchor_weight * anchor
            beta = self._beta(epoch)
            terms = {"rec": rec.mean(), "kl_z": l_z.mean(), "kl_c": l_c.mean(), "anchor": anchor}
            if beta > 0.0:
                sim = wasserstein_similarity_loss(
                    log_gamma.exp(),
                    mu,
                    logvar,
                    reduction=self._similarity_reduction,
                    include_self=self._similarity_include_self,
                    detach_transition_weights=self._detach_transition_weights,
                    bandwidth=self.similarity_bandwidth_,
                )
                if epoch not in grad_ratio:
                    grad_ratio[epoch] = _gradient_ratio(beta * sim, loss, mu)
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
            return loss, terms

        return loss_fn

    def _fit_head(self, Z: np.ndarray, rng: np.random.RandomState) -> None:
        """The clustering head is part of the network (classifier and prior)."""

    # ------------------------------------------------------------ prediction
    def _log_proba_latent(self, Z: np.ndarray) -> np.ndarray:
        """Log cluster probabilities of codes, computed in float64 on the CPU.

        The head is tiny (J x C), so it runs on all rows at once in double precision: in
        float32 the classifier's large logits can differ by ~1e-4 between a row's positions
        in a matrix product, enough to move probabilities when the rows are reordered
        (scikit-learn's sample-order check).
        """
        module: GMMPriorVAE = self.module_
        z = torch.from_numpy(np.ascontiguousarray(Z, dtype=np.float64))
        with torch.no_grad():
            if self._assign == "gmm":
                prior = module.prior
                out = gmm_log_posterior(
                    z,
                    prior.log_pi().detach().cpu().double(),
                    prior.mu_c.detach().cpu().double(),
                    prior.logvar().detach().cpu().double(),
                )
            else:
                classifier = copy.deepcopy(module.classifier).to("cpu", torch.float64).eval()
                out = torch.log_softmax(classifier(z), dim=-1)
        return out.numpy()

    def _predict_latent(self, Z: np.ndarray) -> np.ndarray:
        return self._log_proba_latent(Z).argmax(axis=1)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Cluster probabilities: the classifier (or the mixture posterior) at the mean.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
            Rows sum to 1.
        """
        log_p = self._log_proba_latent(self._checked_latent(X))
        proba = np.exp(log_p - log_p.max(axis=1, keepdims=True))
        return proba / proba.sum(axis=1, keepdims=True)

    def score_samples(self, X: Any, n_mc_samples: int = 10) -> np.ndarray:
        """Per-sample ELBO (a lower bound of log p(x)), averaged over z samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        n_mc_samples : int, default=10
            Monte Carlo samples of z per row. The standard-normal noise is drawn once from
            a seed fixed in ``fit`` and shared by all rows, so a row's score is the same
            across calls and does not depend on the other rows.

        Returns
        -------
        elbo : ndarray of shape (n_samples,)
            The ELBO of each sample, averaged over the ``n_mc_samples`` draws of z.
        """
        check_is_fitted(self)
        if not isinstance(n_mc_samples, Integral) or n_mc_samples < 1:
            raise ValueError(f"n_mc_samples must be a positive integer, got {n_mc_samples!r}.")
        X = self._validate_X(X, reset=False)
        module: GMMPriorVAE = self.module_
        # Common random numbers: the same n_mc_samples noise vectors for every row, so a
        # row's score does not depend on the other rows, their order or the batch split.
        noise = torch.randn(
            (n_mc_samples, module.latent_dim), generator=make_generator(self._score_seed_)
        )

        def elbo(xb: torch.Tensor) -> torch.Tensor:
            mu, logvar = module.encode_full(xb)
            total = torch.zeros(xb.shape[0], dtype=torch.float64, device=xb.device)
            for eps in noise.to(xb.device):
                rec, l_z, l_c, _ = self._neg_elbo_terms(xb, mu, logvar, eps)
                total -= (rec + l_z + l_c).double()
            return total / n_mc_samples

        return self._require_finite(self._map_batches(elbo, X), X, "the ELBO")

    def score(self, X: Any, y: Any = None) -> float:
        """Mean ELBO per sample (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : Ignored
            Not used.

        Returns
        -------
        score : float
            Mean ELBO per sample; higher is better.
        """
        return float(np.mean(self.score_samples(X)))

    def sample(self, n_samples: int = 1, random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Generate data from the fitted model.

        Draws c ~ Cat(pi), z ~ N(mu_c, sigma_c^2), and decodes z.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Seed of the draw.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_)
            Decoded means (Bernoulli probabilities for the Bernoulli likelihood).
        y : ndarray of shape (n_samples,)
            Component of each sample.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        rng = check_random_state(random_state)
        module: GMMPriorVAE = self.module_
        with torch.no_grad():
            pi = module.prior.log_pi().exp().double().cpu().numpy()
            std = (0.5 * module.prior.logvar()).exp().cpu().numpy()
            means = module.prior.mu_c.cpu().numpy()
        comps = rng.choice(self.n_clusters, size=n_samples, p=pi / pi.sum())
        z = means[comps] + std[comps] * rng.standard_normal((n_samples, module.latent_dim))
        X = self._map_batches(self._decode_output, z.astype(np.float32))
        return X, comps
