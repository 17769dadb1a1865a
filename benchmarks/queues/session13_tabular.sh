#!/usr/bin/env bash
# Session 13, after session13.sh: the tabular benchmark with DVAEClusterer's new default
# pretrain_epochs=100 (both the default trunk and the papers' trunk), from the same worktree.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
while pgrep -f "queues/session13.sh" > /dev/null; do sleep 15; done
python benchmarks/tabular.py --tag defaults_p100
python benchmarks/tabular.py --params '{"hidden_dims": [500, 500, 2000]}' --tag paper_trunk_p100
echo TABULAR DONE
