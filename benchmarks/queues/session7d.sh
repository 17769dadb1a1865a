#!/usr/bin/env bash
# Session 7, last queue: the DVAE on the MNIST test split, seeds 1 and 2 (defaults).
# Stopped by hand after seed 1: seed 2 would not have finished within the session.
cd "$(dirname "$0")/../.."
for s in 1 2; do
  python benchmarks/run.py DVAEClusterer mnist-test --data ../shared/data --seed $s --tag defaults
done
echo QUEUE DONE
