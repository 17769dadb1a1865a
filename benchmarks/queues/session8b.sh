#!/usr/bin/env bash
# Session 8, second queue: the memmap memory figures (issue 17) come before the rest of
# issue 15's MNIST rows. session8.sh was stopped after its first run (AEGMM mnist seed 0);
# this waits for that fit to end, then runs one job at a time.
# Stopped by hand after its uint8 memmap run; session8c.sh goes on.
cd "$(dirname "$0")/../.."
while pgrep -f "run.py AEGMM mnist --data" > /dev/null; do sleep 20; done
D=../shared/data
python benchmarks/memory_memmap.py
python benchmarks/memory_memmap.py --dtype uint8 --rows 2750000 --features 784
python benchmarks/run.py AEGMM mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag defaults
python benchmarks/run.py AEGMM mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag plain_head --params '{"manifold": null}'
for s in 1 2; do
  python benchmarks/run.py AEGMM mnist --data $D --seed $s --tag defaults
done
for s in 0 1 2; do
  python benchmarks/run.py ConvAEKMeans mnist --data $D --seed $s --tag defaults
done
echo QUEUE DONE
