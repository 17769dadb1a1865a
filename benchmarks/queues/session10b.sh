#!/usr/bin/env bash
# Session 10, second queue (issue 14), stopped before it started when the session ran out:
# the DVAE fit on the 60k MNIST training images predicting the 10k test images, then all
# 70k images, seeds 1 and 2, with the defaults.
cd "$(dirname "$0")/../.."
D=../shared/data
while pgrep -f "session10.sh" > /dev/null; do sleep 10; done
python benchmarks/run.py DVAEClusterer mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag defaults
python benchmarks/run.py DVAEClusterer mnist --data $D --seed 1 --tag defaults
python benchmarks/run.py DVAEClusterer mnist --data $D --seed 2 --tag defaults
echo QUEUE DONE
