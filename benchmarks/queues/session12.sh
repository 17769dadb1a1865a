#!/usr/bin/env bash
# Session 12 queue, one run at a time on a 2-core Intel Xeon with AMX: AEGMM with defaults on
# all 70k MNIST images, seed 2 (issue 15's third seed), then the DVAE with defaults on all 70k,
# seed 1 (the worst seed on the AMD machine), for its time and accuracy on this CPU.
cd "$(dirname "$0")/../.."
D=../shared/data
python benchmarks/run.py AEGMM mnist --data $D --seed 2 --tag defaults
python benchmarks/run.py DVAEClusterer mnist --data $D --seed 1 --tag defaults_xeon
echo QUEUE DONE
