#!/usr/bin/env bash
# Session 11 queue (issue 14), one run at a time: the DVAE with defaults on all 70k MNIST
# images (seeds 0-2), fit on the 60k training images and predict the 10k test images,
# then the similarity_weight=0 ablation on USPS seeds 1-2.
cd "$(dirname "$0")/../.."
D=../shared/data
python benchmarks/run.py DVAEClusterer mnist --data $D --seed 0 --tag defaults
python benchmarks/run.py DVAEClusterer mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag defaults
python benchmarks/run.py DVAEClusterer mnist --data $D --seed 1 --tag defaults
python benchmarks/run.py DVAEClusterer mnist --data $D --seed 2 --tag defaults
python benchmarks/run.py DVAEClusterer usps --data $D --seed 1 --tag anchored_ablation_beta0 --params '{"similarity_weight": 0.0}'
python benchmarks/run.py DVAEClusterer usps --data $D --seed 2 --tag anchored_ablation_beta0 --params '{"similarity_weight": 0.0}'
echo QUEUE DONE
