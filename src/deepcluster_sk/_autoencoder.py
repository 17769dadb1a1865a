"""Autoencoder presets: a reconstruction-trained network, a head, and self-training.

:class:`AutoencoderClusterer` is the base of AEGMM and ConvAEKMeans. Its joint phase is
*self-training*: after the head's first fit the network trains on, for
``self_training`` epochs, its reconstruction plus a cross-entropy that asks a cosine
classifier on the code for the head's label of every row whose nearest codes agree with it
(images moved at random first), and the head is fitted again on the new codes. The labels
come from the head, never from ``y``.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseDeepClusterer
from ._heads import ClusterHead, ManifoldHead
from ._manifold import umap_neighbours, unit_rows
from ._networks import build_autoencoder
from ._partitions import agreeing_rows
from ._training import JointPhase, full_precision
from ._utils import draw_seed, make_generator, random_affine, resolve_n_epochs

__all__ = ["AutoencoderClusterer"]

#: The self-training recipe. ``"auto"`` self-trains for this many epochs on images (fewer
#: above 12,800 rows, see ``resolve_n_epochs``).
_SELF_TRAINING_EPOCHS = 10
#: Weight of the cross-entropy next to the reconstruction loss.
_CE_WEIGHT = 0.1
#: A row is a target when at least this share of its 10 nearest codes share its label.
_AGREEMENT = 0.9
_NEAREST = 10
#: ``"auto"`` self-trains only when the expected cluster (``n / n_clusters`` rows) holds at
#: least this many rows: smaller clusters cannot pass the agreement test of their
#: ``_NEAREST`` nearest codes, and self-training then only moves the codes.
_SELF_TRAINING_MIN_CLUSTER = 2 * _NEAREST
#: Scale of the cosine classifier's logits (its weights start at the clusters' mean
#: directions).
_LOGIT_SCALE = 10.0
#: Random moves of image rows: shifts up to this fraction of the height and width,
#: rotations up to this many degrees.
_SHIFT, _ROTATION = 0.1, 10.0
#: UMAP of ``manifold="umap"``: N2D's ``min_dist`` 0, and at most 30 neighbours (N2D: 20;
#: fewer for many small clusters, see ``umap_neighbours``).
_UMAP_NEIGHBOURS, _UMAP_MIN_DIST = 30, 0.0


class AutoencoderClusterer(BaseDeepClusterer):
    """Base of "train an autoencoder, cluster its codes, self-train" estimators.

    Subclasses return their head from :meth:`_inner_head`; ``manifold="umap"`` wraps it
    in a :class:`~deepcluster_sk._heads.ManifoldHead`.
    """

    _parameter_constraints: dict = {  # noqa: RUF012
        **BaseDeepClusterer._parameter_constraints,
        "manifold": [StrOptions({"umap"}), None],
        "self_training": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
    }

    def _build_module(self, X: np.ndarray) -> torch.nn.Module:
        return build_autoencoder(X, **self._network_params())

    def _inner_head(self) -> ClusterHead:
        """The head fitted on the codes (or on their UMAP embedding)."""
        raise NotImplementedError

    @property
    def _fitted_inner_head(self) -> ClusterHead:
        head = self.head_
        return head.head_ if isinstance(head, ManifoldHead) else head

    @property
    def manifold_(self):
        """The map of new codes into the UMAP embedding (None when ``manifold=None``)."""
        head = self.head_
        return head.extension_ if isinstance(head, ManifoldHead) else None

    def _inner_head_from(self, state: dict) -> ClusterHead | None:
        """The fitted inner head from the separate attributes of release 0.1.0, or None."""
        return None

    def _upgrade_fitted_state(self) -> None:
        """Release 0.1.0 kept the head's parts as attributes (``gmm_`` or ``pca_`` and
        ``kmeans_``, and ``manifold_``): assemble them into ``head_``."""
        state = self.__dict__
        inner = None if "head_" in state else self._inner_head_from(state)
        if inner is None:
            return
        manifold = state.pop("manifold_", None)
        head = inner
        if manifold is not None:
            head = ManifoldHead(
                inner,
                extension_neighbors=manifold.n_neighbors,
                unit_codes=bool(manifold.normalize),
            )
            head.extension_, head.head_ = manifold, inner
            head.n_features_out_ = inner.n_features_out_
        state["head_"] = head

    def _umap_neighbours(self, n_samples: int) -> int:
        """UMAP's ``n_neighbors`` for the manifold of ``n_samples`` codes."""
        return umap_neighbours(n_samples, self.n_clusters_, _UMAP_NEIGHBOURS)

    def _build_head(self, n_samples: int) -> ClusterHead:
        head = self._inner_head()
        if self.manifold is None:
            return head
        # Image codes enter UMAP and the neighbour map at unit length: the direction of an
        # image's code, not its length, tells the classes apart. The dense network's codes
        # (tables, 8x8 digits) keep their length, which carries much of their information.
        return ManifoldHead(
            head,
            n_neighbors=self._umap_neighbours(min(n_samples, head.max_samples)),
            min_dist=_UMAP_MIN_DIST,
            extension_neighbors=1,
            unit_codes=self._images(),
            verbose=self.verbose > 1,
        )

    def _self_training_epochs(self, n_samples: int) -> int:
        if self.self_training == "auto":
            large = n_samples >= _SELF_TRAINING_MIN_CLUSTER * self.n_clusters_
            if not (self._images() and large):
                return 0
            return resolve_n_epochs("auto", n_samples, _SELF_TRAINING_EPOCHS)
        return int(self.self_training)

    def _joint_phase(
        self, X: torch.Tensor, codes: np.ndarray, labels: np.ndarray, rng: np.random.RandomState
    ) -> JointPhase | None:
        n_epochs = self._self_training_epochs(X.shape[0])
        if n_epochs <= 0:
            return None
        labels = self.head_.predict(codes)
        space = unit_rows(codes) if self.manifold is not None and self._images() else codes
        keep = agreeing_rows(space, labels, _NEAREST, _AGREEMENT)
        directions = np.zeros((self.n_clusters_, codes.shape[1]), dtype=np.float32)
        for k in range(self.n_clusters_):
            rows = unit_rows(codes[keep & (labels == k)])
            if len(rows):
                directions[k] = rows.mean(axis=0)
        weight = torch.nn.Parameter(torch.from_numpy(directions).to(self._device))
        transform = None
        if self._images():
            shape, moves = self.input_shape_, make_generator(draw_seed(rng), self._device)

            def transform(batch):
                return (random_affine(batch[0], shape, _SHIFT, _ROTATION, moves), *batch[1:])

        module = self.module_

        def loss(batch, epoch):
            xb, yb, wb = batch
            z = module.encode(xb)
            recon = self._reconstruction_loss(module.decode(z), xb, "mean").mean()
            with full_precision(z):
                logits = _LOGIT_SCALE * F.normalize(z) @ F.normalize(weight).T
                ce = F.cross_entropy(logits, yb, reduction="none")
                ce = (ce * wb).sum() / wb.sum().clamp_min(1.0)
            return recon + _CE_WEIGHT * ce, {"ce": ce.detach(), "recon": recon.detach()}

        data = (
            X,
            torch.as_tensor(labels, dtype=torch.int64, device=X.device),
            torch.as_tensor(keep, dtype=torch.float32, device=X.device),
        )
        return JointPhase(
            loss,
            data,
            params=[*module.autoencoder_parameters(), weight],
            config={"phase": "refine", "n_epochs": n_epochs},
            transform=transform,
        )
