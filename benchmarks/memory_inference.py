"""Peak memory of batched inference: ``transform`` and ``predict`` against the number of rows.

Fits ``AEGMM(10)`` with the default dense network (d-500-500-2000-10) for one epoch on 2,000
rows of 784 uniform floats in [0, 1], saves it, and then, for each row count and each method,
starts a fresh Python process that loads the model, creates ``X`` (float32, so validation
makes no copy), and measures how far the process's peak resident memory rises above its
resident memory just before the call. The peak is read from ``/proc/self/status``
(``VmHWM``) after resetting it with ``/proc/self/clear_refs`` where Linux allows that, and
from ``resource.getrusage(...).ru_maxrss`` otherwise; the subprocess keeps earlier calls and
the fit out of the figure.

Batched inference should need about the output (float64 codes or labels, twice while they
are assembled) plus one batch of activations, whatever the number of rows.

Usage::

    python benchmarks/memory_inference.py [--rows 20000 50000 100000 200000] [--out DIR]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))  # benchmarks/ is not a package
from harness import machine_info, write_result

N_FEATURES = 784
N_FIT = 2000


def _status_mb(field: str) -> float | None:
    """A ``Vm*`` field of ``/proc/self/status`` in MiB (None off Linux)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the peak RSS (``VmHWM``) of this process; False where Linux does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _ru_maxrss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024.0


def child(model_path: str, n_rows: int, method: str) -> dict:
    """Measure one call of ``method`` on ``n_rows`` rows in this (fresh) process."""
    with open(model_path, "rb") as fh:
        est = pickle.load(fh)
    X = np.random.default_rng(1).random((n_rows, N_FEATURES), dtype=np.float32)
    # A first call on a few rows: the imports and one-time set-up it triggers (code pages,
    # thread pools, kernel caches) are not memory that the rows need.
    getattr(est, method)(X[:16])
    gc.collect()
    rss_before = _status_mb("VmRSS")
    ru_before = _ru_maxrss_mb()
    reset = _reset_peak()
    t0 = time.perf_counter()
    out = getattr(est, method)(X)
    seconds = time.perf_counter() - t0
    hwm = _status_mb("VmHWM")
    ru_after = _ru_maxrss_mb()
    peak = hwm if reset and hwm is not None else ru_after
    return {
        "rows": n_rows,
        "method": method,
        "input_mb": X.nbytes / 2**20,
        "output_mb": out.nbytes / 2**20,
        "output_dtype": str(out.dtype),
        "rss_before_mb": rss_before,
        "peak_mb": peak,
        "peak_increase_mb": peak - rss_before,
        "peak_source": "VmHWM after clear_refs" if reset else "ru_maxrss",
        "ru_maxrss_before_mb": ru_before,
        "ru_maxrss_after_mb": ru_after,
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20000, 50000, 100000, 200000])
    parser.add_argument("--methods", nargs="+", default=["transform", "predict"])
    parser.add_argument("--out", default=str(Path(__file__).parent / "scratch"))
    parser.add_argument("--tag", default="", help="suffix of the result file name")
    parser.add_argument(
        "--child", nargs=3, metavar=("MODEL", "ROWS", "METHOD"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        model, rows, method = args.child
        print(json.dumps(child(model, int(rows), method)))
        return

    from deepcluster_sk import AEGMM

    X_fit = np.random.default_rng(0).random((N_FIT, N_FEATURES), dtype=np.float32)
    est = AEGMM(10, n_epochs=1, random_state=0).fit(X_fit)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model_path = os.path.join(tmp, "aegmm.pkl")
        with open(model_path, "wb") as fh:
            pickle.dump(est, fh)
        for n in args.rows:
            for method in args.methods:
                cmd = [sys.executable, __file__, "--child", model_path, str(n), method]
                done = subprocess.run(cmd, capture_output=True, text=True, check=True)
                row = json.loads(done.stdout.strip().splitlines()[-1])
                print(
                    f"{n:>7} rows  {method:<9}  peak +{row['peak_increase_mb']:7.1f} MiB  "
                    f"(output {row['output_mb']:.1f} MiB, {row['seconds']:.1f} s)",
                    flush=True,
                )
                rows.append(row)
    result = {
        "benchmark": "memory_inference",
        "estimator": "AEGMM",
        "params": est.get_params(),
        "fit_rows": N_FIT,
        "n_features": N_FEATURES,
        "inference_batch_size": est.inference_batch_size,
        "results": rows,
        "machine": machine_info(torch.device("cpu")),
    }
    stem = "memory_inference" + (f"_{args.tag}" if args.tag else "")
    print(write_result(result, args.out, stem))


if __name__ == "__main__":
    main()
