#!/usr/bin/env bash
# Session 18 (issue 15), probe: augmented pretraining (random shifts up to 10% and rotations up
# to 10 degrees, the values of DEC-DA) on all 70k MNIST images, AEGMM defaults otherwise, through
# private settings. 2-core Intel Xeon with AMX, one run at a time.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
S='{"_augment_shift": 0.1, "_augment_rotation": 10.0}'
python benchmarks/run.py AEGMM mnist --data $D --seed 0 --settings "$S" --tag probe_aug70k
echo QUEUE DONE
