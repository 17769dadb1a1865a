"""The examples gallery: every ``examples/**/plot_*.py`` is a sphinx-gallery script that runs.

The documentation build runs each script through sphinx-gallery; here each one runs as a
user would (``python examples/.../plot_x.py``: a subprocess, headless matplotlib, one
OpenMP thread) in its fast default mode. It must exit with status 0, print its results and
leave its figures open for the gallery to collect. The structure checks keep the scripts
in the gallery's format (a reST title, ``# %%`` cells) and inside the repository (no data
files from elsewhere; the paper-scale runs are opt-in with ``--full``).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests._helpers import ROOT

EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.rglob("plot_*.py"))

#: Strings each example's output must contain, and the figures it must leave open.
EXPECTED = {
    "plot_quickstart_digits": (["ACC", "NMI", "rows assigned with posterior > 0.9:"], 1),
    "estimators/plot_aegmm": (
        ["v-measure train", "v-measure test", "AEGMM(encoder='dense')", "AEGMM(encoder='conv')"],
        8,
    ),
    "estimators/plot_conv_ae_kmeans": (
        ["ARI", "NMI", "silhouette", "ACC", "ConvAEKMeans.paper()", "paper (table I)"],
        4,
    ),
    "estimators/plot_dvae": (["ACC", "NMI", "paper: DVAE", "similarity_weight=0"], 4),
    "workflows/plot_choose_n_clusters": (["candidates: 2 to", "n_clusters_: ", "ACC"], 1),
    "workflows/plot_pipeline_gridsearch": (
        ["mean ACC", "mean silhouette", "mean log-likelihood", "best:"],
        1,
    ),
    "workflows/plot_tabular_data": (["ACC", "NMI", "ARI", "KMeans", "GaussianMixture"], 2),
}

#: Seconds one example may take before the test fails (the fast modes take 5-20 s).
TIMEOUT = 300

#: Runs a script as ``python script`` would, then reports how many figures it left open.
_RUNNER = """
import runpy, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
print("OPEN FIGURES", len(plt.get_fignums()))
"""


def _name(script: Path) -> str:
    return script.relative_to(EXAMPLES_DIR).with_suffix("").as_posix()


def test_examples_are_found_and_listed():
    assert EXAMPLES, f"no examples in {EXAMPLES_DIR}"
    assert {_name(p) for p in EXAMPLES} == set(EXPECTED)


def test_every_gallery_folder_has_a_header():
    folders = {p.parent for p in EXAMPLES} | {EXAMPLES_DIR}
    for folder in folders:
        assert (folder / "GALLERY_HEADER.rst").is_file(), f"{folder} needs GALLERY_HEADER.rst"


@pytest.mark.parametrize("script", EXAMPLES, ids=_name)
def test_example_structure(script):
    text = script.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(text), clean=False)
    assert docstring, "needs a module docstring"
    lines = docstring.strip("\n").splitlines()
    # a reST title: a line, then an underline of "=" at least as long
    assert len(lines) >= 2 and re.fullmatch(r"=+", lines[1]), "docstring must open with a title"
    assert len(lines[1]) >= len(lines[0]), "the title's underline is too short"
    assert text.count("# %%") >= 2, "needs sphinx-gallery cells (# %%)"
    # opt-in heavy runs, nothing read from outside the repository
    assert "argparse" not in text and "def main(" not in text, "a gallery script, not a CLI"
    assert "../" not in text and "shared/" not in text, "reads files outside the repository"
    if "load_mnist" in text or "load_usps" in text:
        assert '"--full" in sys.argv[1:]' in text, "data downloads only with --full"


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=_name)
def test_example_runs_fast_mode(script, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(script)],
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
    strings, n_figures = EXPECTED[_name(script)]
    missing = [s for s in strings if s not in result.stdout]
    assert not missing, f"{script.name} did not print {missing}:\n{result.stdout}"
    opened = int(re.search(r"OPEN FIGURES (\d+)", result.stdout).group(1))
    assert opened >= n_figures, f"{script.name} left {opened} figures, expected {n_figures}"
    assert not list(tmp_path.iterdir()), "examples write no files"
