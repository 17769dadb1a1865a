#!/usr/bin/env bash
# Session 16 probe (issue 15): augmented pretraining (DEC-DA style: each image moved by a random
# shift of up to 10 % and a rotation of up to 10 degrees, as input and target) against the
# defaults on the MNIST test split, seed 0, same machine (2-core Intel Xeon with AMX);
# then the 32-d code alone and with the augmentation.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
python benchmarks/run.py AEGMM mnist-test --data $D --seed 0 --tag defaults_s16
python benchmarks/run.py AEGMM mnist-test --data $D --seed 0 --tag probe_aug \
    --settings '{"_augment_shift": 0.1, "_augment_rotation": 10.0}'
python benchmarks/run.py AEGMM mnist-test --data $D --seed 0 --tag probe_latent32 \
    --params '{"latent_dim": 32}'
python benchmarks/run.py AEGMM mnist-test --data $D --seed 0 --tag probe_aug_latent32 \
    --params '{"latent_dim": 32}' --settings '{"_augment_shift": 0.1, "_augment_rotation": 10.0}'
echo QUEUE DONE
