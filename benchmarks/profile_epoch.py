"""Where a training epoch's time goes: torch.profiler over AEGMM's engine on MNIST.

Profiles ``--steps`` mini-batches of the library's training engine (AEGMM's reconstruction
phase) for one network and precision, and prints the operators that take the most CPU time.

Usage::

    python benchmarks/profile_epoch.py --encoder conv --precision bfloat16 [--data DIR]
"""

from __future__ import annotations

import argparse

from torch.profiler import ProfilerActivity, profile

from deepcluster_sk import AEGMM
from deepcluster_sk.datasets import load_mnist


class _Profiled(AEGMM):
    """AEGMM whose second training epoch runs under the profiler."""

    profiler: profile | None = None

    def _on_epoch_end(self, phase, epoch, record):
        if epoch == 0 and self.profiler is not None:
            self.profiler.start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--encoder", default="conv", choices=["conv", "dense"])
    parser.add_argument("--precision", default="bfloat16", choices=["float32", "bfloat16"])
    parser.add_argument("--n-samples", type=int, default=5120)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--rows", type=int, default=15)
    args = parser.parse_args()
    X, _ = load_mnist(args.data, split="test", return_X_y=True, download=False)
    X = X[: args.n_samples]
    est = _Profiled(
        10,
        encoder=args.encoder,
        input_shape=(1, 28, 28),
        n_epochs=2,
        batch_size=args.batch_size,
        precision=args.precision,
        device="cpu",
        random_state=0,
    )
    prof = profile(activities=[ProfilerActivity.CPU])
    est.profiler = prof
    est.fit(X)
    prof.stop()
    seconds = [r["seconds"] for r in est.history_]
    print(f"{args.encoder} {est._precision} batch {args.batch_size}: epoch seconds {seconds}")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))


if __name__ == "__main__":
    main()
