#!/usr/bin/env bash
# Session 16 (issue 15): AEGMM's manifold now places a row at the embedding of its nearest
# training code (a training row at its own) instead of the weighted mean of 10. Every AEGMM
# row with the UMAP head again, defaults, one run at a time; 2-core Intel Xeon with AMX.
# The plain head (manifold=None) has no manifold step and is unchanged.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
for s in 0 1 2; do python benchmarks/run.py AEGMM digits --data $D --seed $s --tag defaults_s16; done
for s in 0 1 2; do python benchmarks/run.py AEGMM mnist-test --data $D --seed $s --tag defaults_nn1; done
for s in 0 1 2; do python benchmarks/run.py AEGMM usps --data $D --seed $s --tag defaults_s16; done
for s in 2 0 1; do python benchmarks/run.py AEGMM mnist --data $D --seed $s --tag defaults_s16; done
python benchmarks/run.py AEGMM mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag defaults_s16
echo QUEUE DONE
