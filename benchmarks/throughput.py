"""Training throughput of the engine, per network and precision, against the GEMM rate.

Measures, in one process (ratios between its rows are what to compare; absolute figures
only with the CPU model beside them):

1. the GEMM rate: ``torch.mm`` of two square matrices in float32 and in bfloat16 (GFLOP/s);
2. the engine: ``AEGMM`` trained by the library's training engine on MNIST (10k images,
   batch 256 and 1024) with the dense d-500-500-2000-10 and the convolutional autoencoder, in
   ``precision="float32"``, ``"bfloat16"`` and ``"auto"`` (what this CPU resolves it to):
   samples/s and seconds per epoch over the
   epochs after the first;
3. a plain reference loop for the dense float32 network (``DataLoader`` + ``.item()`` every
   step + unfused Adam).

The dense autoencoder costs about 6 x n_params FLOP per sample per step (forward 2, backward
4), so ``ratio = 6 * n_params * samples_per_second / gemm_flops``.

Usage::

    python benchmarks/throughput.py [--data DIR] [--epochs 3] [--n-samples 10000]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from deepcluster_sk import AEGMM
from deepcluster_sk._utils import cpu_capability, resolve_precision
from deepcluster_sk.datasets import load_mnist

sys.path.insert(0, str(Path(__file__).parent))  # benchmarks/ is not a package
from harness import machine_info, write_result


def gemm_gflops(size: int = 2048, repeats: int = 20, dtype: torch.dtype = torch.float32) -> float:
    """Best-of matrix multiply rate in GFLOP/s."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * size**3 / best / 1e9


def plain_loop_samples_per_second(
    model: torch.nn.Module, X: np.ndarray, epochs: int, batch_size: int
) -> float:
    """The textbook loop: DataLoader, per-step .item(), default (unfused) Adam."""
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=False)
    data = torch.utils.data.TensorDataset(torch.from_numpy(X))
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=True)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        total = 0.0
        for (xb,) in loader:
            loss = torch.nn.functional.mse_loss(model(xb), xb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        times.append(time.perf_counter() - t0)
    return X.shape[0] / statistics.median(times[1:] or times)


def engine_epochs(
    X: np.ndarray, encoder: str, precision: str, epochs: int, batch_size: int
) -> tuple[list[float], AEGMM]:
    """Pretrain AEGMM's autoencoder through the engine; the seconds of each epoch.

    The head is the plain mixture with one restart and no self-training: only the
    pretraining epochs are timed.
    """
    est = AEGMM(
        10,
        encoder=encoder,
        input_shape=(1, 28, 28),
        n_epochs=epochs,
        batch_size=batch_size,
        precision=precision,
        device="cpu",
        random_state=0,
        manifold=None,
        self_training=0,
        gmm_n_init=1,
    )
    est.fit(X)
    return [r["seconds"] for r in est.history_ if r["phase"] == "train"], est


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="folder or file holding mnist.npz")
    parser.add_argument("--n-samples", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--repeats", type=int, default=3, help="rounds of the three precisions, in turn"
    )
    parser.add_argument("--batch-sizes", default="256,1024")
    parser.add_argument("--encoders", default="dense,conv")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument("--skip-plain", action="store_true", help="skip the reference loop")
    args = parser.parse_args()

    X, _ = load_mnist(args.data, split="test", return_X_y=True, download=False)
    X = X[: args.n_samples]

    gemm = {"float32": gemm_gflops(), "bfloat16": gemm_gflops(dtype=torch.bfloat16)}
    rows = []
    dense_f32 = None
    precisions = ("float32", "bfloat16", "auto")
    for encoder in args.encoders.split(","):
        for batch_size in (int(b) for b in args.batch_sizes.split(",")):
            # The precisions take turns, round after round, so that a drift of the machine's
            # speed reaches all of them; each ratio is taken within a round.
            steady: dict[str, list[float]] = {p: [] for p in precisions}
            epochs: dict[str, list[list[float]]] = {p: [] for p in precisions}
            fitted = {}
            for _ in range(args.repeats):
                for precision in precisions:
                    seconds, fitted[precision] = engine_epochs(
                        X, encoder, precision, args.epochs, batch_size
                    )
                    epochs[precision].append([round(t, 3) for t in seconds])
                    steady[precision].append(statistics.median(seconds[1:] or seconds))
            for precision in precisions:
                est = fitted[precision]
                median = statistics.median(steady[precision])
                row = {
                    "encoder": encoder,
                    "precision_param": precision,
                    "precision": est._precision,
                    "batch_size": batch_size,
                    "samples_per_second": round(X.shape[0] / median, 1),
                    "epoch_seconds": epochs[precision],
                    "seconds_per_epoch_70k": round(median * 70000 / X.shape[0], 2),
                    "speedup_over_float32": round(
                        statistics.median(
                            f / t for f, t in zip(steady["float32"], steady[precision], strict=True)
                        ),
                        3,
                    ),
                    "final_loss": next(
                        r["loss"] for r in reversed(est.history_) if r["phase"] == "train"
                    ),
                    "n_params": sum(p.numel() for p in est.module_.parameters()),
                }
                if encoder == "dense":
                    flop = 6 * row["n_params"] * row["samples_per_second"]
                    row["gflops"] = round(flop / 1e9, 2)
                    row["ratio_to_gemm"] = round(flop / 1e9 / gemm[est._precision], 3)
                    if precision == "float32" and batch_size == 256:
                        dense_f32 = (row, est)
                rows.append(row)
                print(json.dumps(row), flush=True)
    flags = cpu_capability()
    result = {
        "benchmark": "throughput",
        "n_samples": int(X.shape[0]),
        "epochs": args.epochs,
        "gemm_gflops": {k: round(v, 2) for k, v in gemm.items()},
        "auto_precision_cpu": resolve_precision("auto", torch.device("cpu")),
        "cpu_amx_bf16": bool(flags.get("amx_bf16", False)),
        "cpu_avx512_bf16": bool(flags.get("avx512_bf16", False)),
        "rows": rows,
    }
    if not args.skip_plain and dense_f32 is not None:
        row, est = dense_f32
        model = copy.deepcopy(est.module_).cpu().train()  # same network, trained weights
        plain_sps = plain_loop_samples_per_second(model, X, args.epochs, 256)
        flop_per_sample = 6 * row["n_params"]
        result["plain_loop_samples_per_second"] = round(plain_sps, 1)
        result["plain_loop_ratio"] = round(plain_sps * flop_per_sample / 1e9 / gemm["float32"], 3)
        result["engine_speedup_over_plain_loop"] = round(row["samples_per_second"] / plain_sps, 2)
    result.update(machine_info(torch.device("cpu")))
    path = write_result(result, args.out, "throughput")
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
