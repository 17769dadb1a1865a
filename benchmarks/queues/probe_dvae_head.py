"""Probe: how much of the DVAE's seed spread on MNIST-70k comes from the UMAP + GMM start,
and can a label-free choice among restarts of that cheap stage lift the worst seed?

Per seed: the DVAE's default pretraining (cached under /work/logs/probe), then R restarts of
the default start (UMAP, n_neighbors=30, then the best of 10 full GMMs) on the same codes.
Labels only score; the selection rules use none."""

import dataclasses
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

from deepcluster_sk import DVAEClusterer
from deepcluster_sk._manifold import fit_umap_embedding
from deepcluster_sk.metrics import cluster_accuracy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import load_benchmark_data

warnings.filterwarnings("ignore")
DATA = os.environ.get("DATA", "mnist")
OUT = Path(os.environ.get("PROBE_DIR", "/work/logs/probe"))
R = int(os.environ.get("RESTARTS", 4))
NN = [int(v) for v in os.environ.get("NEIGHBORS", "30").split(",")]
#: Pretraining epochs (the default's 50 unless set): does a longer pretraining change the start?
EPOCHS = int(os.environ.get("PRETRAIN_EPOCHS", 50))
#: "step,gamma": a step decay of the pretraining's learning rate (none unless set).
DECAY = os.environ.get("PRETRAIN_DECAY")


LOSSES: list[float] = []


class Stop(Exception):
    pass


class Pretrain(DVAEClusterer):
    def _pretrain(self, X, rng, config, *, reduction):
        if DECAY:
            step, gamma = DECAY.split(",")
            config = dataclasses.replace(
                config, lr_decay_step=int(step), lr_decay_gamma=float(gamma)
            )
        return super()._pretrain(X, rng, config, reduction=reduction)

    def _initial_partition(self, Z, rng):
        np.save(self._cache, Z.astype(np.float32))
        # A failed fit (Stop) leaves no attribute behind: keep the losses outside.
        LOSSES[:] = [r["loss"] for r in self.history_ if r["phase"] == "pretrain"]
        raise Stop


def code_loglik(Z, labels, k):
    """Mean log-likelihood of Z under diagonal Gaussians fitted to the partition (fixed space)."""
    ll = np.zeros(len(Z))
    for c in range(k):
        m = labels == c
        if m.sum() < 2:
            return -np.inf
        mu, var = Z[m].mean(0), Z[m].var(0) + 1e-6
        ll[m] = -0.5 * (((Z[m] - mu) ** 2 / var) + np.log(2 * np.pi * var)).sum(1) + np.log(
            m.mean()
        )
    return float(ll.mean())


X, y, shape = load_benchmark_data(DATA, os.environ.get("DATA_DIR", "../shared/data"))
for seed in [int(s) for s in sys.argv[1:]]:
    name = f"Z_{DATA}_{seed}" + (f"_e{EPOCHS}" if EPOCHS != 50 else "")
    cache = OUT / (name + (f"_decay{DECAY.replace(',', '_')}" if DECAY else "") + ".npy")
    if not cache.exists():
        t = time.time()
        est = Pretrain(10, input_shape=shape, random_state=seed, pretrain_epochs=EPOCHS)
        est._cache = cache
        try:
            est.fit(X)
        except Stop:
            pass
        pre = [round(v, 3) for v in LOSSES]
        print(
            f"seed {seed} pretrained in {time.time() - t:.0f} s, last losses {pre[-3:]}", flush=True
        )
    Z = np.load(cache).astype(np.float64)
    runs = []
    for nn in NN:
        for r in range(R):
            t = time.time()
            rng = np.random.RandomState(1000 * seed + 10 * nn + r)
            E = fit_umap_embedding(Z, 10, nn, 0.0, rng)
            tu = time.time() - t
            best = max(
                (
                    GaussianMixture(
                        10, covariance_type="full", random_state=int(rng.randint(2**31))
                    ).fit(E)
                    for _ in range(10)
                ),
                key=lambda g: g.score(E),
            )
            lab = best.predict(E)
            runs.append(
                dict(
                    nn=nn,
                    r=r,
                    lab=lab,
                    acc=cluster_accuracy(y, lab),
                    emb_ll=best.score(E),
                    code_ll=code_loglik(Z, lab, 10),
                )
            )
            print(
                f"seed {seed} nn {nn} r {r} ACC {runs[-1]['acc']:.4f} "
                f"emb_ll {runs[-1]['emb_ll']:.3f} "
                f"code_ll {runs[-1]['code_ll']:.3f} umap {tu:.0f}s total {time.time() - t:.0f}s",
                flush=True,
            )
    labs = [r["lab"] for r in runs]
    ari = np.array([[adjusted_rand_score(a, b) for b in labs] for a in labs])
    cons = (ari.sum(1) - 1) / max(len(labs) - 1, 1)

    def pick(key, runs=runs):
        return runs[int(np.argmax(key))]["acc"]

    print(
        f"seed {seed} SUMMARY accs {[round(r['acc'], 4) for r in runs]} first {runs[0]['acc']:.4f} "
        f"by_code_ll {pick([r['code_ll'] for r in runs]):.4f} "
        f"by_emb_ll {pick([r['emb_ll'] for r in runs]):.4f} "
        f"by_consensus {pick(cons):.4f} consensus {np.round(cons, 3).tolist()}",
        flush=True,
    )
