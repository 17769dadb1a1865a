#!/usr/bin/env bash
# Session 15 probe (issue 15): AEGMM on all 70k MNIST images, seed 2 (the weakest seed with
# the defaults, ACC 0.963), with denoising pretraining (20 % of each image's pixels zeroed in
# the network's input), otherwise the defaults.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
python benchmarks/run.py AEGMM mnist --data $D --seed 2 --tag probe_drop20 --settings '{"_input_dropout": 0.2}'
echo QUEUE DONE
