#!/usr/bin/env bash
# Session 8 queue (CPU, one fit at a time): issue 15's MNIST-70k and 60k->10k rows with defaults.
# Stopped by hand after its first run (AEGMM mnist seed 0): session8b.sh runs the memmap
# benchmarks first, then the rest of this list.
cd "$(dirname "$0")/../.."
D=../shared/data
python benchmarks/run.py AEGMM mnist --data $D --seed 0 --tag defaults
python benchmarks/run.py AEGMM mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag defaults
python benchmarks/run.py AEGMM mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag plain_head --params '{"manifold": null}'
for s in 1 2; do
  python benchmarks/run.py AEGMM mnist --data $D --seed $s --tag defaults
done
for s in 0 1 2; do
  python benchmarks/run.py ConvAEKMeans mnist --data $D --seed $s --tag defaults
done
echo QUEUE DONE
