#!/usr/bin/env bash
# Session 19 (issue 15 follow-up): probe ConvAEKMeans with AEGMM's self-training (private
# setting _refine_epochs=10) on the MNIST test split, seeds 0-2, beside defaults_s18.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
R='{"_refine_epochs": 10}'
for s in 0 1 2; do python benchmarks/run.py ConvAEKMeans mnist-test --data $D --seed $s --settings "$R" --tag probe_refine10; done
echo QUEUE DONE
