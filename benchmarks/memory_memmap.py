"""Peak memory of ``fit`` and ``transform`` on a float32 ``numpy.memmap`` larger than 2 GB.

Writes a memmap of ``--rows`` x ``--features`` values (``--dtype float32``: uniform in
[0, 1]; ``uint8``: uniform integers in [0, 255], 8-bit intensities the estimators divide
by 255 batch by batch), in blocks, so the writer never holds it, then, each in a fresh
Python process:

- ``memmap``: opens it read-only with ``numpy.load(..., mmap_mode="r")``, fits
  ``AEGMM(10, hidden_dims=(64,), manifold=None, gmm_n_init=1, n_epochs=--epochs)``, calls
  ``transform`` on all rows (``--head default``: the default head instead, UMAP on up to
  100,000 codes and a 30-restart mixture, ``AEGMM(10, hidden_dims=(64,),
  n_epochs=--epochs)``);
- ``in-memory``: reads the whole file into an ordinary array first, then does the same;
- ``memmap-again``: the first mode once more, now that the file is in the page cache (the
  first run may have read some of it from disk).

It records the process's peak resident memory (``VmHWM``) and its split into anonymous
memory (``RssAnon``: copies the process made) and file-backed pages (``RssFile``: the
memmap's pages, which the kernel may drop at any time), the rise of the peak over the
resident memory before the fit, the peak minus the file's size (issue 17's measure:
everything the process holds beyond the data's own pages), and the seconds per epoch. A
small network keeps the epoch short: the memory figure is about the data path, not the
network.

The rows are uniform noise, or with ``--blobs`` drawn around 10 random centres (noise 0.05):
the default head labels the rows outside its subsample through a k-d tree of the codes,
which is slow on codes without structure.

Usage::

    python benchmarks/memory_memmap.py [--rows 1100000] [--features 512] [--epochs 1]
        [--dtype float32|uint8] [--head none|default] [--blobs]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))  # benchmarks/ is not a package
from harness import machine_info, write_result


def _status() -> dict[str, float]:
    """VmHWM, VmRSS, RssAnon and RssFile of this process in MiB."""
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) / 1024
    return out


#: The estimator's parameters beside ``n_epochs``, for each ``--head``.
HEADS = {
    "none": {"hidden_dims": (64,), "manifold": None, "gmm_n_init": 1},
    "default": {"hidden_dims": (64,)},
}


def _child(path: str, mode: str, epochs: int, head: str) -> None:
    from deepcluster_sk import AEGMM

    X = np.load(path, mmap_mode="r")
    file_mib = os.path.getsize(path) / 2**20
    if mode == "in-memory":
        X = np.array(X)
    before = _status()
    est = AEGMM(10, n_epochs=epochs, random_state=0, **HEADS[head])
    t0 = time.perf_counter()
    est.fit(X)
    fit_s = time.perf_counter() - t0
    after_fit = _status()
    t0 = time.perf_counter()
    Z = est.transform(X)
    transform_s = time.perf_counter() - t0
    after = _status()
    print(
        json.dumps(
            {
                "mode": mode,
                "before": before,
                "after_fit": after_fit,
                "after_transform": after,
                "peak_rise_mib": after["VmHWM"] - before["VmRSS"],
                "peak_minus_file_mib": after["VmHWM"] - file_mib,
                "fit_seconds": fit_s,
                "seconds_per_epoch": sum(r["seconds"] for r in est.history_) / epochs,
                "transform_seconds": transform_s,
                "codes_shape": list(Z.shape),
                "input_type": type(X).__name__,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_100_000)
    parser.add_argument("--features", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--dtype", choices=("float32", "uint8"), default="float32")
    parser.add_argument("--head", choices=sorted(HEADS), default="none")
    parser.add_argument("--blobs", action="store_true", help="rows around 10 random centres")
    parser.add_argument("--child", nargs=2, metavar=("PATH", "MODE"))
    parser.add_argument("--out", default=str(Path(__file__).parent / "scratch"))
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.epochs, args.head)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data.npy")
        dtype = np.dtype(args.dtype)
        X = np.lib.format.open_memmap(path, "w+", dtype, (args.rows, args.features))
        rng = np.random.default_rng(0)
        centres = rng.random((10, args.features), dtype=np.float32)
        for start in range(0, args.rows, 50_000):
            shape = (min(start + 50_000, args.rows) - start, args.features)
            if args.blobs:
                block = centres[rng.integers(0, 10, shape[0])]
                block += 0.05 * rng.standard_normal(shape, dtype=np.float32)
                if dtype == np.uint8:
                    block = np.clip(block * 255, 0, 255).astype(np.uint8)
            elif dtype == np.uint8:
                block = rng.integers(0, 256, shape, dtype=np.uint8)
            else:
                block = rng.random(shape, dtype=np.float32)
            X[start : start + shape[0]] = block
        X.flush()
        del X
        file_mib = os.path.getsize(path) / 2**20
        runs = []
        for mode in ("memmap", "in-memory", "memmap-again"):
            child = "memmap" if mode == "memmap-again" else mode
            out = subprocess.run(
                [
                    *(sys.executable, __file__, "--child", path, child),
                    *("--epochs", str(args.epochs), "--head", args.head),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            runs.append({**json.loads(out.strip().splitlines()[-1]), "mode": mode})
            print(json.dumps(runs[-1]), flush=True)
    result = {
        "benchmark": "memory_memmap",
        "rows": args.rows,
        "features": args.features,
        "epochs": args.epochs,
        "dtype": args.dtype,
        "file_mib": file_mib,
        "params": {"n_clusters": 10, "n_epochs": args.epochs, **HEADS[args.head]},
        "head": args.head,
        "blobs": args.blobs,
        "runs": runs,
        **machine_info(torch.device("cpu")),
    }
    print(json.dumps({"file_mib": file_mib}))
    stem = f"memory_memmap_{args.rows}x{args.features}" + (
        "_default_head" if args.head == "default" else ""
    )
    print("wrote", write_result(result, args.out, stem if dtype == np.float32 else f"{stem}_uint8"))


if __name__ == "__main__":
    main()
