#!/usr/bin/env bash
# Session 13 queue (issue 14), one run at a time on a 2-core Intel Xeon with AMX, from the
# pretrain100 worktree where DVAEClusterer's pretrain_epochs default is 100 (was 50): every
# DVAE figure with defaults again -- digits, USPS, MNIST 10k, all 70k MNIST, 60k -> 10k.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
for s in 0 1 2; do python benchmarks/run.py DVAEClusterer digits --data $D --seed $s --tag defaults100; done
for s in 0 1 2; do python benchmarks/run.py DVAEClusterer usps --data $D --seed $s --tag defaults100; done
for s in 0 1 2; do python benchmarks/run.py DVAEClusterer mnist-test --data $D --seed $s --tag defaults100; done
for s in 1 0 2; do python benchmarks/run.py DVAEClusterer mnist --data $D --seed $s --tag defaults100; done
python benchmarks/run.py DVAEClusterer mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag defaults100
echo QUEUE DONE
