#!/usr/bin/env bash
# Session 17 (issue 15), a probe for ConvAEKMeans: its codes at unit length under the manifold
# and each row at its nearest training code (AEGMM's two manifold settings), through private
# settings; its defaults are unchanged (and are run beside the probe on the test split). 2-core Intel Xeon with AMX, one run at a time.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
S='{"_manifold_unit_codes": "images", "_extension_n_neighbors": 1}'
for s in 0 1 2; do python benchmarks/run.py ConvAEKMeans digits --data $D --seed $s --settings "$S" --tag probe_unit_nn1; done
# The MNIST test split's defaults were measured on the AMD machine: both sides here.
for s in 1 0 2; do
  python benchmarks/run.py ConvAEKMeans mnist-test --data $D --seed $s --tag defaults_s17
  python benchmarks/run.py ConvAEKMeans mnist-test --data $D --seed $s --settings "$S" --tag probe_unit_nn1
done
echo QUEUE DONE
