#!/usr/bin/env bash
# Session 15 queue (issue 15): DVAEClusterer and AEGMM on digits with the defaults after UMAP's
# kernels got numba's on-disk cache (kernels compiled by an earlier process), seeds 0-2, one
# run at a time on a 2-core Intel Xeon with AMX.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
for s in 0 1 2; do python benchmarks/run.py DVAEClusterer digits --data $D --seed $s --tag defaults_s15; done
for s in 0 1 2; do python benchmarks/run.py AEGMM digits --data $D --seed $s --tag defaults_s15; done
echo QUEUE DONE
