#!/usr/bin/env bash
# Session 19 (issue 15): AEGMM's new default, 10 epochs of self-training on images after the
# first mixture (``_refine_epochs = 10``), on every AEGMM row of the issue's table: digits (the
# dense network, which skips the step), the MNIST test split, USPS, all 70k MNIST images, and
# fit on the 60k training images / predict the 10k test images with both heads. Seed 0 of the
# 70k row last. 2-core Intel Xeon with AMX, one run at a time.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
T=defaults_s19
for s in 0 1 2; do python benchmarks/run.py AEGMM digits --data $D --seed $s --tag $T; done
for s in 0 1 2; do python benchmarks/run.py AEGMM mnist-test --data $D --seed $s --tag $T; done
for s in 0 1 2; do python benchmarks/run.py AEGMM usps --data $D --seed $s --tag $T; done
for s in 1 2; do python benchmarks/run.py AEGMM mnist --data $D --seed $s --tag $T; done
python benchmarks/run.py AEGMM mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag $T
python benchmarks/run.py AEGMM mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag plain_head_s19 --params '{"manifold": null}'
python benchmarks/run.py AEGMM mnist --data $D --seed 0 --tag $T
echo QUEUE DONE
