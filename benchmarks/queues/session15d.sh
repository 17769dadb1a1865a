#!/usr/bin/env bash
# Session 15 queue (issue 15): ConvAEKMeans on digits, seeds 3-9, with the rule before the
# small-data rule (10 mini-batches an epoch, 30 UMAP neighbours), for the ten-seed comparison
# with the defaults (session15.sh). Same machine, one run at a time.
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD/src"
D=../shared/data
for s in 3 4 5 6 7 8 9; do
  python benchmarks/run.py ConvAEKMeans digits --data $D --seed $s --tag before_small_rule \
    --settings '{"_auto_min_batches": 10, "_umap_n_neighbors_small": null}'
done
echo QUEUE DONE
