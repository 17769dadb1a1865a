"""Training throughput of the engine against the machine's float32 GEMM rate.

Measures, in one process:

1. the GEMM rate: ``torch.mm`` of two square float32 matrices (GFLOP/s);
2. the engine: ``AEGMM``'s dense d-500-500-2000-10 autoencoder trained by the library's
   training engine on MNIST (10k images, batch 256), samples/s over the epochs after the first;
3. a plain reference loop (``DataLoader`` + ``.item()`` every step + unfused Adam).

The dense autoencoder costs about 6 x n_params FLOP per sample per step (forward 2, backward
4), so ``ratio = 6 * n_params * samples_per_second / gemm_flops``.

Usage::

    python benchmarks/throughput.py [--data ../shared/data] [--epochs 4] [--n-samples 10000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from deepcluster_sk import AEGMM
from deepcluster_sk._benchmark import machine_info, write_result
from deepcluster_sk.datasets import load_mnist
from deepcluster_sk.nn import DenseAutoencoder


def gemm_gflops(size: int = 2048, repeats: int = 20) -> float:
    """Best-of float32 matrix multiply rate in GFLOP/s."""
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * size**3 / best / 1e9


def plain_loop_samples_per_second(X: np.ndarray, epochs: int, batch_size: int) -> float:
    """The textbook loop: DataLoader, per-step .item(), default (unfused) Adam."""
    torch.manual_seed(0)
    model = DenseAutoencoder(X.shape[1])
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="folder or file holding mnist.npz")
    parser.add_argument("--n-samples", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument("--skip-plain", action="store_true", help="skip the reference loop")
    args = parser.parse_args()

    X, _ = load_mnist(args.data, split="test", return_X_y=True, download=False)
    X = X[: args.n_samples]
    n_params = sum(p.numel() for p in DenseAutoencoder(X.shape[1]).parameters())
    flop_per_sample = 6 * n_params

    gemm_before = gemm_gflops()
    est = AEGMM(
        10, n_epochs=args.epochs, batch_size=args.batch_size, device="cpu", random_state=0
    )
    t0 = time.perf_counter()
    est.fit(X)
    fit_seconds = time.perf_counter() - t0
    epoch_seconds = [r["seconds"] for r in est.history_]
    engine_sps = X.shape[0] / statistics.median(epoch_seconds[1:] or epoch_seconds)
    gemm_after = gemm_gflops()
    gemm = max(gemm_before, gemm_after)
    engine_gflops = engine_sps * flop_per_sample / 1e9
    result = {
        "benchmark": "throughput",
        "model": f"dense {X.shape[1]}-500-500-2000-10 autoencoder",
        "n_params": n_params,
        "n_samples": int(X.shape[0]),
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "gemm_gflops": round(gemm, 2),
        "gemm_gflops_before_after": [round(gemm_before, 2), round(gemm_after, 2)],
        "engine_samples_per_second": round(engine_sps, 1),
        "engine_gflops": round(engine_gflops, 2),
        "ratio": round(engine_gflops / gemm, 3),
        "engine_epoch_seconds": [round(s, 3) for s in epoch_seconds],
        "fit_seconds": round(fit_seconds, 2),
    }
    if not args.skip_plain:
        plain_sps = plain_loop_samples_per_second(X, args.epochs, args.batch_size)
        result["plain_loop_samples_per_second"] = round(plain_sps, 1)
        result["plain_loop_ratio"] = round(plain_sps * flop_per_sample / 1e9 / gemm, 3)
        result["engine_speedup_over_plain_loop"] = round(engine_sps / plain_sps, 2)
    result.update(machine_info(torch.device("cpu")))
    path = write_result(result, args.out, "throughput")
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
