#!/usr/bin/env bash
# Session 10 queue, one job at a time (issue 14): the DVAE with the permanent anchor
# (_anchor_epochs=None, _anchor_weight=10) on digits, USPS and the MNIST 10k test split,
# three seeds each; the similarity_weight=0 ablation on USPS; then all 70k MNIST images, seed 0.
cd "$(dirname "$0")/../.."
D=../shared/data
for s in 0 1 2; do
  python benchmarks/run.py DVAEClusterer digits --data $D --seed $s --tag defaults
done
for s in 0 1 2; do
  python benchmarks/run.py DVAEClusterer usps --data $D --seed $s --tag defaults
done
for s in 0 1 2; do
  python benchmarks/run.py DVAEClusterer mnist-test --data $D --seed $s --tag defaults
done
# warmup_epochs=10 changed the DVAE's defaults: the tabular comparison again, both sides.
python benchmarks/tabular.py --seeds 0 1 2 3 4 5 6 7 8 9
python benchmarks/tabular.py --seeds 0 1 2 3 4 5 6 7 8 9 --tag paper_trunk --params '{"hidden_dims": [500, 500, 2000]}'
for s in 0 1 2; do
  python benchmarks/run.py DVAEClusterer usps --data $D --seed $s --tag ablation_beta0 --params '{"similarity_weight": 0.0}'
done
python benchmarks/run.py DVAEClusterer mnist --data $D --seed 0 --tag defaults
echo QUEUE DONE
# Stopped after the first USPS beta=0 run (renamed anchored_ablation_beta0): seeds 1-2 and MNIST-70k did not run.
