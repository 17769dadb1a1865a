#!/usr/bin/env bash
# Session 17 (issue 15): AEGMM's manifold sees image codes scaled to unit length
# (_manifold_unit_codes="images"). On the saved codes of the worst 70k seed (2) that gave
# ACC 0.978 where the raw codes gave 0.967. Every AEGMM image row again with the new default,
# one run at a time, the 70k rows first; 2-core Intel Xeon with AMX.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
for s in 0 1 2; do python benchmarks/run.py AEGMM mnist --data $D --seed $s --tag defaults_unit; done
for s in 0 1 2; do python benchmarks/run.py AEGMM mnist-test --data $D --seed $s --tag defaults_unit; done
for s in 0 1 2; do python benchmarks/run.py AEGMM usps --data $D --seed $s --tag defaults_unit; done
for s in 0 1 2; do python benchmarks/run.py AEGMM digits --data $D --seed $s --tag defaults_unit; done
python benchmarks/run.py AEGMM mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag defaults_unit
python benchmarks/run.py AEGMM mnist-train --eval-dataset mnist-test --data $D --seed 0 --params '{"manifold": null}' --tag plain_head_n30
echo QUEUE DONE
