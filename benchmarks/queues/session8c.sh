#!/usr/bin/env bash
# Session 8, third queue. session8b.sh was stopped after its uint8 memmap run: the float32
# memmap run beside it shared the CPU with tabular probes, so its epoch times mean nothing
# (its memory figures stand). This waits for the uint8 run, repeats the float32 one alone,
# then goes on with issue 15's MNIST rows, one job at a time.
# Stopped by hand while AEGMM mnist seed 1 ran; that fit finished on its own, seed 2 never
# started (it would not have finished within the session).
cd "$(dirname "$0")/../.."
while pgrep -f "memory_memmap.py" > /dev/null; do sleep 10; done
D=../shared/data
python benchmarks/memory_memmap.py
python benchmarks/run.py AEGMM mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag defaults
python benchmarks/run.py AEGMM mnist-train --eval-dataset mnist-test --data $D --seed 0 --tag plain_head --params '{"manifold": null}'
for s in 1 2; do
  python benchmarks/run.py AEGMM mnist --data $D --seed $s --tag defaults
done
echo QUEUE DONE
