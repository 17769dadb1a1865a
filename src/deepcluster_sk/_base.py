"""The base estimator: validation, the fit template, batched inference, device-safe pickling.

``fit`` is one template for every estimator: validate, build the network, pretrain it,
fit the clustering head on the codes, run the estimator's joint phase (if it has one) and
refit the head, assigning every new piece of state only when the whole fit succeeded.

Over 400 lines because the template owns everything every estimator shares: parameter
constraints, validation, warm starts, the engine calls, inference, pickling.
"""

from __future__ import annotations

import copy
import inspect
import time
import warnings
from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._heads import ClusterHead, SmallDataWarning, check_partition
from ._inference import map_batches, require_finite
from ._n_clusters import choose_n_clusters
from ._networks import NETWORK_NAMES
from ._training import BatchLoss, EpochEnd, FitConfig, JointPhase, run_training
from ._utils import (
    as_tensor,
    data_device,
    draw_seed,
    inference_device,
    make_generator,
    resolve_batch_size,
    resolve_device,
    resolve_latent_dim,
    resolve_likelihood,
    resolve_n_epochs,
    resolve_precision,
    seeded_torch,
)
from ._version import __version__
from .nn.losses import reconstruction_loss

__all__ = ["FULL_EPOCHS", "BaseDeepClusterer"]

#: ``n_epochs="auto"`` on sets of up to 12,800 rows (see ``resolve_n_epochs``).
FULL_EPOCHS = 50

#: Rows per cluster under which a fit on a table warns with :class:`SmallDataWarning`.
_SMALL_TABLE_ROWS = 100
#: What the collapse warning of a fitted partition suggests changing.
_COLLAPSE_HINT = "Train longer (n_epochs), lower lr, check the scaling of X, or lower n_clusters."
#: Inference batches of rows that ``predict``, ``transform`` and the other row-wise methods
#: encode and pass to the head at a time (4 x 1024 rows by default).
_INFERENCE_BLOCKS = 4


