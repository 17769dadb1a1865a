"""Fit a named estimator on a named data set and write one JSON result file.

A run of the defaults on a whole data set goes to the registry, ``benchmarks/results/``,
replacing the run of the same estimator, data set and seed; a run with other parameters,
private settings, a tag, a subset or a second data set is an experiment and goes to
``benchmarks/scratch/`` (not kept in git).

Examples::

    python benchmarks/run.py AEGMM mnist --seed 0 --data DIR
    python benchmarks/run.py ConvAEKMeans mnist-test --params '{"n_epochs": 20}' --seed 1
    python benchmarks/run.py AEGMM mnist-train --eval-dataset mnist-test
    python benchmarks/run.py AEGMM coil20 --auto-k --seed 0

``--auto-k`` runs the defaults with ``n_clusters="auto"``; those runs have their own registry,
``benchmarks/results/n_clusters_auto/``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from deepcluster_sk import all_estimators

sys.path.insert(0, str(Path(__file__).parent))  # benchmarks/ is not a package
from harness import BASELINES, DATASETS, run_benchmark


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [name for name, _ in all_estimators()] + list(BASELINES)
    parser.add_argument("estimator", choices=names)
    parser.add_argument("dataset", choices=DATASETS)
    parser.add_argument("--params", default="{}", help="constructor parameters as JSON")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-samples", type=int, default=None, help="random subset size")
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--data", default=None, help="folder of the data files (default: $DEEPCLUSTER_SK_DATA)"
    )
    parser.add_argument("--eval-dataset", default=None, choices=DATASETS)
    parser.add_argument(
        "--auto-k",
        action="store_true",
        help='fit with n_clusters="auto" (registry: benchmarks/results/n_clusters_auto/)',
    )
    parser.add_argument("--tag", default=None)
    parser.add_argument(
        "--monitor-every",
        type=int,
        default=0,
        help="log ACC/NMI of predict every N epochs of the joint phase (0: off)",
    )
    parser.add_argument(
        "--settings",
        default="{}",
        help="private class settings to override, as JSON (e.g. '{\"_warmup_steps\": 50}')",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default: the registry, benchmarks/results/, for a run of the "
        "defaults on a whole data set; benchmarks/scratch/ for anything else)",
    )
    args = parser.parse_args(argv)
    params, settings = json.loads(args.params), json.loads(args.settings)
    experiment = params or settings or args.tag or args.n_samples or args.eval_dataset
    here = Path(__file__).parent
    registry = here / "results" / ("n_clusters_auto" if args.auto_k else "")
    out = args.out or str(here / "scratch" if experiment else registry)
    record = run_benchmark(
        args.estimator,
        args.dataset,
        params=params,
        seed=args.seed,
        n_samples=args.n_samples,
        device=args.device,
        data_path=args.data,
        eval_dataset=args.eval_dataset,
        out_dir=out,
        tag=args.tag,
        monitor_every=args.monitor_every,
        settings=settings,
        n_clusters="auto" if args.auto_k else None,
    )
    if "n_clusters_chosen" in record:
        print(f"n_clusters_: {record['n_clusters_chosen']} (classes: {record['n_classes']})")
    keys = ("estimator", "dataset", "n_samples", "seed", "device", "commit", "tree_clean")
    summary = {k: record[k] for k in keys}
    summary.update(record["metrics"])
    summary["fit_seconds"] = record["fit_seconds"]
    summary["seconds_per_epoch"] = record["seconds_per_epoch"]
    if "test_metrics" in record:
        summary["test_metrics"] = record["test_metrics"]
    print(json.dumps(summary, indent=2))
    print(f"wrote {record['path']}")


if __name__ == "__main__":
    main()
