"""Command line: ``deepcluster-sk demo`` and ``deepcluster-sk bench``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

__all__ = ["main"]


def _demo_estimators(seed: int, device: str) -> list:
    from . import AEGMM, ConvAEKMeans, DVAEClusterer

    common = {"random_state": seed, "device": device}
    return [
        ConvAEKMeans(
            10, channels=(16, 32), latent_dim=10, n_components=10, n_epochs=30,
            batch_size=64, **common,
        ),
        AEGMM(10, hidden_dims=(256, 128), n_epochs=60, batch_size=64, **common),
        DVAEClusterer(
            10, hidden_dims=(256, 256), pretrain_epochs=40, n_epochs=40, warmup_epochs=20,
            batch_size=128, **common,
        ),
    ]


def run_demo(seed: int = 0, device: str = "auto", stream=None) -> list[dict]:
    """Cluster scikit-learn's digits with every estimator and print ACC/NMI/ARI and time.

    Parameters
    ----------
    seed : int, default=0
        ``random_state`` of every estimator.
    device : str, default="auto"
        Training device.
    stream : file-like, optional
        Where the table goes (default stdout).

    Returns
    -------
    list of dict
        One row per estimator.
    """
    import numpy as np
    from sklearn.datasets import load_digits

    from ._benchmark import clustering_metrics

    out = stream if stream is not None else sys.stdout
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    rows = []
    out.write(f"digits: {X.shape[0]} images of 8x8, 10 classes\n")
    out.write(f"{'estimator':<16}{'ACC':>8}{'NMI':>8}{'ARI':>8}{'time (s)':>10}\n")
    for est in _demo_estimators(seed, device):
        t0 = time.perf_counter()
        labels = est.fit_predict(X)
        seconds = time.perf_counter() - t0
        m = clustering_metrics(y, labels)
        row = {"estimator": type(est).__name__, **m, "seconds": seconds}
        rows.append(row)
        out.write(
            f"{row['estimator']:<16}{m['acc']:>8.3f}{m['nmi']:>8.3f}{m['ari']:>8.3f}"
            f"{seconds:>10.1f}\n"
        )
        out.flush()
    return rows


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepcluster-sk", description="Deep clustering estimators for scikit-learn."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="cluster sklearn's digits with every estimator")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--device", default="auto")

    from ._benchmark import DATASETS, ESTIMATORS

    bench = sub.add_parser("bench", help="fit an estimator on a data set, write result JSON")
    bench.add_argument("estimator", choices=ESTIMATORS)
    bench.add_argument("dataset", choices=DATASETS)
    bench.add_argument("--params", default="{}", help="constructor parameters as JSON")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--n-samples", type=int, default=None)
    bench.add_argument("--device", default="auto")
    bench.add_argument("--data", default=None, help="folder holding mnist.npz / usps.npz")
    bench.add_argument("--eval-dataset", default=None, choices=DATASETS)
    bench.add_argument("--tag", default=None)
    bench.add_argument("--out", default="benchmarks/results")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``deepcluster-sk`` and ``python -m deepcluster_sk``."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            run_demo(args.seed, args.device)
        elif args.command == "bench":
            from ._benchmark import run_benchmark

            try:
                params = json.loads(args.params)
            except json.JSONDecodeError as exc:
                parser.error(f"--params is not valid JSON: {exc}")
            record = run_benchmark(
                args.estimator, args.dataset, params=params, seed=args.seed,
                n_samples=args.n_samples, device=args.device, data_path=args.data,
                eval_dataset=args.eval_dataset, out_dir=args.out, tag=args.tag,
            )
            print(json.dumps({"metrics": record["metrics"], "path": record["path"]}, indent=2))
    except (OSError, ValueError) as exc:
        print(f"deepcluster-sk: error: {exc}", file=sys.stderr)
        return 2
    return 0
