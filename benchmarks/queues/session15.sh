#!/usr/bin/env bash
# Session 15 queue (issue 15), one run at a time on a 2-core Intel Xeon with AMX, from a
# worktree of main: ConvAEKMeans on digits with the small-data rule (25 mini-batches an epoch,
# 50 UMAP neighbours under 4,096 rows), ten seeds.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
for s in 0 1 2 3 4 5 6 7 8 9; do
  python benchmarks/run.py ConvAEKMeans digits --data $D --seed $s --tag defaults_s15
done
echo QUEUE DONE
