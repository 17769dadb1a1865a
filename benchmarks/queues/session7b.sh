#!/usr/bin/env bash
# Session 7 queue, after the DVAE's pretraining became AEGMM's recipe (50 epochs, batch
# "auto"): one run at a time, defaults. Digits: the 10-seed sweep (issue 16), whose seeds
# 0-2 are also issue 15's table; then the DVAE on USPS and the MNIST test split.
cd "$(dirname "$0")/../.."
R="python benchmarks/run.py"
D="--data ../shared/data"
for s in 0 1 2; do $R DVAEClusterer digits --seed $s --tag defaults; done
for s in 3 4 5 6 7 8 9; do
  for e in DVAEClusterer AEGMM ConvAEKMeans; do $R $e digits --seed $s --tag sweep; done
done
for s in 0 1 2; do $R DVAEClusterer usps $D --seed $s --tag defaults; done
for s in 0 1 2; do $R DVAEClusterer mnist-test $D --seed $s --tag defaults; done
echo QUEUE DONE
