"""DVAEClusterer: GMM-prior VAE + classifier q(c|z) + Wasserstein similarity loss.

Over 400 lines because of its documentation (22 parameters, the paper's recipe) and its
probabilistic methods (ELBO score, sampling); its joint phase lives in ``_dvae_joint`` and
the loss maths in ``nn.vade``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseDeepClusterer
from ._dvae_joint import DVAEJointPhase
from ._heads import (
    ClusterHead,
    GaussianMixtureHead,
    KMeansHead,
    ManifoldHead,
    SpectralHead,
    check_partition,
)
from ._inference import map_batches
from ._manifold import umap_neighbours
from ._networks import build_vae
from ._utils import (
    draw_seed,
    inference_device,
    make_generator,
    resolve_batch_size,
    resolve_n_epochs,
)
from .nn import (
    GMMPriorVAE,
)

__all__ = ["PRETRAIN_EPOCHS", "DVAEClusterer"]

#: ``pretrain_epochs="auto"`` on sets of up to 12,800 rows: the paper's 100.
PRETRAIN_EPOCHS = 100


class DVAEClusterer(DVAEJointPhase, BaseDeepClusterer):
    """Deep clustering with a GMM-prior VAE, a classifier and a similarity loss (DVAE).

    Training has three phases:

    1. autoencoder pretraining of the encoder, the mean head and the decoder on the
       reconstruction likelihood (the routine every estimator of the package shares);
    2. a partition of the pretrained means (``init``) gives pseudo-labels that initialise the
       mixture prior (means, variances, weights) and pre-train the classifier, so classifier
       class ``k`` and prior component ``k`` agree;
    3. joint training of everything on the negative ELBO with the mixture prior plus
       ``similarity_weight`` times the Wasserstein similarity loss, switched on after
       ``warmup_epochs``. Throughout joint training the latent term weights the
       components by the pseudo-labels rather than by the classifier, and the classifier
       is trained on them by cross-entropy with weight ``_anchor_weight = 10`` (the
       anchor), so the codes gather round the components of the initial partition, which
       decides the result. Training stops once the labels settle (``tol``).

    Parameters
    ----------
    n_clusters : int or "auto", default=10
        Number of clusters C. ``"auto"`` chooses it from the data
        before training (:ref:`guide-n-clusters`); the count fitted is ``n_clusters_``.
    encoder : {"auto", "dense", "conv", "conv_pool"} or torch.nn.Module, default="auto"
        The network that maps a batch to features ``(n, h)``, as in :class:`AEGMM`; linear
        heads give the posterior mean and log-variance.
    decoder : {"auto", "dense", "conv", "conv_pool"} or torch.nn.Module, default="auto"
        Maps codes ``(n, latent_dim)`` to logits (Bernoulli) or means (Gaussian) of shape
        ``(n, n_features)`` or ``(n, *input_shape)``; ``"auto"`` mirrors the encoder.
    hidden_dims : tuple of int or "auto", default="auto"
        Widths of the dense encoder, as in :class:`AEGMM` (``"auto"``: ``(500, 500, 2000)``
        for rows of 64 or more features, one hidden layer of 64 units for narrower rows).
    channels : tuple of int, default=(32, 64, 128)
        Block channels of the convolutional encoder.
    latent_dim : int or "auto", default="auto"
        Latent size J. ``"auto"`` is ``max(10, n_clusters)``.
    input_shape : tuple of int, "1d" or None, default=None
        ``(channels, height, width)`` (or ``(height, width)``) of each row, as in
        :class:`AEGMM`.
    likelihood : {"auto", "bernoulli", "gaussian"}, default="auto"
        Decoder likelihood; ``"auto"`` is Bernoulli when X lies in [0, 1]. The Gaussian has
        the fixed variance ``_gaussian_variance = 0.5``.
    pretrain_epochs : int or "auto", default="auto"
        Epochs of autoencoder pretraining (Adam at 1e-3, AEGMM's ``batch_size="auto"``).
        ``"auto"`` is the paper's 100 on sets of up to 12,800 rows and, above, the count
        that passes as many rows through the network as 100 epochs of 12,800 rows (19 on
        MNIST's 70,000): the training costs about what it costs on 12,800 rows. The
        pretrained codes decide the result (joint training keeps the partition it starts
        from), so pretraining gets twice AEGMM's epochs, for a better starting partition at
        twice the pretraining time.
    init : {"umap", "spectral", "gmm", "kmeans"}, default="umap"
        The head (:mod:`deepcluster_sk._heads`) whose partition of the pretrained codes
        initialises the prior and the classifier; joint training keeps it (the anchor),
        so it decides most of the result. ``"umap"``: a full-covariance Gaussian mixture
        (10 restarts, the most likely kept) in a UMAP embedding of the codes (``3 n / k**2``
        neighbours between 5 and 30, ``min_dist=0``); the embedding serves only this
        partition, prediction stays the classifier on the codes. ``"spectral"``: spectral
        clustering of the codes' 10-nearest-neighbour graph. ``"gmm"``: a diagonal Gaussian mixture
        (VaDE's; 10 restarts). ``"kmeans"``: the paper's k-means (20 restarts).
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
        Training precision of the network, as in :class:`AEGMM`; inference is float32.
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
    n_clusters_ : int
        The number of clusters fitted: ``n_clusters``, or the count ``"auto"`` chose.
    n_clusters_candidates_ : ndarray of int or None
        Under ``n_clusters="auto"``, the counts compared; None for an integer ``n_clusters``.
    n_clusters_scores_ : ndarray of float or None
        Under ``n_clusters="auto"``, the criterion (a silhouette, higher is better) of each
        candidate, for a plot; None for an integer ``n_clusters``.
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
    head_ : ClusterHead
        The fitted head of the initial partition (``init``).
    phase_seconds_ : dict
        Wall time of ``pretrain``, ``head`` (initial partition, prior and classifier) and
        ``joint``. Under ``n_clusters="auto"`` also ``n_clusters``, the choice of the count.
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
        Mean log-likelihood of each mixture restart of the initial partition
        (``init="umap"`` or ``"gmm"``; the most likely is kept); a single 0 otherwise.
    similarity_bandwidth_ : float
        The bandwidth ``h`` used in joint training.

    See Also
    --------
    AEGMM : Autoencoder and Gaussian mixture, fitted after the network (faster).
    ConvAEKMeans : Convolutional autoencoder, PCA and k-means.
    IDEC : An autoencoder trained towards sharpened Student's t cluster assignments.

    Notes
    -----
    Private class attributes hold the settings that make no measurable difference or
    reproduce the paper (a subclass may override them): ``_pretrain_lr = 1e-3`` and
    ``_pretrain_batch_size = "auto"`` (pretraining), ``_classifier_epochs = 30`` and
    ``_classifier_lr = 1e-3`` (the classifier's pretraining, which starts from the
    nearest-centre rule of the initial partition), ``_lr_schedule = (10, 0.9, 2e-4)``
    (joint training's step schedule: times 0.9 every 10 epochs, floored at 2e-4),
    ``_warmup_steps = 100`` (joint training's learning rate rises linearly over its first
    100 steps: Adam's first steps move every weight by about ``lr`` whatever its gradient,
    which on small data can cross the prior's variances and merge clusters in one step),
    ``_anchor_weight = 10`` and ``_anchor_smoothing = 1e-3`` (the anchor's cross-entropy
    and the smoothing of its one-hot pseudo-labels), ``_tol_interval = 5`` (epochs between
    two label checks of ``tol``) and ``_adam_eps = 1e-4`` (VaDE's). The similarity loss is
    divided by N (the mean per-anchor cross-entropy, ``reduction="anchor_mean"`` of
    :func:`~deepcluster_sk.metrics.wasserstein_similarity_loss`); the paper divides by
    N², which makes the term N times smaller, 300 times at the default batch size.

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
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "n_epochs": [Interval(Integral, 0, None, closed="left")],
        "init": [StrOptions({"umap", "spectral", "gmm", "kmeans"})],
        "similarity_weight": [Interval(Real, 0, None, closed="left")],
        "similarity_bandwidth": [
            StrOptions({"median"}),
            Interval(Real, 0, None, closed="neither"),
        ],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, 1, closed="both")],
    }

    #: Adam learning rate and batch size (``"auto"``: AEGMM's rule) of the pretraining of
    #: the autoencoder (the batch size also of the classifier's pretraining).
    _pretrain_lr: float = 1e-3
    _pretrain_batch_size: int | str = "auto"
    #: Most epochs and the learning rate of the classifier's pretraining on the partition.
    _classifier_epochs: int = 30
    _classifier_lr: float = 1e-3
    #: Joint training's learning-rate schedule: times 0.9 every 10 epochs, floored at 2e-4.
    _lr_schedule: tuple[int, float, float] = (10, 0.9, 2e-4)
    #: Joint training's learning rate rises linearly over its first 100 optimizer steps.
    _warmup_steps: int = 100
    #: Weight of the classifier's cross-entropy on the pseudo-labels, and their smoothing.
    _anchor_weight: float = 10.0
    _anchor_smoothing: float = 1e-3
    #: Epochs between two label checks of ``tol``.
    _tol_interval: int = 5
    #: Adam's epsilon in joint training (VaDE's).
    _adam_eps: float = 1e-4

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
        likelihood: str = "auto",
        pretrain_epochs: int | str = "auto",
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
        kernel (``similarity_bandwidth=1.0``), and a k-means initial partition. The fixes of
        the paper's ambiguities stay (see the class notes): the learning-rate floor of
        ``_lr_schedule``, the nearest-centre classifier start, the learning-rate warm-up
        ``_warmup_steps = 100``, the anchor and the unit-variance codes (``latent_scale_``).

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
        return build_vae(X, n_clusters=self.n_clusters_, **self._network_params())

    def _pretrain_phase(self, X: torch.Tensor, rng: np.random.RandomState, warm: bool) -> None:
        if warm:
            # warm_start: network, prior and classifier are trained; only joint training
            # continues (its schedule and warm-up from the epochs already run).
            return
        # One seed for the Monte Carlo samples of score_samples: scores are deterministic.
        self._score_seed_ = draw_seed(rng)
        config = self._fit_config(
            n_epochs=resolve_n_epochs(self.pretrain_epochs, X.shape[0], PRETRAIN_EPOCHS),
            batch_size=resolve_batch_size(self._pretrain_batch_size, X.shape[0]),
            lr=self._pretrain_lr,
            phase="pretrain",
            hint="_pretrain_lr",
        )
        self._pretrain(X, rng, config, reduction="none")

    def _build_head(self, n_samples: int) -> ClusterHead:
        """The initial partition's head (``init``); restarts are chosen without labels."""
        k = self.n_clusters_
        if self.init == "umap":
            full = GaussianMixtureHead(k, covariance_type="full", n_init=10)
            neighbours = umap_neighbours(min(n_samples, full.max_samples), k, 30)
            return ManifoldHead(full, n_neighbors=neighbours, extension_neighbors=10)
        if self.init == "gmm":
            return GaussianMixtureHead(k, covariance_type="diag", n_init=10)
        if self.init == "kmeans":
            return KMeansHead(k, n_init=20)
        return SpectralHead(k, n_neighbors=10)

    def _fit_head(self, Z: np.ndarray, rng: np.random.RandomState, warm: bool) -> np.ndarray:
        """Partition the pretrained codes; start the prior and the classifier from it."""
        if warm:
            return self.init_labels_
        module: GMMPriorVAE = self.module_
        # Pretraining leaves the codes at an arbitrary scale (from hundredths on briefly
        # trained blobs to tens on images). Unit-variance codes give the prior's
        # variances, the posterior's starting variance and ``lr`` the same meaning on
        # every data set; the learning-rate warm-up keeps Adam's first full-rate steps
        # from crossing the prior's variances on small data.
        spread = float(np.sqrt(Z.var(axis=0).mean()))
        if np.isfinite(spread) and spread > 0.0:
            module.rescale_latent(1.0 / spread)
            Z = Z / spread
        self.latent_scale_ = float(module.latent_scale)
        labels = super()._fit_head(Z, rng, warm)
        inner = getattr(self.head_, "head_", self.head_)
        self.init_restart_scores_ = getattr(inner, "restart_scores_", np.zeros(1))
        self.init_labels_ = labels
        check_partition(
            labels,
            self.n_clusters_,
            f"The initial partition (init={self.init!r}) of DVAEClusterer",
            "Joint training starts from this partition: pretrain longer "
            "(pretrain_epochs), try another init, or lower n_clusters.",
        )
        centers, var = self._init_prior(Z, labels, rng)
        self._pretrain_classifier(Z, labels, centers, var, rng)
        return labels

    def _transform_latent(self, Z: np.ndarray) -> np.ndarray:
        """The codes: the space of the prior and of the classifier."""
        return Z

    @property
    def _n_features_out(self) -> int:
        return int(self.module_.latent_dim)

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
            classifier = copy.deepcopy(module.classifier).to("cpu", torch.float64).eval()
            out = torch.log_softmax(classifier(z), dim=-1)
        return out.numpy()

    def _predict_latent(self, Z: np.ndarray) -> np.ndarray:
        return self._log_proba_latent(Z).argmax(axis=1)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Cluster probabilities: the classifier q(c | z) at the posterior mean.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
            Rows sum to 1.
        """
        log_p = self._map_codes(self._log_proba_latent, X)
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
        # Common random numbers: the same n_mc_samples noise vectors for every row, so a
        # row's score does not depend on the other rows, their order or the batch split.
        # A float64 copy of the network computes it: in float32 the matrix kernels round a
        # row differently at different places in a block, and the mixture terms of a row
        # far from every component multiply those roundings by their size.
        module: GMMPriorVAE = copy.deepcopy(self.module_).double().eval()
        noise = torch.randn(
            (n_mc_samples, module.latent_dim),
            generator=make_generator(self._score_seed_),
            dtype=torch.float64,
        )

        def elbo(xb: torch.Tensor) -> torch.Tensor:
            xb = xb.double()
            mu, logvar = module.encode_full(xb)
            total = torch.zeros(xb.shape[0], dtype=torch.float64, device=xb.device)
            for eps in noise.to(xb.device):
                rec, l_z, l_c, _ = self._neg_elbo_terms(xb, mu, logvar, eps, module=module)
                total -= rec + l_z + l_c
            return total / n_mc_samples

        device = inference_device(getattr(self, "_device", None))
        values = map_batches(elbo, X, module, device, self.inference_batch_size)
        return self._require_finite(values, X, "the ELBO")

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
        comps = rng.choice(self.n_clusters_, size=n_samples, p=pi / pi.sum())
        z = means[comps] + std[comps] * rng.standard_normal((n_samples, module.latent_dim))
        X = self._map_batches(self._decode_output, z.astype(np.float32))
        return X, comps
