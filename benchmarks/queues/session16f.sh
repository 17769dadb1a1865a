#!/usr/bin/env bash
# Session 16 (issue 15): the tables (wine, breast cancer; 10 seeds) with AEGMM's new defaults
# (gmm_n_init=30, nearest-code placement); runs after session16e.sh. 2-core Intel Xeon, AMX.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
while pgrep -f session16e.sh > /dev/null; do sleep 15; done
python benchmarks/tabular.py --seeds 0 1 2 3 4 5 6 7 8 9 --tag defaults_n30
echo QUEUE DONE
