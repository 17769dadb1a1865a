"""Probe (issue 15): variants of AEGMM and the DVAE on wine and breast cancer, 10 seeds each.

Each variant runs in ``make_pipeline(StandardScaler(), estimator)`` with only ``n_clusters``,
the seed and the variant's parameters set; prints mean, worst and per-seed ACC.

    python benchmarks/queues/probe_tabular.py VARIANTS_JSON [N_SEEDS [DATA,...]]

``VARIANTS_JSON`` maps a name to ``[estimator, params]`` with estimator "AEGMM" or "DVAE".
"""

import json
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from deepcluster_sk import AEGMM, DVAEClusterer
from deepcluster_sk.metrics import cluster_accuracy

warnings.filterwarnings("ignore")
ESTIMATORS = {"AEGMM": AEGMM, "DVAE": DVAEClusterer}
LOADERS = {"wine": load_wine, "breast_cancer": load_breast_cancer}


def main():
    variants = json.loads(sys.argv[1])
    seeds = range(int(sys.argv[2]) if len(sys.argv) > 2 else 10)
    data_sets = sys.argv[3].split(",") if len(sys.argv) > 3 else list(LOADERS)
    for data in data_sets:
        X, y = LOADERS[data](return_X_y=True)
        k = len(np.unique(y))
        for name, (cls, params) in variants.items():
            t = time.time()
            accs = []
            for s in seeds:
                est = ESTIMATORS[cls](k, random_state=s, **params)
                labels = make_pipeline(StandardScaler(), est).fit(X)[-1].labels_
                accs.append(cluster_accuracy(y, labels))
            print(
                f"{data:14s} {name:32s} mean {np.mean(accs):.4f} min {np.min(accs):.4f} "
                f"{[round(a, 3) for a in accs]} {time.time() - t:.0f}s",
                flush=True,
            )


if __name__ == "__main__":
    main()
