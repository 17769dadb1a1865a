#!/usr/bin/env bash
# Session 16 probe (issue 15): ConvAEKMeans with AEGMM's new placement (each row at its nearest
# training code's embedding; private setting _extension_n_neighbors=1, ConvAEKMeans keeps 10)
# on digits and the MNIST test split, seeds 0-2; 2-core Intel Xeon with AMX.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
NN1='{"_extension_n_neighbors": 1}'
for s in 0 1 2; do python benchmarks/run.py ConvAEKMeans digits --data $D --seed $s --tag probe_nn1 --settings "$NN1"; done
for s in 0 1 2; do python benchmarks/run.py ConvAEKMeans mnist-test --data $D --seed $s --tag probe_nn1 --settings "$NN1"; done
for s in 0 1 2; do python benchmarks/run.py ConvAEKMeans mnist-test --data $D --seed $s --tag defaults_s16; done
echo QUEUE DONE
