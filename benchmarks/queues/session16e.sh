#!/usr/bin/env bash
# Session 16 (issue 15): AEGMM's new defaults -- gmm_n_init=30 (10 restarts missed the most
# likely mixture on USPS seed 2: ACC 0.826) and each row placed at its nearest training code's
# embedding. Every AEGMM row with the UMAP head again, one run at a time, then the test suite,
# then the long rows; 2-core Intel Xeon with AMX. (session16c.sh was stopped for this.)
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
for s in 0 1 2; do python benchmarks/run.py AEGMM digits --data $D --seed $s --tag defaults_n30; done
for s in 0 1 2; do python benchmarks/run.py AEGMM usps --data $D --seed $s --tag defaults_n30; done
for s in 0 1 2; do python benchmarks/run.py AEGMM mnist-test --data $D --seed $s --tag defaults_n30; done
CI=true python -m pytest -q -p no:cacheprovider > /work/logs/s16/pytest_queue.log 2>&1
tail -3 /work/logs/s16/pytest_queue.log
for s in 2 0 1; do python benchmarks/run.py AEGMM mnist --data $D --seed $s --tag defaults_n30; done
python benchmarks/run.py AEGMM mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag defaults_n30
echo QUEUE DONE
