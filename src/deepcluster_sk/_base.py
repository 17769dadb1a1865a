"""The base estimator: validation, the fit template, batched inference, device-safe pickling."""

from __future__ import annotations

import copy
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

from ._training import FitConfig, run_training
from ._utils import (
    as_tensor,
    draw_seed,
    inference_device,
    make_generator,
    resolve_device,
    resolve_image_shape,
    seeded_torch,
)
from .nn.losses import reconstruction_loss

__all__ = ["AutoencoderClusterer", "BaseDeepClusterer"]


class BaseDeepClusterer(
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Base class of the deep clustering estimators.

    It owns :meth:`fit` as a template and leaves small hooks to subclasses:

    - :meth:`_check_input` checks data-dependent requirements (value range, image shape);
    - :meth:`_build_module` returns the torch module for ``n_features`` inputs;
    - :meth:`_batch_loss` is the loss of one mini-batch (used by the default
      :meth:`_fit_module`; estimators with several phases override :meth:`_fit_module`);
    - :meth:`_encode` maps a batch of rows to latent codes;
    - :meth:`_fit_head` fits the clustering head on the latent codes of the training data;
    - :meth:`_predict_latent` labels latent codes; :meth:`_transform_latent` maps them to the
      output of :meth:`transform`.

    Subclasses declare their parameters in ``__init__`` (stored verbatim) and extend
    ``_parameter_constraints``. The common parameters are ``n_clusters``, ``n_epochs``,
    ``batch_size``, ``lr``, ``device``, ``random_state`` and ``verbose``; optionally
    ``optimizer``, ``weight_decay`` and ``tol`` (read with defaults when absent).

    Notes
    -----
    Fitted estimators pickle with their module on the CPU, so a model trained on a GPU
    loads and predicts on a machine without one.
    """

    _parameter_constraints: dict = {  # noqa: RUF012 (sklearn convention)
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "n_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions({"adam", "adamw", "sgd"})],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "device": "no_validation",  # checked by resolve_device in fit
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: Rows per forward pass in transform/predict; keeps memory flat for large X.
    inference_batch_size: int = 4096

    # ------------------------------------------------------------------ hooks
    def _check_input(self, X: np.ndarray) -> None:
        """Data-dependent checks run in ``fit`` after validation (optional hook)."""

    @abstractmethod
    def _build_module(self, n_features: int) -> torch.nn.Module:
        """Return a freshly initialised module for ``n_features`` inputs."""

    def _batch_loss(
        self, batch: tuple[torch.Tensor, ...], epoch: int
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Loss of one mini-batch for the default single-phase :meth:`_fit_module`."""
        raise NotImplementedError

    def _fit_module(self, X: torch.Tensor, rng: np.random.RandomState) -> None:
        """Train ``self.module_`` on the device tensor ``X`` (default: one phase)."""
        self._train(self._batch_loss, X, self._fit_config(), rng)

    def _encode(self, xb: torch.Tensor) -> torch.Tensor:
        """Latent codes of a batch (eval mode, no grad)."""
        return self.module_.encode(xb)

    @abstractmethod
    def _fit_head(self, Z: np.ndarray, rng: np.random.RandomState) -> None:
        """Fit the clustering head on the training codes ``Z``."""

    @abstractmethod
    def _predict_latent(self, Z: np.ndarray) -> np.ndarray:
        """Cluster labels of codes ``Z``."""

    def _transform_latent(self, Z: np.ndarray) -> np.ndarray:
        """Output of :meth:`transform` for codes ``Z`` (default: the codes)."""
        return Z

    # --------------------------------------------------------------- machinery
    def _validate_X(self, X: Any, *, reset: bool) -> np.ndarray:
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=np.float32,
            ensure_min_samples=2 if reset else 1,
            order="C",
        )

    def _fit_config(self, **overrides: Any) -> FitConfig:
        """Training settings from the estimator's parameters, with overrides."""
        settings: dict[str, Any] = {
            "n_epochs": self.n_epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "optimizer": getattr(self, "optimizer", "adam"),
            "weight_decay": getattr(self, "weight_decay", 0.0),
            "tol": getattr(self, "tol", None),
        }
        settings.update(overrides)
        return FitConfig(**settings)

    def _train(
        self,
        loss_fn: Callable[..., Any],
        data: torch.Tensor | tuple[torch.Tensor, ...],
        config: FitConfig,
        rng: np.random.RandomState,
        **kwargs: Any,
    ) -> list[dict[str, float]]:
        """Run the shared training engine and append its records to ``history_``.

        A private ``_epoch_monitor(estimator, phase, epoch, record)`` attribute, when set
        (benchmarks use it to log accuracy against known labels), is called after every
        epoch with the record it may extend; the module is put back in training mode after.
        """
        monitor = getattr(self, "_epoch_monitor", None)
        if monitor is not None:
            inner = kwargs.pop("on_epoch_end", None)

            def on_epoch_end(epoch: int, record: dict[str, Any]) -> bool | None:
                stop = inner(epoch, record) if inner is not None else None
                monitor(self, config.phase, epoch, record)
                self.module_.train()
                return stop

            kwargs["on_epoch_end"] = on_epoch_end
        records = run_training(
            self.module_,
            loss_fn,
            data,
            config,
            generator=make_generator(draw_seed(rng)),
            verbose=self.verbose,
            **kwargs,
        )
        self.history_.extend(records)
        return records

    def _resolve_input_shape(self, n_features: int) -> tuple[int, int, int]:
        return resolve_image_shape(getattr(self, "input_shape", None), n_features)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> BaseDeepClusterer:
        """Train the network and the clustering head on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (images flattened row-major).
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X = self._validate_X(X, reset=True)
        if X.shape[0] < self.n_clusters:
            raise ValueError(
                f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}."
            )
        self._check_input(X)
        self._device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        with seeded_torch(draw_seed(rng)):
            self.module_ = self._build_module(X.shape[1]).to(self._device)
        self.history_: list[dict[str, float]] = []
        Xt = as_tensor(X, self._device)
        self._fit_module(Xt, rng)
        Z = self._latent(Xt)
        self._fit_head(Z, rng)
        self.labels_ = self._predict_latent(Z)
        self.n_iter_ = len(self.history_)
        return self

    def _map_batches(
        self, fn: Callable[[torch.Tensor], torch.Tensor], X: np.ndarray | torch.Tensor
    ) -> np.ndarray:
        """Apply ``fn`` to ``X`` in batches on the inference device; concatenate on the CPU."""
        device = inference_device(getattr(self, "_device", None))
        self.module_.to(device).eval()
        outputs = []
        bs = self.inference_batch_size
        with torch.no_grad():
            for start in range(0, X.shape[0], bs):
                chunk = X[start : start + bs]
                xb = chunk.to(device) if torch.is_tensor(chunk) else as_tensor(chunk, device)
                outputs.append(fn(xb).cpu().numpy())
        # float64 for the scikit-learn heads (EM, k-means, PCA accumulate in double).
        return np.concatenate(outputs, axis=0).astype(np.float64)

    def _latent(self, X: np.ndarray | torch.Tensor) -> np.ndarray:
        return self._map_batches(self._encode, X)

    def _checked_latent(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return self._latent(self._validate_X(X, reset=False))

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
        return self._predict_latent(self._checked_latent(X))

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
        return self._transform_latent(self._checked_latent(X))

    @property
    def _n_features_out(self) -> int:
        """Width of :meth:`transform`'s output (the code size unless a subclass says otherwise)."""
        return int(self.module_.latent_dim)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        module = state.get("module_")
        if isinstance(module, torch.nn.Module):
            on_cpu = all(t.device.type == "cpu" for t in module.state_dict().values())
            if not on_cpu:
                state["module_"] = copy.deepcopy(module).to("cpu")
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags


class AutoencoderClusterer(BaseDeepClusterer):
    """Base of "train an autoencoder, then cluster its codes" estimators.

    Adds the reconstruction batch loss and :meth:`reconstruct`. Subclasses set
    ``_reconstruction_kind()`` (``"bce"`` or ``"mse"``), build the module and fit the head.
    """

    def _reconstruction_kind(self) -> str:
        return getattr(self, "loss", "mse")

    def _check_input(self, X: np.ndarray) -> None:
        if self._reconstruction_kind() == "bce" and (X.min() < 0.0 or X.max() > 1.0):
            raise ValueError(
                f"{type(self).__name__} with loss='bce' needs X in [0, 1], but X ranges over "
                f"[{X.min():.4g}, {X.max():.4g}]. Scale the data first (e.g. "
                "sklearn.preprocessing.MinMaxScaler, or divide images by 255) or use loss='mse'."
            )

    def _batch_loss(
        self, batch: tuple[torch.Tensor, ...], epoch: int
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        (xb,) = batch
        loss = reconstruction_loss(self.module_(xb), xb, self._reconstruction_kind())
        return loss, {}

    def _decode_output(self, z: torch.Tensor) -> torch.Tensor:
        out = self.module_.decode(z)
        return torch.sigmoid(out) if self._reconstruction_kind() == "bce" else out

    def reconstruct(self, X: Any) -> np.ndarray:
        """Pass ``X`` through the autoencoder.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode and decode.

        Returns
        -------
        X_rec : ndarray of shape (n_samples, n_features)
            Reconstructions (probabilities in [0, 1] for ``loss="bce"``).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._map_batches(lambda xb: self._decode_output(self._encode(xb)), X)