class BaseDeepClusterer(
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Base class of the deep clustering estimators: a network, a head and a joint loss.

    :meth:`fit` is a template; an estimator is a preset of three hooks and the parameters
    that feed them:

    - :meth:`_build_module` returns the torch module for the training rows (built from the
      ``encoder``/``decoder`` parameters, see :mod:`deepcluster_sk._networks`);
    - :meth:`_build_head` returns the unfitted clustering head (:mod:`._heads`);
    - :meth:`_joint_phase` describes the training after the head's first fit, or None.

    :meth:`_pretrain_phase` (reconstruction training) and :meth:`_fit_head` have defaults
    that the DVAE extends; :meth:`_on_epoch_end` sees every epoch's history record.

    Notes
    -----
    Fitted estimators pickle with their module on the CPU, so a model trained on a GPU
    loads and predicts on a machine without one.
    """

    _parameter_constraints: dict = {  # noqa: RUF012 (sklearn convention)
        "n_clusters": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "encoder": [StrOptions(set(NETWORK_NAMES)), torch.nn.Module],
        "decoder": [StrOptions(set(NETWORK_NAMES)), torch.nn.Module],
        "hidden_dims": ["array-like", StrOptions({"auto"})],
        "channels": ["array-like"],
        "latent_dim": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "input_shape": ["array-like", StrOptions({"1d"}), None],
        "likelihood": [StrOptions({"auto", "bernoulli", "gaussian"})],
        "n_epochs": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "precision": [StrOptions({"auto", "float32", "bfloat16"})],
        "device": "no_validation",  # checked by resolve_device in fit
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    #: Rows per forward pass in transform/predict; keeps memory flat for large X. The last
    #: block is padded to this size, so results do not depend on the batch composition.
    inference_batch_size: int = 1024
    #: Fixed variance of the Gaussian likelihood's per-sample negative log-likelihood.
    _gaussian_variance: float = 0.5
    #: ``batch_size="auto"`` halves the batch (down to 32) while an epoch would hold fewer
    #: than this many mini-batches (see ``resolve_batch_size``).
    _auto_min_batches: int = 10
    #: Version of the pickled state's layout; bumped when fitted attributes change shape.
    _STATE_FORMAT = 2

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _build_module(self, X: np.ndarray) -> torch.nn.Module:
        """Return a freshly initialised module for the training rows ``X``."""

    @abstractmethod
    def _build_head(self, n_samples: int) -> ClusterHead:
        """Return the unfitted clustering head for ``n_samples`` training codes."""

    def _pretrain_phase(self, X: torch.Tensor, rng: np.random.RandomState, warm: bool) -> None:
        """Train the network before the head (default: reconstruction, ``n_epochs``).

        ``warm`` is True when ``self.module_`` is a copy of the previous fit's module that
        training continues (``warm_start``); ``history_`` then holds the previous records.
        """
        config = self._fit_config(phase="train", first_epoch=self._epochs_run("train"))
        self._pretrain(X, rng, config, reduction="mean")

    def _fit_head(self, Z: np.ndarray, rng: np.random.RandomState, warm: bool) -> np.ndarray:
        """Fit a new head on the training codes as ``head_``; return its training labels."""
        self.head_ = self._build_head(Z.shape[0]).fit(Z, rng)
        return self.head_.labels_

    def _joint_phase(
        self, X: torch.Tensor, codes: np.ndarray, labels: np.ndarray, rng: np.random.RandomState
    ) -> JointPhase | None:
        """The training after the head's first fit (default: none)."""
        return None

    def _predict_latent(self, Z: np.ndarray) -> np.ndarray:
        """Cluster labels of codes ``Z`` (default: the head's)."""
        return self.head_.predict(Z)

    def _transform_latent(self, Z: np.ndarray) -> np.ndarray:
        """Output of :meth:`transform` for codes ``Z`` (default: the head's space)."""
        return self.head_.transform(Z)

    def _on_epoch_end(self, phase: str, epoch: int, record: dict[str, Any]) -> None:
        """Called after every epoch of every phase with the epoch's history record.

        The record may be extended in place (its keys end up in ``history_``). The default
        does nothing; the benchmark harness subclasses an estimator to log accuracy here. An
        override that runs inference must put ``self.module_`` back in training mode.
        """

    # --------------------------------------------------------------- machinery
    def _validate_X(self, X: Any, *, reset: bool) -> np.ndarray:
        return validate_data(
            self,
            X,
            reset=reset,
            # uint8 stays uint8 (8-bit images, scaled batch by batch): no float copy.
            dtype=[np.float32, np.uint8],
            ensure_min_samples=2 if reset else 1,
            order="C",
        )

    def _network_params(self) -> dict[str, Any]:
        """The network parameters, as the builders of :mod:`._networks` take them."""
        return {
            "encoder": self.encoder,
            "decoder": self.decoder,
            "input_shape": self.input_shape,
            "hidden_dims": self.hidden_dims,
            "channels": self.channels,
            "latent_dim": resolve_latent_dim(self.latent_dim, self.n_clusters_),
        }

    def _images(self) -> bool:
        """Whether the fitted network reads rows as images (``input_shape_`` of rank 3)."""
        shape = getattr(self, "input_shape_", None)
        return shape is not None and len(shape) == 3

    def _epochs_run(self, phase: str) -> int:
        """Number of epochs of ``phase`` in ``history_`` (those a warm fit continues)."""
        return sum(1 for record in self.history_ if record["phase"] == phase)

    def _warm_module(self, X: np.ndarray, seed: int, n_features: int | None) -> torch.nn.Module:
        """A deep copy of the fitted module for a warm fit on ``X``; ValueError if it can't be.

        The network the current parameters would build for ``X`` (initialised from
        ``seed``, as a cold fit would) must have the fitted module's parameter names and
        shapes and read rows with the same shape; otherwise the parameters or the data
        changed since the last fit and continuing it is meaningless.
        """
        name = type(self).__name__
        if n_features is not None and n_features != X.shape[1]:
            raise ValueError(
                f"{name} with warm_start=True continues the previous fit, whose network "
                f"reads {n_features} features, but X has {X.shape[1]}. Set warm_start=False "
                "to train a new network on these data."
            )
        with seeded_torch(seed):
            fresh = self._build_module(X)
        shapes = {k: tuple(v.shape) for k, v in fresh.state_dict().items()}
        fitted = {k: tuple(v.shape) for k, v in self.module_.state_dict().items()}
        if shapes != fitted or fresh.input_shape != self.input_shape_:
            raise ValueError(
                f"{name} with warm_start=True continues the previous fit, but the network "
                "parameters (encoder, decoder, hidden_dims, channels, latent_dim, "
                "input_shape or n_clusters) changed since then, so the fitted network does "
                "not match the one they describe. Set warm_start=False to train a new one."
            )
        return copy.deepcopy(self.module_)

    def _fit_config(self, **overrides: Any) -> FitConfig:
        """Training settings from the estimator's parameters, with overrides."""
        low = self._precision == "bfloat16"
        settings: dict[str, Any] = {
            "n_epochs": self._n_epochs,
            "batch_size": self._batch_size,
            "lr": self.lr,
            "autocast_dtype": torch.bfloat16 if low else None,
            "channels_last": low,
        }
        settings.update(overrides)
        return FitConfig(**settings)

    def _train(
        self,
        loss_fn: BatchLoss,
        data: torch.Tensor | tuple[torch.Tensor, ...],
        config: FitConfig,
        rng: np.random.RandomState,
        *,
        callbacks: list[EpochEnd] | None = None,
        **kwargs: Any,
    ) -> list[dict[str, float]]:
        """Run the training engine and append its records to ``history_``."""

        def hook(epoch: int, record: dict[str, Any]) -> None:
            self._on_epoch_end(config.phase, epoch, record)

        records = run_training(
            self.module_,
            loss_fn,
            data,
            config,
            generator=make_generator(draw_seed(rng)),
            verbose=self.verbose,
            on_epoch_end=[*(callbacks or []), hook],
            device=self._device,
            **kwargs,
        )
        self.history_.extend(records)
        return records

    def _reconstruction_loss(self, output: torch.Tensor, x: torch.Tensor, reduction: str):
        return reconstruction_loss(
            output, x, self.likelihood_, reduction=reduction, variance=self._gaussian_variance
        )

    def _pretrain(
        self, X: torch.Tensor, rng: np.random.RandomState, config: FitConfig, *, reduction: str
    ) -> list[dict[str, float]]:
        """Reconstruction training of encoder, code head and decoder: the one pretraining.

        ``reduction`` is that of :func:`~deepcluster_sk.nn.reconstruction_loss`: ``"mean"``
        trains on the mean elementwise loss (the autoencoders'), ``"none"`` on the mean of the
        per-sample negative log-likelihoods (the VAE's).
        """
        module = self.module_

        def loss_fn(batch, epoch):
            (xb,) = batch
            return self._reconstruction_loss(module(xb), xb, reduction).mean(), {}

        return self._train(loss_fn, X, config, rng, params=module.autoencoder_parameters())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> BaseDeepClusterer:
        """Train the network and the clustering head on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (images flattened row-major). A ``numpy.memmap`` is read in
            mini-batches, never copied whole. ``uint8`` data are read as 8-bit
            intensities: each batch is divided by 255 as it is used (the same model as
            fitting ``X.astype(np.float32) / 255``, at a quarter of the memory); here and
            in every other method. Other types are converted to float32.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # Transactional: a fit builds new objects (module, head, history) and never mutates
        # the previous ones, so restoring the attribute dict on any exception (including
        # KeyboardInterrupt) leaves a fitted estimator exactly as it was and a fresh one
        # unfitted.
        previous = dict(self.__dict__)
        try:
            self._fit(X)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise
        return self

    def _resolve_n_clusters(self, X: np.ndarray, warm: bool) -> None:
        """Set ``n_clusters_``: ``n_clusters``, or for ``"auto"`` the count chosen on ``X``.

        A warm fit with ``"auto"`` keeps the previous count (the fitted network is sized
        by it). The choice draws from its own copy of ``random_state`` (an int or None), so
        the rest of the fit is the fit with the chosen count given.
        """
        if self.n_clusters != "auto":
            self.n_clusters_ = int(self.n_clusters)
            self.n_clusters_candidates_ = self.n_clusters_scores_ = None
            return
        if warm and getattr(self, "n_clusters_candidates_", None) is not None:
            return
        images = self.input_shape is not None and not isinstance(self.input_shape, str)
        self.n_clusters_, self.n_clusters_candidates_, self.n_clusters_scores_ = choose_n_clusters(
            X, images, check_random_state(self.random_state)
        )

    def _fit(self, X: Any) -> None:
        warm = bool(self.warm_start) and isinstance(getattr(self, "module_", None), torch.nn.Module)
        n_features = getattr(self, "n_features_in_", None)
        X = self._validate_X(X, reset=True)
        clock = time.perf_counter()
        self._resolve_n_clusters(X, warm)
        choice_seconds = time.perf_counter() - clock
        if X.shape[0] < self.n_clusters_:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}.")
        self.likelihood_ = resolve_likelihood(self.likelihood, X, type(self).__name__)
        self._device = resolve_device(self.device)
        self._precision = resolve_precision(self.precision, self._device)
        self._batch_size = resolve_batch_size(self.batch_size, X.shape[0], self._auto_min_batches)
        self._n_epochs = resolve_n_epochs(self.n_epochs, X.shape[0], FULL_EPOCHS)
        rng = check_random_state(self.random_state)
        seed = draw_seed(rng)
        if warm:
            # Train a copy: an interrupted warm fit leaves the previous module untouched.
            module = self._warm_module(X, seed, n_features)
            self.history_: list[dict[str, float]] = list(self.history_)
        else:
            with seeded_torch(seed):
                module = self._build_module(X)
            self.history_ = []
        self.module_ = module.to(self._device)
        self.input_shape_ = module.input_shape
        if not self._images() and X.shape[0] < _SMALL_TABLE_ROWS * self.n_clusters_:
            warnings.warn(
                f"{type(self).__name__} is fitted on a table of {X.shape[0]} rows, "
                f"{X.shape[0] // self.n_clusters_} per cluster: below about "
                f"{_SMALL_TABLE_ROWS} rows per cluster the network and its head learn little "
                "that the columns do not already show, and KMeans or a GaussianMixture on "
                "the standardised columns is often as accurate. Compare them on your data.",
                SmallDataWarning,
                stacklevel=3,
            )
        # On a GPU the rows are copied there when they fit; otherwise (and always on the
        # CPU) they stay where they are and each mini-batch is gathered from them.
        Xt = as_tensor(X, data_device(X.nbytes, self._device))
        seconds = {"pretrain": 0.0, "head": 0.0, "joint": 0.0}
        if self.n_clusters == "auto":
            seconds["n_clusters"] = choice_seconds
        clock = time.perf_counter()
        self._pretrain_phase(Xt, rng, warm)
        seconds["pretrain"], clock = time.perf_counter() - clock, time.perf_counter()
        codes = self._latent(Xt)
        labels = self._fit_head(codes, rng, warm)
        seconds["head"], clock = time.perf_counter() - clock, time.perf_counter()
        joint = self._joint_phase(Xt, codes, labels, rng)
        if joint is not None:
            self._train(
                joint.loss,
                joint.data,
                self._fit_config(**joint.config),
                rng,
                params=joint.params,
                batch_transform=joint.transform,
                callbacks=joint.callbacks,
            )
            seconds["joint"], clock = time.perf_counter() - clock, time.perf_counter()
            codes = self._latent(Xt)
            if joint.refit_head:
                self._fit_head(codes, rng, warm)
                seconds["head"] += time.perf_counter() - clock
        self.phase_seconds_ = seconds
        # The training rows are labelled through the same map as new rows, so ``labels_``
        # equals ``predict`` on the training data.
        self.labels_ = self._predict_latent(codes)
        self.n_iter_ = len(self.history_)
        check_partition(self.labels_, self.n_clusters_, type(self).__name__, _COLLAPSE_HINT)

    def _map_batches(
        self, fn: Callable[[torch.Tensor], torch.Tensor], X: np.ndarray | torch.Tensor
    ) -> np.ndarray:
        """``fn`` over ``X`` in fixed-size float32 batches on the inference device."""
        device = inference_device(getattr(self, "_device", None))
        return map_batches(fn, X, self.module_, device, self.inference_batch_size)

    def _latent(self, X: np.ndarray | torch.Tensor) -> np.ndarray:
        return self._map_batches(self.module_.encode, X)

    def _require_finite(self, values: np.ndarray, X: np.ndarray, what: str) -> np.ndarray:
        return require_finite(values, X, what, type(self).__name__)

    def _checked_latent(self, X: Any) -> np.ndarray:
        """Validate new data and encode it (the head's input)."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._require_finite(self._latent(X), X, "the latent codes")

    def _map_codes(self, fn: Callable[[np.ndarray], np.ndarray], X: Any) -> np.ndarray:
        """``fn`` of the codes of new data ``X``, encoded and mapped block by block.

        A row-wise ``fn`` (a head's labels, probabilities, densities or space) sees
        ``_INFERENCE_BLOCKS`` inference batches of codes at a time, so the memory of
        ``predict`` or ``transform`` is the output plus one block of codes and one batch
        of activations, whatever the number of rows. Blocks start at multiples of the
        inference batch, so every row is encoded in the same batch as without blocks.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        n, block = X.shape[0], self.inference_batch_size * _INFERENCE_BLOCKS
        out = None
        for start in range(0, n, block):
            rows = X[start : start + block]
            codes = self._latent(rows)
            if not np.isfinite(codes).all():
                # The error counts the bad rows of all of X, not of this block.
                self._require_finite(self._latent(X), X, "the latent codes")
            values = np.asarray(fn(codes))
            if out is None:
                out = np.empty((n, *values.shape[1:]), dtype=values.dtype)
            out[start : start + values.shape[0]] = values
        return out

    def predict(self, X: Any) -> np.ndarray:
        """Assign each sample to a cluster.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster index of each sample.
        """
        return self._map_codes(self._predict_latent, X)

    def transform(self, X: Any) -> np.ndarray:
        """Map ``X`` to the space the clustering head works in.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            Latent representation.
        """
        return self._map_codes(self._transform_latent, X)

    def _decode_output(self, z: torch.Tensor) -> torch.Tensor:
        """Decoded means of codes: probabilities for the Bernoulli likelihood."""
        out = self.module_.decode(z)
        return torch.sigmoid(out) if self.likelihood_ == "bernoulli" else out

    def reconstruct(self, X: Any) -> np.ndarray:
        """Pass ``X`` through the network: encode to the code, then decode.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode and decode.

        Returns
        -------
        X_rec : ndarray of shape (n_samples, n_features)
            Reconstructions (probabilities in [0, 1] for the Bernoulli likelihood).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._map_batches(lambda xb: self._decode_output(self.module_.encode(xb)), X)

    @property
    def _n_features_out(self) -> int:
        """Width of :meth:`transform`'s output: that of the head's space."""
        return int(self.head_.n_features_out_)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        module = state.get("module_")
        if isinstance(module, torch.nn.Module):
            on_cpu = all(t.device.type == "cpu" for t in module.state_dict().values())
            if not on_cpu:
                state["module_"] = copy.deepcopy(module).to("cpu")
        state["_deepcluster_sk_version"] = __version__
        state["_deepcluster_sk_state_format"] = self._STATE_FORMAT
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled estimator; parameters added since it was pickled get defaults."""
        state = dict(state)
        signature = inspect.signature(type(self).__init__)
        missing = {
            name: p.default
            for name, p in signature.parameters.items()
            if name != "self" and p.kind is not p.VAR_KEYWORD and name not in state
        }
        if missing:
            version = state.get("_deepcluster_sk_version", "an older version")
            warnings.warn(
                f"This {type(self).__name__} was pickled by deepcluster_sk {version}, which "
                f"had no parameter(s) {sorted(missing)}; they take their defaults "
                f"{missing}. Refit to be sure the model matches this version.",
                UserWarning,
                stacklevel=2,
            )
            state.update(missing)
        super().__setstate__(state)
        self._restore_fitted_state()

    def _restore_fitted_state(self) -> None:
        """Complete the fitted state of an older release's pickle or saved model.

        Releases before ``n_clusters="auto"`` kept no ``n_clusters_``: it is the integer
        ``n_clusters`` they were fitted with. Then :meth:`_upgrade_fitted_state`.
        """
        state = self.__dict__
        if "labels_" in state and "n_clusters_" not in state:
            state["n_clusters_"] = int(state["n_clusters"])
            state["n_clusters_candidates_"] = state["n_clusters_scores_"] = None
        self._upgrade_fitted_state()

    def _upgrade_fitted_state(self) -> None:
        """Bring fitted attributes of an older release's layout to this one (default: none)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags
