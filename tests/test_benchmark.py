"""The benchmark runner: result record, JSON file, accuracy monitor."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepcluster_sk._benchmark import clustering_metrics, load_benchmark_data, run_benchmark

TINY_DVAE = {
    "hidden_dims": [32],
    "latent_dim": 4,
    "pretrain_epochs": 2,
    "classifier_epochs": 2,
    "n_epochs": 4,
    "warmup_epochs": 2,
    "batch_size": 128,
}


def test_clustering_metrics_of_a_relabelled_partition_are_perfect():
    y = np.array([0, 0, 1, 1, 2, 2])
    m = clustering_metrics(y, (y + 1) % 3)
    assert m["acc"] == pytest.approx(1.0)
    assert m["nmi"] == pytest.approx(1.0)
    assert m["ari"] == pytest.approx(1.0)


def test_run_benchmark_writes_the_record(tmp_path):
    record = run_benchmark(
        "DVAEClusterer", "digits", params=TINY_DVAE, seed=0, n_samples=400,
        device="cpu", out_dir=tmp_path, tag="t", monitor_every=2,
    )
    saved = json.loads((tmp_path / record["path"].split("/")[-1]).read_text())
    assert saved["n_samples"] == 400
    assert saved["tag"] == "t"
    assert 0.0 <= saved["metrics"]["acc"] <= 1.0
    for key in ("fit_seconds", "seconds_per_epoch", "peak_rss_mb", "torch_version", "cpu"):
        assert key in saved
    assert set(saved["phase_seconds"]) == {"pretrain", "init", "train"}
    assert sum(saved["phase_seconds"].values()) <= saved["fit_seconds"]
    train = [r for r in saved["history"] if r["phase"] == "train"]
    monitored = [r["epoch"] for r in train if "acc" in r]
    assert monitored == [1, 3]
    assert all(0.0 <= r["acc"] <= 1.0 for r in train if "acc" in r)
    assert not any("acc" in r for r in saved["history"] if r["phase"] != "train")


def test_monitor_does_not_change_the_fit():
    kwargs = {"params": TINY_DVAE, "seed": 1, "n_samples": 300, "device": "cpu"}
    plain = run_benchmark("DVAEClusterer", "digits", **kwargs)
    watched = run_benchmark("DVAEClusterer", "digits", monitor_every=1, **kwargs)
    assert plain["metrics"] == watched["metrics"]


def test_monitor_needs_a_model_with_a_trained_head():
    with pytest.raises(ValueError, match="monitor_every"):
        run_benchmark("AEGMM", "blobs", params={"n_epochs": 1}, monitor_every=1)


def test_unknown_names_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown estimator"):
        run_benchmark("KMeans", "digits")
    with pytest.raises(ValueError, match="Unknown dataset"):
        load_benchmark_data("cifar")
