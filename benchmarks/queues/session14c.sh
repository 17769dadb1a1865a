#!/usr/bin/env bash
# Session 14, third queue (issue 14): the similarity-term ablation with today's DVAE defaults
# (100 pretraining epochs), one run at a time on a 2-core Intel Xeon with AMX: USPS and the
# 10,000 MNIST test images, seeds 0-2, similarity_weight=0 (the defaults' runs are the
# *_defaults100 files).
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
for s in 0 1 2; do python benchmarks/run.py DVAEClusterer usps --data $D --seed $s --tag ablation_beta0_p100 --params '{"similarity_weight": 0.0}'; done
for s in 0 1 2; do python benchmarks/run.py DVAEClusterer mnist-test --data $D --seed $s --tag ablation_beta0_p100 --params '{"similarity_weight": 0.0}'; done
echo QUEUE DONE
