#!/usr/bin/env bash
# Session 14, second queue (issue 15), one run at a time on a 2-core Intel Xeon with AMX, from
# main after the engine started zeroing Adam moments under 1e-30 (no change to the results,
# the subnormal slowdown gone): every estimator on scikit-learn's digits with defaults.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
for est in DVAEClusterer AEGMM ConvAEKMeans; do
  for s in 0 1 2; do python benchmarks/run.py $est digits --data $D --seed $s --tag defaults_s14; done
done
echo QUEUE DONE
