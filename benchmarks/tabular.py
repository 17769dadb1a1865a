"""Tabular data with default parameters: AEGMM and DVAEClusterer against k-means and a GMM.

Each method runs inside ``make_pipeline(StandardScaler(), ...)`` on scikit-learn's wine and
breast-cancer tables for several seeds; the deep estimators get only ``n_clusters`` and the
seed, k-means ``n_init=10`` and the mixture ``n_init=5``. One JSON for the whole run (per
method and data set: ACC, NMI and ARI for every seed, their means and the fit times) goes to
``benchmarks/results/tabular_defaults_<timestamp>.json``.

    python benchmarks/tabular.py [--seeds 0 1 2] [--params JSON] [--tag NAME]

``--params`` sets parameters of both deep estimators (for example
``'{"hidden_dims": [500, 500, 2000]}'``, the papers' trunk that ``hidden_dims="auto"``
replaces on tables, or ``'{"self_training": 10}'``); it needs ``--tag``, and the file is
then ``tabular_<tag>_<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import clustering_metrics, machine_info, write_result

from deepcluster_sk import AEGMM, DVAEClusterer

LOADERS = {"wine": load_wine, "breast_cancer": load_breast_cancer}


def methods(n_clusters: int, seed: int, params: dict) -> dict:
    """The four pipelines, each standardising the columns first."""
    return {
        "KMeans": KMeans(n_clusters, n_init=10, random_state=seed),
        "GaussianMixture": GaussianMixture(n_clusters, n_init=5, random_state=seed),
        "AEGMM": AEGMM(n_clusters, random_state=seed, **params),
        "DVAEClusterer": DVAEClusterer(n_clusters, random_state=seed, **params),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default=str(Path(__file__).parent / "scratch"))
    parser.add_argument("--params", type=json.loads, default={}, help="JSON, both deep estimators")
    parser.add_argument("--tag", default="defaults", help="file name: tabular_<tag>_<stamp>")
    args = parser.parse_args()
    if args.params and args.tag == "defaults":
        parser.error("--params change the defaults: name the run with --tag")
    results: dict = {}
    for data, loader in LOADERS.items():
        X, y = loader(return_X_y=True)
        n_clusters = len(np.unique(y))
        for seed in args.seeds:
            for name, est in methods(n_clusters, seed, args.params).items():
                t0 = time.perf_counter()
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    labels = make_pipeline(StandardScaler(), est).fit_predict(X)
                seconds = time.perf_counter() - t0
                entry = results.setdefault(data, {}).setdefault(name, {"runs": []})
                metrics = clustering_metrics(y, labels)
                entry["runs"].append(
                    {
                        "seed": seed,
                        "acc": metrics["acc"],
                        "nmi": metrics["nmi"],
                        "ari": metrics["ari"],
                        "fit_seconds": round(seconds, 3),
                        "warnings": sorted({f"{w.category.__name__}: {w.message}" for w in caught}),
                    }
                )
                print(
                    f"{data:14s} {name:16s} seed {seed}: ACC {metrics['acc']:.3f} "
                    f"NMI {metrics['nmi']:.3f} ({seconds:.1f} s)",
                    flush=True,
                )
        for entry in results[data].values():
            for key in ("acc", "nmi", "ari"):
                entry[f"mean_{key}"] = statistics.mean(r[key] for r in entry["runs"])
            entry["min_acc"] = min(r["acc"] for r in entry["runs"])
    out = {
        "benchmark": f"tabular_{args.tag}",
        "seeds": args.seeds,
        "params": {
            "AEGMM": AEGMM(**args.params).get_params(),
            "DVAEClusterer": DVAEClusterer(**args.params).get_params(),
        },
        "results": results,
        **machine_info(torch.device("cpu")),
    }
    print("wrote", write_result(out, args.out, f"tabular_{args.tag}"))


if __name__ == "__main__":
    main()
