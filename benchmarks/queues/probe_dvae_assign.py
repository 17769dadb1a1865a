"""Probe: does the DVAE keep its initial partition better with another assignment rule?
USPS, one seed, pretraining cached (same pretrained network and init partition for all)."""

import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from deepcluster_sk import DVAEClusterer
from deepcluster_sk.metrics import cluster_accuracy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import load_benchmark_data

warnings.filterwarnings("ignore")

SEED = int(os.environ.get("SEED", 1))
DATA = os.environ.get("DATA", "usps")
CACHE = f"/tmp/probe/pre_{DATA}_{SEED}.pt"


class Stop(Exception):
    pass


def make(variant):
    attrs = dict(variant.get("attrs", {}))
    mlp = variant.get("mlp")
    pretrain_only = variant.get("pretrain_only", False)

    class Probe(DVAEClusterer):
        def _build_module(self, X):
            m = super()._build_module(X)
            if mlp:
                j, c = m.classifier.in_features, m.classifier.out_features
                m.classifier = nn.Sequential(nn.Linear(j, mlp), nn.ReLU(), nn.Linear(mlp, c))
            return m

        def _pretrain(self, X, rng, config, *, reduction):
            if os.path.exists(CACHE) and not pretrain_only:
                state = torch.load(CACHE)
                self.module_.load_state_dict(state, strict=False)
                return []
            super()._pretrain(X, rng, config, reduction=reduction)
            keep = {
                k: v
                for k, v in self.module_.state_dict().items()
                if not k.startswith(("classifier.", "prior."))
            }
            torch.save(keep, CACHE)
            raise Stop

    for k, v in attrs.items():
        setattr(Probe, k, v)
    return Probe


X, y, shape = load_benchmark_data(DATA, os.environ.get("DATA_DIR", "../shared/data"))
variants = json.loads(sys.argv[1])
for name, variant in variants.items():
    t = time.time()
    est = make(variant)(10, input_shape=shape, random_state=SEED, **variant.get("params", {}))
    try:
        est.fit(X)
    except Stop:
        print("pretrained", round(time.time() - t, 1), flush=True)
        continue
    cl = [r for r in est.history_ if r["phase"] == "classifier"]
    tr = [r for r in est.history_ if r["phase"] == "train"]
    print(
        name,
        "ACC",
        round(cluster_accuracy(y, est.labels_), 4),
        "init",
        round(cluster_accuracy(y, est.init_labels_), 4),
        "agree",
        round(cl[-1]["agreement"], 3) if cl else None,
        "cl_epochs",
        len(cl),
        "train_epochs",
        len(tr),
        "keeps_init",
        round(float(np.mean(est.labels_ == est.init_labels_)), 3),
        "s",
        round(time.time() - t, 1),
        {k: round(v, 1) for k, v in est.phase_seconds_.items()},
        flush=True,
    )
