#!/usr/bin/env bash
# Session 14 queue (issues 14, 15), one run at a time on a 2-core Intel Xeon with AMX, from a
# worktree of main (DVAEClusterer pretrain_epochs=100 by default): the 60k -> 10k DVAE fit with
# defaults, then the tabular comparison again with the new DVAE default.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
python benchmarks/run.py DVAEClusterer mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag defaults100
python benchmarks/tabular.py --seeds 0 1 2 3 4 5 6 7 8 9 --tag defaults_p100
python benchmarks/tabular.py --seeds 0 1 2 3 4 5 6 7 8 9 --params '{"hidden_dims": [500, 500, 2000]}' --tag paper_trunk_p100
echo QUEUE DONE
