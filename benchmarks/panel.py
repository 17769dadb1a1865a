"""The development panel: every estimator's defaults beside k-means and a Gaussian mixture.

Runs (or, with ``--reuse``, reads from the registry) each method on each data set of the
panel over five seeds and prints one table: ACC mean ± sd, the worst seed, the median fit
time, and each estimator's margin over the better baseline, max(KMeans, GMM), per data set;
the last line is each estimator's worst margin over the panel, the figure a change of the
defaults must raise. Runs go to the registry (``benchmarks/results/``) as ``run.py`` writes
them; tables are standardised first, as ``make_pipeline(StandardScaler(), est)`` does.

Usage::

    DEEPCLUSTER_SK_DATA=DIR python benchmarks/panel.py --reuse
    python benchmarks/panel.py --datasets wine breast_cancer --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # benchmarks/ is not a package
import tables
from harness import run_benchmark

PANEL = tables.PANEL
METHODS = tables.ESTIMATORS + tables.BASELINES


def _registry_runs() -> dict[tuple[str, str, int], dict]:
    """The registry's runs of the current defaults, by (method, data set, seed)."""
    runs = {}
    for record in tables.load_registry():
        method = record.get("estimator")
        if method not in METHODS:
            continue
        if not tables.differences(record, tables.current_defaults(method)):
            runs[(method, record["dataset"], int(record["seed"]))] = record
    return runs


def collect(datasets, methods, seeds, reuse: bool, data_path: str | None) -> list[dict]:
    records = []
    known = _registry_runs() if reuse else {}
    for dataset in datasets:
        for seed in seeds:
            for method in methods:
                record = known.get((method, dataset, seed))
                if record is None:
                    record = run_benchmark(
                        method, dataset, seed=seed, data_path=data_path, out_dir=tables.RESULTS
                    )
                    print(
                        f"{method} {dataset} seed {seed}: ACC {record['metrics']['acc']:.3f} "
                        f"in {record['fit_seconds']:.0f} s",
                        file=sys.stderr,
                    )
                records.append(record)
    return records


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(PANEL), choices=PANEL)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--reuse", action="store_true", help="read current registry runs")
    parser.add_argument(
        "--report", action="store_true", help="only print the registry's runs; run nothing"
    )
    parser.add_argument("--data", default=None, help="folder of the data files")
    args = parser.parse_args(argv)
    if args.report:
        known = _registry_runs()
        records = [r for (m, d, _), r in known.items() if m in args.methods and d in args.datasets]
    else:
        records = collect(args.datasets, args.methods, args.seeds, args.reuse, args.data)
    print(tables.panel_table(tables.summarize(records), args.datasets, markdown=True))


if __name__ == "__main__":
    main()
