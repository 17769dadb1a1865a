#!/usr/bin/env bash
# Session 7, second queue: after session7b.sh, the test suite, the tabular comparison with
# defaults, then the DVAE fitted on MNIST's 60k training images and scored on the 10k test
# images (issue 14's generalisation row).
cd "$(dirname "$0")/../.."
while kill -0 3353 2>/dev/null; do sleep 10; done
python -m pytest -q -p no:randomly > /tmp/pytest7.log 2>&1
python benchmarks/tabular.py
python benchmarks/run.py DVAEClusterer mnist-train --data ../shared/data --eval-dataset mnist-test --seed 0 --tag defaults
echo QUEUE DONE
