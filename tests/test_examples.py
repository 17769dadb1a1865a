"""Run every script in ``examples/`` in its fast mode, as a user would, and check its output.

Each script runs in a subprocess (headless matplotlib, one OpenMP thread) with ``--out`` in a
temporary folder; it must exit with status 0, write at least one PNG figure and print its
results table. The fast modes use a 2,000-image MNIST subset when ``mnist.npz`` is found and
fall back to scikit-learn's digits otherwise, so nothing here needs to be skipped.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(p for p in EXAMPLES_DIR.glob("*.py") if not p.name.startswith("_"))

#: Strings each example's stdout must contain (its table header and metric names).
EXPECTED_OUTPUT = {
    "aegmm_choose_n_clusters": ["n_clusters", "BIC", "AIC", "v-measure", "lowest BIC"],
    "pipeline_gridsearch": ["mean ACC", "mean silhouette", "mean log-likelihood", "best:"],
    "plot_aegmm": ["v-measure train", "v-measure test", "AEGMM(dense)", "AEGMM(conv)"],
    "plot_conv_ae_kmeans": ["ARI", "NMI", "silhouette", "ACC", "ConvAEKMeans.paper()"],
    "plot_dvae": ["ACC", "NMI", "paper: DVAE", "similarity_weight=0)"],
    "quickstart_digits": ["ACC", "NMI", "BIC"],
    "tabular_data": ["ACC", "NMI", "ARI", "KMeans", "GaussianMixture", "AEGMM"],
}

#: Seconds one example may take before the test fails (the fast modes take 10-25 s).
TIMEOUT = 300


def test_examples_are_found_and_listed():
    assert EXAMPLES, f"no examples in {EXAMPLES_DIR}"
    assert {p.stem for p in EXAMPLES} == set(EXPECTED_OUTPUT)


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_example_structure(script):
    tree = ast.parse(script.read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree)
    assert docstring and docstring.splitlines()[0].strip(), "needs a docstring with a title line"
    mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
    assert mains and [a.arg for a in mains[0].args.args] == ["argv"], "needs main(argv=None)"
    text = script.read_text(encoding="utf-8")
    for option in ("--out", "--seed"):
        assert f'"{option}"' in text, f"needs the {option} option"


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_fast_mode(script, tmp_path):
    out = tmp_path / "figures"
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(script), "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, (
        f"{script.name} exited with {result.returncode}\n--- stdout\n{result.stdout[-3000:]}"
        f"\n--- stderr\n{result.stderr[-5000:]}"
    )
    assert sorted(out.glob("*.png")), f"{script.name} wrote no PNG into {out}"
    missing = [s for s in EXPECTED_OUTPUT[script.stem] if s not in result.stdout]
    assert not missing, f"{script.name} did not print {missing}:\n{result.stdout}"
