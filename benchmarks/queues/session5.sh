#!/usr/bin/env bash
# Session 5 queue: one run at a time, defaults (plus a named option where stated).
cd "$(dirname "$0")/../.."
R="python benchmarks/run.py"
D="--data ../shared/data"
for s in 0 1 2; do $R AEGMM digits --seed $s --tag defaults; done
for s in 0 1 2; do $R ConvAEKMeans digits --seed $s --tag defaults; done
for s in 0 1 2; do $R DVAEClusterer digits --seed $s --tag defaults; done
for s in 0 1 2; do $R AEGMM digits --seed $s --params '{"manifold": "umap"}' --tag manifold_umap; done
for s in 0 1 2; do $R DVAEClusterer digits --seed $s --params '{"similarity_weight": 0.0}' --tag ablation_beta0; done
for s in 0 1 2; do $R DVAEClusterer digits --seed $s --params '{"init": "gmm"}' --tag init_gmm; done
for s in 0 1 2; do $R AEGMM mnist-test $D --seed $s --tag defaults; done
$R DVAEClusterer usps $D --seed 0 --tag defaults
$R DVAEClusterer usps $D --seed 0 --params '{"similarity_weight": 0.0}' --tag ablation_beta0
for s in 0 1 2; do $R AEGMM mnist-test $D --seed $s --params '{"manifold": "umap"}' --tag manifold_umap; done
for s in 0 1 2; do $R AEGMM usps $D --seed $s --tag defaults; done
$R DVAEClusterer usps $D --seed 1 --tag defaults
$R DVAEClusterer usps $D --seed 2 --tag defaults
echo QUEUE DONE
