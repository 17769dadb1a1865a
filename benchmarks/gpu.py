"""The GPU run: the three papers' estimators on MNIST-70k with their defaults, then the CUDA tests.

One prepared script for a machine with a CUDA GPU. It fits ``AEGMM``, ``ConvAEKMeans`` and
``DVAEClusterer`` with their default parameters (``device="cuda"``) on all 70,000 MNIST
images, one after the other, writing each run's JSON (the harness's record: commit, CPU,
GPU name, versions, seed, phase times, peak memory) to ``--out``; then it runs the test
suite's CUDA tests and writes ``gpu_run.json`` beside them: the device, each run's ACC, NMI
and times, and the tests' outcome.

``--dry-run`` goes through the same steps on the CPU at toy size (a few hundred images,
one epoch; the tests are only collected), so that the script itself is exercised where
no GPU is: the test suite runs it that way.

Usage::

    python benchmarks/gpu.py --data DIR [--seed 0] [--out benchmarks/results/gpu]
    python benchmarks/gpu.py --data DIR --dry-run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))  # benchmarks/ is not a package
from harness import machine_info, run_benchmark, write_result

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "gpu"
ESTIMATORS = ("AEGMM", "ConvAEKMeans", "DVAEClusterer")
#: The tests that need a GPU: each skips without one, and names CUDA or a GPU.
CUDA_TESTS = "cuda or gpu"
#: ``--dry-run``: rows, and the parameters that make each fit a toy one.
DRY_ROWS = 300
DRY_PARAMS = {
    "AEGMM": {"n_epochs": 1, "gmm_n_init": 1, "self_training": 0},
    "ConvAEKMeans": {"n_epochs": 1, "self_training": 0},
    "DVAEClusterer": {"n_epochs": 1, "pretrain_epochs": 1, "warmup_epochs": 1},
}


def cuda_tests(dry_run: bool) -> dict:
    """Run (or, in a dry run, collect) the suite's CUDA tests; their outcome."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", CUDA_TESTS]
    if dry_run:
        command.append("--collect-only")
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return {
        "command": " ".join(command[1:]),
        "returncode": done.returncode,
        "summary": lines[-1] if lines else done.stderr.strip()[-500:],
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="folder of mnist.npz")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default: benchmarks/results/gpu/; a new temporary folder for "
        "--dry-run, whose toy runs never belong in the results)",
    )
    parser.add_argument("--estimators", default=",".join(ESTIMATORS))
    parser.add_argument(
        "--dry-run", action="store_true", help="the same steps on the CPU, at toy size"
    )
    parser.add_argument("--skip-tests", action="store_true")
    args = parser.parse_args(argv)
    if not args.dry_run and not torch.cuda.is_available():
        parser.error("no CUDA GPU is visible to torch: run on a GPU machine, or pass --dry-run")
    device = torch.device("cpu" if args.dry_run else "cuda")
    if args.out is None:
        args.out = tempfile.mkdtemp() if args.dry_run else str(RESULTS)
    runs = {}
    for name in args.estimators.split(","):
        record = run_benchmark(
            name,
            "mnist",
            params=DRY_PARAMS[name] if args.dry_run else None,
            seed=args.seed,
            n_samples=DRY_ROWS if args.dry_run else None,
            device=device.type,
            data_path=args.data,
            out_dir=args.out,
            silhouette_samples=0 if args.dry_run else 10000,
        )
        runs[name] = {
            "metrics": record["metrics"],
            "fit_seconds": record["fit_seconds"],
            "phase_seconds": record.get("phase_seconds"),
            "peak_gpu_mb": record.get("peak_gpu_mb"),
            "device": record.get("device"),
        }
        print(name, json.dumps(runs[name]), flush=True)
    summary = {
        "benchmark": "gpu_run",
        "dry_run": args.dry_run,
        "dataset": "mnist",
        "n_samples": DRY_ROWS if args.dry_run else 70000,
        "seed": args.seed,
        "runs": runs,
        "cuda_tests": None if args.skip_tests else cuda_tests(args.dry_run),
        **machine_info(device),
    }
    path = write_result(summary, args.out, "gpu_run")
    print(json.dumps({k: summary[k] for k in ("runs", "cuda_tests")}, indent=1))
    print(f"wrote {path}")
    return summary


if __name__ == "__main__":
    main()
