"""The prepared GPU run (benchmarks/gpu.py): its dry run on the CPU; no real run without CUDA."""

from __future__ import annotations

import json
import sys

import pytest
import torch

from tests._helpers import ROOT, SHARED_DATA

sys.path.insert(0, str(ROOT / "benchmarks"))  # benchmarks/ is a folder of scripts
import gpu

needs_mnist = pytest.mark.skipif(
    not (SHARED_DATA / "mnist.npz").exists(), reason="shared MNIST data not found"
)


@needs_mnist
def test_dry_run_goes_through_every_step_on_the_cpu(tmp_path):
    summary = gpu.main(["--dry-run", "--data", str(SHARED_DATA), "--out", str(tmp_path)])
    written = {p.name for p in tmp_path.glob("*.json")}
    assert written == {
        "gpu_run.json",
        *(f"{name}_mnist_n{gpu.DRY_ROWS}_seed0.json" for name in gpu.ESTIMATORS),
    }
    on_disk = json.loads((tmp_path / "gpu_run.json").read_text())
    assert on_disk["dry_run"] is True and on_disk["device"] == "cpu"
    assert {"commit", "cpu", "torch_version"} <= set(on_disk)
    for name in gpu.ESTIMATORS:
        run = on_disk["runs"][name]
        assert 0.0 <= run["metrics"]["acc"] <= 1.0
        assert run["fit_seconds"] > 0
        record = json.loads((tmp_path / f"{name}_mnist_n{gpu.DRY_ROWS}_seed0.json").read_text())
        assert record["device"] == "cpu" and record["params"]["device"] == "cpu"
    # The CUDA tests are collected (the GPU run executes them): some exist, none failed to load.
    tests = summary["cuda_tests"]
    assert tests["returncode"] == 0, tests["summary"]
    assert "--collect-only" in tests["command"]
    assert int(tests["summary"].split("/")[0].split()[0]) > 0, tests["summary"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_without_a_gpu_the_real_run_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        gpu.main(["--out", str(tmp_path)])
    assert "no CUDA GPU" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
