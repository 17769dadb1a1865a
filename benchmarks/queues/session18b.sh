#!/usr/bin/env bash
# Session 18 (issue 15): ConvAEKMeans's new defaults (each row at its nearest training code,
# image codes at unit length under the manifold) on every row of the issue's table that names
# it. 2-core Intel Xeon with AMX, one run at a time.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
for s in 0 1 2 3 4 5 6 7 8 9; do python benchmarks/run.py ConvAEKMeans digits --data $D --seed $s --tag defaults_s18; done
for s in 0 1 2; do python benchmarks/run.py ConvAEKMeans mnist-test --data $D --seed $s --tag defaults_s18; done
for s in 0 1 2; do python benchmarks/run.py ConvAEKMeans mnist --data $D --seed $s --tag defaults_s18; done
echo QUEUE DONE
