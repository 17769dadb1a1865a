"""Time to accuracy: fit one estimator at several training budgets and record ACC and time.

Each point of the curve is one fit in a fresh Python process (the time a user's first fit
of a script takes, compilation included), run by ``benchmarks/run.py``:

- the point ``defaults`` is a run of the defaults and goes to the registry,
  ``benchmarks/results/<estimator>_<dataset>_seed<seed>.json``;
- every other point sets the public parameters that :data:`POINTS` names and goes to
  ``benchmarks/curves/<estimator>_<dataset>_<point>_seed<seed>.json``, outside the registry,
  which holds only runs of the defaults.

``python benchmarks/tables.py`` renders the curve (``docs/_tables/time_to_accuracy.rst``)
and the speed guide draws it. Run the points one after the other on a quiet machine: two
fits at once slow each other down.

Examples::

    python benchmarks/time_to_accuracy.py AEGMM mnist --seed 0 --data DIR
    python benchmarks/time_to_accuracy.py AEGMM mnist --points e10-st4 e20-st4
    python benchmarks/time_to_accuracy.py AEGMM mnist --list
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGISTRY, CURVES = HERE / "results", HERE / "curves"

#: The points of each estimator's curve: a name and the public parameters that differ from
#: the defaults. They shorten pretraining (``n_epochs``; ``pretrain_epochs`` of the DVAE),
#: self-training (``self_training``) and the head's restarts (``gmm_n_init``), the three
#: costs of a fit.
POINTS: dict[str, dict[str, dict]] = {
    "AEGMM": {
        "defaults": {},
        "e50-st10": {"n_epochs": 50, "self_training": 10},
        "e20": {"n_epochs": 20},
        "e20-st4": {"n_epochs": 20, "self_training": 4},
        "e10": {"n_epochs": 10},
        "e10-st4": {"n_epochs": 10, "self_training": 4},
        "e10-st4-gmm5": {"n_epochs": 10, "self_training": 4, "gmm_n_init": 5},
        "e5-st4": {"n_epochs": 5, "self_training": 4},
        "e5-st4-gmm5": {"n_epochs": 5, "self_training": 4, "gmm_n_init": 5},
    },
    "ConvAEKMeans": {
        "defaults": {},
        "e50": {"n_epochs": 50},
        "e20": {"n_epochs": 20},
        "e10-st2": {"n_epochs": 10, "self_training": 2},
        "e20-st4": {"n_epochs": 20, "self_training": 4},
        "e10-st4": {"n_epochs": 10, "self_training": 4},
        "e5-st4": {"n_epochs": 5, "self_training": 4},
    },
    "DVAEClusterer": {
        "defaults": {},
        "p20": {"pretrain_epochs": 20},
        "p10": {"pretrain_epochs": 10},
    },
}


def command(
    estimator: str,
    dataset: str,
    point: str,
    seed: int,
    data: str | None,
    results: Path = REGISTRY,
    curves: Path = CURVES,
) -> list[str]:
    """The ``benchmarks/run.py`` command line of one point: the defaults write to
    ``results``, the other points to ``curves``."""
    params = POINTS[estimator][point]
    cmd = [sys.executable, str(HERE / "run.py"), estimator, dataset, "--seed", str(seed)]
    if data:
        cmd += ["--data", data]
    if params:
        return [*cmd, "--params", json.dumps(params), "--tag", point, "--out", str(curves)]
    return [*cmd, "--out", str(results)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("estimator", choices=sorted(POINTS))
    parser.add_argument("dataset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=None, help="folder of the data files")
    parser.add_argument("--points", nargs="*", default=None, help="names of points (default: all)")
    parser.add_argument(
        "--results",
        type=Path,
        default=REGISTRY,
        help="the registry folder (default: benchmarks/results/ beside this script)",
    )
    parser.add_argument(
        "--curves",
        type=Path,
        default=CURVES,
        help="the folder of the other points (default: benchmarks/curves/ beside this script)",
    )
    parser.add_argument("--list", action="store_true", help="print the points and exit")
    args = parser.parse_args(argv)
    points = POINTS[args.estimator]
    if args.list:
        for name, params in points.items():
            print(f"{name}: {params or 'the defaults'}")
        return 0
    unknown = sorted(set(args.points or ()) - set(points))
    if unknown:
        parser.error(f"unknown points {unknown}; --list shows them")
    status = 0
    for name in args.points or points:
        cmd = command(
            args.estimator, args.dataset, name, args.seed, args.data, args.results, args.curves
        )
        print(f"== {name}: {' '.join(cmd)}", flush=True)
        status |= subprocess.run(cmd, check=False).returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main())
