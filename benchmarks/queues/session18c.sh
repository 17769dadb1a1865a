#!/usr/bin/env bash
# Session 18 (issue 15): the rest of session18b.sh (stopped after ConvAEKMeans digits seed 5 so
# that the self-training probe runs before the long 70k runs), then the probe: AEGMM defaults
# plus 10 epochs of self-training on the head's labels (private settings), on the MNIST test
# split (seeds 0-2, beside defaults_unit) and on all 70k images (seed 0); then ConvAEKMeans's
# 70k rows. 2-core Intel Xeon with AMX, one run at a time.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
for s in 6 7 8 9; do python benchmarks/run.py ConvAEKMeans digits --data $D --seed $s --tag defaults_s18; done
for s in 0 1 2; do python benchmarks/run.py ConvAEKMeans mnist-test --data $D --seed $s --tag defaults_s18; done
R='{"_refine_epochs": 10}'
for s in 0 1 2; do python benchmarks/run.py AEGMM mnist-test --data $D --seed $s --settings "$R" --tag probe_refine10; done
python benchmarks/run.py AEGMM mnist --data $D --seed 0 --settings "$R" --tag probe_refine10
for s in 0 1 2; do python benchmarks/run.py ConvAEKMeans mnist --data $D --seed $s --tag defaults_s18; done
echo QUEUE DONE
