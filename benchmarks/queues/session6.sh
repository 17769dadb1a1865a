#!/usr/bin/env bash
# Session 6 queue: one run at a time, defaults (manifold="umap", batch_size="auto").
cd "$(dirname "$0")/../.."
R="python benchmarks/run.py"
D="--data ../shared/data"
for s in 0 1 2; do $R AEGMM digits --seed $s --tag defaults; done
for s in 0 1 2; do $R ConvAEKMeans digits --seed $s --tag defaults; done
for s in 0 1 2; do $R AEGMM usps $D --seed $s --tag defaults; done
for s in 0 1 2; do $R AEGMM mnist-test $D --seed $s --tag defaults; done
for s in 0 1 2; do $R ConvAEKMeans mnist-test $D --seed $s --tag defaults; done
$R AEGMM mnist-train $D --eval-dataset mnist-test --seed 0 --tag defaults
echo QUEUE DONE
