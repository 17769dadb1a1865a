#!/usr/bin/env bash
# Session 16 probe (issue 15): the 32-d code on AEGMM 70k seed 1, completing three seeds of
# latent_dim=32 (seed 0: 0.969, seed 2: 0.971). Otherwise the defaults; 2-core Intel Xeon with AMX.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
python benchmarks/run.py AEGMM mnist --data $D --seed 1 --tag probe_latent32 --params '{"latent_dim": 32}'
echo QUEUE DONE
