#!/usr/bin/env bash
# Session 9, second queue. session9.sh skipped the DVAE probe (an in-place edit of the running
# script went to a new file after a `sed -i`), so it was stopped during ConvAEKMeans seed 0;
# this waits for that fit, runs the probe, then ConvAEKMeans seeds 1 and 2.
cd "$(dirname "$0")/../.."
D=../shared/data
while pgrep -f "run.py ConvAEKMeans mnist" > /dev/null; do sleep 10; done
# Issue 14 probe (not a benchmark): on USPS the DVAE's initial partitions reach 0.956-0.959 and
# its final labels 0.925-0.946. Same pretrained network and initial partition for each rule.
python benchmarks/queues/probe_dvae_assign.py '{"pre": {"pretrain_only": true}, "default": {}, "gmm": {"attrs": {"_assign": "gmm"}}, "mlp": {"mlp": 128, "attrs": {"_classifier_init": "random", "_classifier_epochs": 100}}, "anchor_all": {"attrs": {"_anchor_epochs": 300}}}' > /work/logs/probe_assign.log 2>&1
for s in 1 2; do
  python benchmarks/run.py ConvAEKMeans mnist --data $D --seed $s --tag defaults
done
echo QUEUE DONE
