"""The benchmark harness (benchmarks/harness.py): result record, JSON file, accuracy monitor."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone

from deepcluster_sk import DVAEClusterer
from tests._helpers import ROOT

# benchmarks/ is a folder of scripts, not a package
sys.path.insert(0, str(ROOT / "benchmarks"))
import harness
from harness import (
    clustering_metrics,
    load_benchmark_data,
    monitored,
    run_benchmark,
)

TINY_DVAE = {
    "hidden_dims": [32],
    "latent_dim": 4,
    "pretrain_epochs": 2,
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
        "DVAEClusterer",
        "digits",
        params=TINY_DVAE,
        seed=0,
        n_samples=400,
        device="cpu",
        out_dir=tmp_path,
        tag="t",
        monitor_every=2,
    )
    saved = json.loads((tmp_path / record["path"].split("/")[-1]).read_text())
    assert saved["n_samples"] == 400
    assert saved["tag"] == "t"
    assert 0.0 <= saved["metrics"]["acc"] <= 1.0
    # The start of the joint phase and what it changed (labels used only in the record).
    assert {"init_acc", "changed_share"} <= set(saved["metrics"])
    assert saved["param_overrides"] == TINY_DVAE
    for key in (
        "commit",
        "tree_clean",
        "fit_seconds",
        "seconds_per_epoch",
        "peak_rss_mb",
        "torch_version",
        "cpu",
        "thread_pools",
    ):
        assert key in saved
    assert set(saved["phase_seconds"]) == {"pretrain", "head", "joint"}
    assert sum(saved["phase_seconds"].values()) <= saved["fit_seconds"]
    train = [r for r in saved["history"] if r["phase"] == "train"]
    monitored = [r["epoch"] for r in train if "acc" in r]
    assert monitored == [1, 3]
    assert all(0.0 <= r["acc"] <= 1.0 for r in train if "acc" in r)
    assert not any("acc" in r for r in saved["history"] if r["phase"] != "train")


def test_phase_seconds_of_an_autoencoder():
    """The record holds the estimator's ``phase_seconds_``: pretraining (its epochs), the
    head (codes, mixture restarts) and the joint phase (none here: tables skip it)."""
    record = run_benchmark(
        "AEGMM",
        "digits",
        params={"hidden_dims": [16], "latent_dim": 3, "n_epochs": 2, "manifold": None},
        seed=0,
        n_samples=200,
        device="cpu",
    )
    phases = record["phase_seconds"]
    assert set(phases) == {"pretrain", "head", "joint"} and phases["joint"] == 0.0
    train = sum(r["seconds"] for r in record["history"])
    assert train <= phases["pretrain"] <= record["fit_seconds"]
    assert sum(phases.values()) <= record["fit_seconds"]


def test_monitor_does_not_change_the_fit():
    kwargs = {"params": TINY_DVAE, "seed": 1, "n_samples": 300, "device": "cpu"}
    plain = run_benchmark("DVAEClusterer", "digits", **kwargs)
    watched = run_benchmark("DVAEClusterer", "digits", monitor_every=1, **kwargs)
    assert plain["metrics"] == watched["metrics"]


class _Recorder:
    """Stands in for an estimator: a default hook, a fixed predict and a network."""

    def __init__(self) -> None:
        self.module_ = torch.nn.Linear(2, 2)

    def _on_epoch_end(self, phase, epoch, record):
        record["base_hook"] = True

    def predict(self, X):
        self.module_.eval()
        return (X[:, 0] > 0.5).astype(int)


def test_monitored_hook_scores_the_joint_phase_every_n_epochs():
    X = np.repeat([[0.0], [1.0]], 10, axis=0)
    y = np.repeat([3, 7], 10)
    est = monitored(_Recorder, X, y, every=2, seed=0)()
    records = {}
    for phase in ("pretrain", "classifier", "train"):
        for epoch in range(4):
            record = {"phase": phase, "epoch": epoch}
            est._on_epoch_end(phase, epoch, record)
            records[phase, epoch] = record
    assert all(r["base_hook"] for r in records.values())  # the parent's hook still runs
    scored = [key for key, r in records.items() if "acc" in r]
    assert scored == [("train", 1), ("train", 3)]
    assert records["train", 1]["acc"] == pytest.approx(1.0)
    assert records["train", 1]["nmi"] == pytest.approx(1.0)
    assert est.module_.training  # back in training mode after predict


def test_monitored_subclass_keeps_the_parameters():
    X, y = np.zeros((5, 4), np.float32), np.zeros(5, int)
    cls = monitored(DVAEClusterer, X, y, every=1, seed=0)
    assert issubclass(cls, DVAEClusterer)
    assert cls.__name__ == "DVAEClusterer"
    est = cls(3, random_state=1)
    assert est.get_params() == DVAEClusterer(3, random_state=1).get_params()
    assert type(clone(est)) is cls


def test_peak_memory_is_none_without_the_resource_module(monkeypatch):
    monkeypatch.setitem(sys.modules, "resource", None)  # as on Windows
    monkeypatch.setitem(sys.modules, "psutil", None)  # ... without psutil
    assert harness._peak_rss_mb() is None


def test_peak_memory_from_psutil_where_resource_is_missing(monkeypatch):
    class _Info:
        peak_wset = 3 * 2**20

    class _Process:
        def memory_info(self):
            return _Info()

    monkeypatch.setitem(sys.modules, "resource", None)
    monkeypatch.setitem(sys.modules, "psutil", type(sys)("psutil"))
    sys.modules["psutil"].Process = _Process
    assert harness._peak_rss_mb() == pytest.approx(3.0)


def test_peak_memory_of_this_process_is_positive():
    peak = harness._peak_rss_mb()
    assert peak is None or peak > 1.0


def test_machine_info_records_cpu_flags_and_thread_pools():
    info = harness.machine_info(torch.device("cpu"))
    json.dumps(info)  # serialisable as it is
    for key in ("device", "cpu", "cpu_count", "threads", "torch_version", "platform", "date"):
        assert key in info  # the keys the docs' benchmark page reads
    assert isinstance(info["cpu"], str) and info["cpu"]
    assert info["threads"] == torch.get_num_threads()
    assert info["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    if "cpu_flags" in info:  # torch exposes its CPU detection
        assert set(info["cpu_flags"]) <= set(harness.CPU_FLAGS)
        assert {"avx512_f", "avx512_bf16", "amx_tile", "amx_bf16"} <= set(info["cpu_flags"])
        assert all(isinstance(v, bool) for v in info["cpu_flags"].values())
    pools = info["thread_pools"]
    assert any(p["user_api"] == "blas" for p in pools)  # numpy's BLAS is loaded
    assert all(isinstance(p["num_threads"], int) and "filepath" not in p for p in pools)
    assert any("OpenMP" in line or "ATen" in line for line in info["torch_parallel"])


def test_machine_info_without_torch_cpu_detection(monkeypatch):
    monkeypatch.delattr(torch._C._cpu, "_get_cpu_capability")
    info = harness.cpu_info()
    assert "cpu_flags" not in info and isinstance(info["cpu"], str)


def test_monitor_needs_a_model_with_a_trained_head():
    with pytest.raises(ValueError, match="monitor_every"):
        run_benchmark("AEGMM", "blobs", params={"n_epochs": 1}, monitor_every=1)


def test_unknown_names_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown estimator"):
        run_benchmark("SpectralClustering", "digits")
    with pytest.raises(ValueError, match="Unknown dataset"):
        load_benchmark_data("cifar")


def test_settings_override_private_class_settings_and_are_recorded():
    tiny = {"hidden_dims": [8], "n_epochs": 1, "manifold": None}
    record = run_benchmark("AEGMM", "blobs", params=tiny, settings={"_gaussian_variance": 0.3})
    assert record["settings_overrides"] == {"_gaussian_variance": 0.3}
    assert record["private_settings"]["_gaussian_variance"] == 0.3
    # The override is on a probe subclass: the package's class keeps its value.
    from deepcluster_sk import AEGMM

    assert AEGMM._gaussian_variance == 0.5
    with pytest.raises(ValueError, match="not a private setting"):
        run_benchmark("AEGMM", "blobs", params=tiny, settings={"_no_such": 1})


def test_baselines_run_on_the_same_input_with_their_recorded_parameters(tmp_path):
    record = run_benchmark("GaussianMixture", "digits", seed=1, out_dir=tmp_path)
    assert record["params"]["covariance_type"] == "diag"
    assert record["params"]["n_components"] == 10  # the number of classes
    assert record["param_overrides"] == {}
    assert record["path"].endswith("GaussianMixture_digits.json")
    run_benchmark("GaussianMixture", "digits", seed=0, out_dir=tmp_path)
    saved = json.loads((tmp_path / "GaussianMixture_digits.json").read_text())
    assert [r["seed"] for r in saved["runs"]] == [0, 1]  # the seeds of a baseline share a file
    # k-means on digits is far from chance and far from perfect: the metrics are real ones.
    kmeans = run_benchmark("KMeans", "digits", seed=0)
    assert 0.5 < kmeans["metrics"]["acc"] < 0.95


def test_git_state_names_this_checkout():
    state = harness.git_state()
    assert set(state) == {"commit", "tree_clean"}
    if state["commit"] is not None:  # a git checkout (not an sdist)
        assert len(state["commit"]) == 40
        assert isinstance(state["tree_clean"], bool)


def test_32x32_sets_load_with_their_shape_or_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"coil20\.npz"):
        load_benchmark_data("coil20", str(tmp_path))
    X = np.random.RandomState(0).rand(6, 1024).astype(np.float32)
    np.savez(tmp_path / "orl.npz", X=X, y=np.array([0, 0, 1, 1, 2, 2]))
    X_loaded, y, shape = load_benchmark_data("orl", str(tmp_path))
    assert shape == (1, 32, 32)
    np.testing.assert_array_equal(X_loaded, X)
    assert y.tolist() == [0, 0, 1, 1, 2, 2]


def test_run_script_sends_experiments_outside_the_registry(tmp_path, monkeypatch):
    import run

    written = {}

    def fake_run_benchmark(estimator, dataset, **kwargs):
        written["out"] = kwargs["out_dir"]
        return {
            "estimator": estimator,
            "dataset": dataset,
            "n_samples": 1,
            "seed": 0,
            "device": "cpu",
            "commit": None,
            "tree_clean": None,
            "metrics": {},
            "fit_seconds": 0.0,
            "seconds_per_epoch": None,
            "path": "x",
        }

    monkeypatch.setattr(run, "run_benchmark", fake_run_benchmark)
    run.main(["KMeans", "digits"])
    assert Path(written["out"]).name == "results"
    run.main(["AEGMM", "digits", "--params", '{"n_epochs": 3}'])
    assert Path(written["out"]).name == "scratch"
    run.main(["AEGMM", "digits", "--n-samples", "100"])
    assert Path(written["out"]).name == "scratch"


def test_label_changes_of_a_joint_phase():
    """Share of rows whose cluster changed, and the accuracy of start and end among them."""
    label_changes = harness.label_changes

    y = np.array([0, 0, 0, 1, 1, 1])
    start = np.array([0, 0, 1, 1, 1, 1])  # row 2 misplaced
    end = np.array([0, 0, 0, 1, 1, 0])  # row 2 fixed, row 5 broken
    out = label_changes(y, start, end)
    assert out["changed_share"] == pytest.approx(2 / 6)
    assert out["changed_init_acc"] == pytest.approx(0.5)  # row 5 was right, row 2 wrong
    assert out["changed_acc"] == pytest.approx(0.5)  # row 2 right now, row 5 wrong
    assert label_changes(y, start, start) == {"changed_share": 0.0}
