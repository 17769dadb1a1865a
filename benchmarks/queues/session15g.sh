#!/usr/bin/env bash
# Session 15 probes (issue 15): AEGMM on all 70k MNIST images, seed 2 (ACC 0.963 with the
# defaults): a 32-d code (UMAP still embeds in n_clusters dimensions), then Adam at lr=3e-4;
# otherwise the defaults. One run at a time on a 2-core Intel Xeon with AMX.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
python benchmarks/run.py AEGMM mnist --data $D --seed 2 --tag probe_latent32 --params '{"latent_dim": 32}'
python benchmarks/run.py AEGMM mnist --data $D --seed 2 --tag probe_lr3e-4 --params '{"lr": 0.0003}'
echo QUEUE DONE
