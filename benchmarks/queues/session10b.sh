#!/usr/bin/env bash
# Session 10, second queue (issue 14): waits for session10.sh, then the DVAE's remaining
# MNIST seeds with the defaults: all 70k images seed 1, fit on the 60k training images and
# predict the 10k test images (seed 0), then all 70k seed 2.
cd "$(dirname "$0")/../.."
D=../shared/data
while pgrep -f "session10.sh" > /dev/null; do sleep 10; done
python benchmarks/run.py DVAEClusterer mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag defaults
python benchmarks/run.py DVAEClusterer mnist --data $D --seed 1 --tag defaults
python benchmarks/run.py DVAEClusterer mnist --data $D --seed 2 --tag defaults
echo QUEUE DONE
