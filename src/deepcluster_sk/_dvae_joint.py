"""The DVAE's joint phase: the prior and classifier started from a partition, and the loss.

:class:`DVAEJointPhase` holds the part of :class:`~deepcluster_sk.DVAEClusterer` that comes
after the initial partition of the pretrained codes: the mixture prior and the posterior's
log-variance started from it, the classifier pretrained on it (an engine phase of its own),
and the anchored ELBO + similarity loss of joint training with its label-change stopping.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ._training import JointPhase, LabelChangeStopping
from ._utils import as_tensor, draw_seed, make_generator, resolve_batch_size
from .nn import DVAELossTerms, GMMPriorVAE, init_classifier_as_nearest_centre
from .nn.similarity import similarity_bandwidth

__all__ = ["DVAEJointPhase"]


class DVAEJointPhase:
    """Mixin of DVAEClusterer: prior and classifier initialisation, and the joint phase.

    Reads the estimator's parameters (``similarity_bandwidth``, ``similarity_weight``,
    ``warmup_epochs``, ``tol``, ``lr``) and private settings (``_pretrain_batch_size``,
    ``_classifier_epochs``, ``_classifier_lr``, ``_lr_schedule``, ``_warmup_steps``,
    ``_anchor_weight``, ``_anchor_smoothing``, ``_tol_interval``, ``_adam_eps``).
    """

    def _init_prior(
        self, Z: np.ndarray, labels: np.ndarray, rng: np.random.RandomState
    ) -> tuple[np.ndarray, np.ndarray]:
        """Start the prior from the partition, and the posterior's log-variance small."""
        module: GMMPriorVAE = self.module_
        centers, var = module.prior.init_from_partition(Z, labels)
        self.kmeans_inertia_ = float(((Z - centers[labels]) ** 2).sum())
        if self.similarity_bandwidth == "median":
            self.similarity_bandwidth_ = similarity_bandwidth(Z, random_state=draw_seed(rng))
        else:
            self.similarity_bandwidth_ = float(self.similarity_bandwidth)
        with torch.no_grad():
            # Sampled z should start inside its cluster: small posterior variance.
            module.logvar_head.weight.normal_(
                0.0, 1e-3, generator=make_generator(draw_seed(rng), self._device)
            )
            module.logvar_head.bias.fill_(float(np.log(0.1 * np.median(var))))
        return centers, var

    def _pretrain_classifier(
        self,
        Z: np.ndarray,
        labels: np.ndarray,
        centers: np.ndarray,
        var: np.ndarray,
        rng: np.random.RandomState,
    ) -> None:
        """Start the classifier as the partition's nearest-centre rule, then fit it to it.

        The encoder is frozen: the classifier reads the pretrained means.
        """
        module: GMMPriorVAE = self.module_
        mu_all = as_tensor(Z.astype(np.float32), self._device)
        y_all = torch.as_tensor(labels, dtype=torch.long, device=self._device)
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
            config = self._fit_config(
                n_epochs=self._classifier_epochs,
                batch_size=resolve_batch_size(self._pretrain_batch_size, Z.shape[0]),
                lr=self._classifier_lr,
                phase="classifier",
                hint="_classifier_lr",
                autocast_dtype=None,  # no network pass: the classifier stays float32
            )
            self._train(
                classifier_loss,
                (mu_all, y_all),
                config,
                rng,
                params=list(module.classifier.parameters()),
                callbacks=[agreement],
            )

    def _joint_phase(
        self, X: torch.Tensor, codes: np.ndarray, labels: np.ndarray, rng: np.random.RandomState
    ) -> JointPhase:
        """Joint training on the negative ELBO (+ beta * similarity loss), anchored."""
        module: GMMPriorVAE = self.module_
        noise = make_generator(draw_seed(rng), self._device)
        # Epoch -> ||d(beta L_sim)/d mu|| / ||d L_GVAE/d mu||, measured on its first batch.
        grad_ratio: dict[int, float] = {}

        def record(epoch: int, record: dict[str, Any]) -> None:
            record.update(
                min_pi=float(module.prior.log_pi().detach().exp().min()),
                sim_grad_ratio=grad_ratio.pop(epoch, 0.0),
            )

        stopping = LabelChangeStopping(
            lambda: self._predict_latent(self._latent(X)),
            self.tol,
            interval=self._tol_interval,
            start=int(self.warmup_epochs),
        )
        prior = {id(p) for p in module.prior_parameters()}
        rest = [p for p in module.parameters() if id(p) not in prior]
        step, gamma, lr_min = self._lr_schedule
        pseudo = torch.as_tensor(self.init_labels_, dtype=torch.long, device=X.device)
        return JointPhase(
            self._joint_loss_fn(noise, grad_ratio),
            (X, pseudo),
            params=[{"params": rest}, {"params": module.prior_parameters(), "lr": self.lr}],
            config={
                "lr_decay_step": step,
                "lr_decay_gamma": gamma,
                "lr_min": lr_min,
                "warmup_steps": self._warmup_steps,
                "adam_eps": self._adam_eps,
                "drop_last": True,
                "phase": "train",
                "first_epoch": self._epochs_run("train"),
            },
            callbacks=[record, stopping],
            refit_head=False,
        )

    def _beta(self, epoch: int) -> float:
        return float(self.similarity_weight) if epoch >= self.warmup_epochs else 0.0

    def _neg_elbo_terms(self, xb, mu, logvar, eps, labels=None, module=None):
        """``elbo_terms`` of ``module`` (default ``module_``) with this estimator's
        likelihood and anchor smoothing."""
        return (self.module_ if module is None else module).elbo_terms(
            xb,
            mu,
            logvar,
            eps,
            lambda out, x: self._reconstruction_loss(out, x, "none"),
            labels=labels,
            smoothing=self._anchor_smoothing,
        )

    def _joint_loss_fn(self, noise: torch.Generator, grad_ratio: dict[int, float]):
        terms_of = DVAELossTerms(
            self.module_,
            lambda out, x: self._reconstruction_loss(out, x, "none"),
            self._anchor_weight,
            self._anchor_smoothing,
            self.similarity_bandwidth_,
        )

        def loss_fn(batch, epoch):
            xb, yb = batch
            loss, terms, ratio = terms_of(
                xb, yb, noise, self._beta(epoch), measure_ratio=epoch not in grad_ratio
            )
            if ratio is not None:
                grad_ratio[epoch] = ratio
            return loss, terms

        return loss_fn
