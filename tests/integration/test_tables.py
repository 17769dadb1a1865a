"""The results registry and the tables rendered from it (benchmarks/tables.py).

The README's results table, the benchmark page and the user guide's tables are generated;
these tests fail when a committed copy differs from what the registry renders, when a
registry file is not a run of the defaults or lacks its commit, and they check that a run
measured under other defaults is marked stale rather than hidden.
"""

from __future__ import annotations

import copy
import json
import re
import sys

import pytest

from tests._helpers import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))  # benchmarks/ is a folder of scripts
import tables


@pytest.fixture(scope="module")
def registry():
    return tables.load_registry()


def test_committed_tables_are_what_the_registry_renders():
    stale = [
        str(path.relative_to(ROOT))
        for path, text in tables.rendered().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"{stale} differ from benchmarks/results/: run python benchmarks/tables.py"


def test_every_registry_file_is_a_run_of_the_defaults_with_its_commit(registry):
    assert tables.registry_problems(registry) == []
    # A curated registry: the panel (4 estimators x 7 data sets x 5 seeds), its baselines and
    # the MNIST-70k rows; no probes or ablations.
    assert 0 < len(list(tables.RESULTS.glob("*.json"))) < 200


def test_auto_k_registry_holds_default_runs_with_their_chosen_count_and_curve():
    runs = tables.load_registry(tables.AUTO_K_RESULTS)
    assert runs, "benchmarks/results/n_clusters_auto/ is empty"
    assert tables.auto_k_problems(runs) == []
    for run in runs:
        counts, scores = run["n_clusters_candidates"], run["n_clusters_scores"]
        assert counts[scores.index(max(scores))] == run["n_clusters_chosen"], run["_file"]
        assert len(run["cluster_sizes"]) == run["n_clusters_chosen"]
    assert "n_clusters_auto.rst" in {p.name for p in tables.rendered()}


def test_registry_holds_one_file_per_estimator_data_set_and_seed(registry):
    keys = [(r["estimator"], r["dataset"], r["seed"]) for r in registry if "benchmark" not in r]
    assert len(keys) == len(set(keys))


def _a_run(registry, estimator="AEGMM"):
    return copy.deepcopy(next(r for r in registry if r.get("estimator") == estimator))


def test_a_run_under_other_defaults_is_marked_stale_and_named(registry):
    run = _a_run(registry)
    fresh = tables.summarize([run])[(run["estimator"], run["dataset"])]
    assert not fresh.stale
    run["private_settings"]["_auto_min_batches"] = 7  # the default changed after this run
    rows = tables.summarize([run])
    row = rows[(run["estimator"], run["dataset"])]
    assert "_auto_min_batches" in row.stale
    assert tables.STALE_MARK in tables.readme_table(rows)
    page = tables.benchmark_page(rows, [])
    assert "_auto_min_batches" in page and tables.STALE_MARK in page
    # A public parameter counts as well, and a setting the run did not know of.
    other = _a_run(registry)
    other["params"]["gmm_n_init"] = 1
    del other["private_settings"]["_auto_min_batches"]
    row = tables.summarize([other])[(other["estimator"], other["dataset"])]
    assert {"gmm_n_init", "_auto_min_batches"} <= set(row.stale)


def test_an_epoch_count_is_stale_only_where_auto_resolves_to_another(registry):
    run = _a_run(registry)
    defaults = tables.current_defaults(run["estimator"])
    assert defaults["params"]["n_epochs"] == "auto"
    # An integer count that "auto" gives on the run's rows is the default; "auto" itself too.
    for recorded, n_samples, stale in [
        (50, 10_000, False),
        ("auto", 70_000, False),
        (50, 70_000, True),
        (10, 70_000, False),
        (49, 10_000, True),
    ]:
        case = {**run, "n_samples": n_samples, "params": {**run["params"], "n_epochs": recorded}}
        assert ("n_epochs" in tables.differences(case, defaults)) is stale, (recorded, n_samples)


def test_a_run_with_chosen_parameters_does_not_belong_in_the_registry(registry):
    run = _a_run(registry)
    run["param_overrides"] = {"n_epochs": 5, "random_state": 3}
    (problem,) = tables.registry_problems([run])
    assert "not a run of the defaults" in problem and "n_epochs" in problem
    run = _a_run(registry)
    run["commit"] = None
    assert "no commit hash" in tables.registry_problems([run])[0]


def test_a_changed_registry_changes_the_rendered_readme(registry, tmp_path):
    for record in registry:
        record = {k: v for k, v in record.items() if k != "_file"}
        name = (
            f"{record.get('estimator', 'throughput')}_{record.get('dataset')}_{record.get('seed')}"
        )
        if record.get("estimator") == "KMeans" and record.get("dataset") == "digits":
            record["metrics"]["acc"] = 0.123  # a regression, or a hand edit of the table
        (tmp_path / f"{name}.json").write_text(json.dumps(record))
    readme = tables.README.read_text(encoding="utf-8")
    assert tables.rendered(tmp_path)[tables.README] != readme


def test_summary_statistics_of_a_row():
    runs = [
        {
            "estimator": "KMeans",
            "dataset": "digits",
            "seed": s,
            "metrics": {"acc": a, "nmi": 0.5},
            "fit_seconds": t,
            "params": {},
            "private_settings": {},
            "cpu": "X",
            "cpu_count": 2,
        }
        for s, a, t in [(0, 0.7, 1.0), (1, 0.8, 3.0), (2, 0.9, 2.0)]
    ]
    row = tables.Row("KMeans", "digits", runs)
    mean, sd = row.mean_sd("acc")
    assert mean == pytest.approx(0.8) and sd == pytest.approx(0.1)
    cells = tables._detail_cells(row)
    assert cells[1] == "0.700"  # the worst seed
    assert cells[3] == "2.0 s"  # the median time
    assert cells[5] == "0-2"


def test_readme_without_markers_is_a_clear_error():
    with pytest.raises(ValueError, match="lacks the markers"):
        tables.replace_block("# a README without a results table\n", "| table |\n")


# ----------------------------------------------------------------- prose: present tense, no figures
def _prose_files():
    files = [ROOT / "README.md"]
    files += [
        p
        for p in (ROOT / "docs").rglob("*.rst")
        if not {"_build", "_tables", "_generated", "generated"}
        & set(p.relative_to(ROOT / "docs").parts)
    ]
    files += sorted((ROOT / "examples").rglob("*.py"))
    files += sorted((ROOT / "src" / "deepcluster_sk").rglob("*.py"))
    return files


def _prose(text: str) -> str:
    """``text`` without the README's generated block and without doctests and their output."""
    if tables.README_START in text:
        head, rest = text.split(tables.README_START, 1)
        text = head + rest.split(tables.README_END, 1)[1]
    kept, in_doctest = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith((">>>", "...")):
            in_doctest = True
        elif not (in_doctest and stripped):
            in_doctest = False
            kept.append(line)
    return "\n".join(kept)


HISTORY = re.compile(
    r"version before|versions? back|earlier versions?|session \d+|\bprobe_\w+|issue \d+",
    re.IGNORECASE,
)
#: A score typed by hand (0.300-0.9999): scores come from the registry through the tables.
#: A line that names a paper may quote that paper's published number.
SCORE = re.compile(r"^(?!.*paper).*?(?<![\w.])(0\.[3-9]\d{2,3})(?![\w.])", re.I | re.M)


@pytest.mark.parametrize("path", _prose_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_prose_holds_no_history_and_no_hand_typed_scores(path):
    text = _prose(path.read_text(encoding="utf-8"))
    assert not HISTORY.findall(text), "history belongs to git, not to the docs"
    assert not SCORE.findall(text), "scores are rendered from benchmarks/results/ by tables.py"


def test_panel_reports_each_estimator_margin_over_the_better_baseline():
    def row(method, data, accs):
        runs = [
            {
                "estimator": method,
                "dataset": data,
                "seed": s,
                "metrics": {"acc": a, "nmi": a},
                "fit_seconds": 1.0,
                "params": {},
                "private_settings": {},
            }
            for s, a in enumerate(accs)
        ]
        return tables.Row(method, data, runs)

    rows = {
        ("AEGMM", "wine"): row("AEGMM", "wine", [0.90, 0.92]),
        ("KMeans", "wine"): row("KMeans", "wine", [0.95, 0.97]),
        ("GaussianMixture", "wine"): row("GaussianMixture", "wine", [0.80, 0.80]),
        ("AEGMM", "orl"): row("AEGMM", "orl", [0.60, 0.60]),
        ("KMeans", "orl"): row("KMeans", "orl", [0.50, 0.50]),
    }
    gaps = tables.margins(rows, ["wine", "orl"])
    assert gaps["AEGMM"]["wine"] == pytest.approx(-0.05)  # against k-means, the better one
    assert gaps["AEGMM"]["orl"] == pytest.approx(0.10)
    for markdown in (False, True):
        assert "-0.050 (wine)" in tables.panel_table(rows, ["wine", "orl"], markdown=markdown)


def test_accuracy_time_chart_draws_every_method_of_the_registry(registry, tmp_path):
    """The chart of the benchmark page (drawn at docs build time) takes every estimator and
    baseline the registry holds."""
    path = tmp_path / "acc_vs_time.png"
    tables.plot_acc_vs_time(tables.summarize(registry), path)
    assert path.stat().st_size > 0


def test_time_to_accuracy_points_are_the_script_s_points_with_their_commits():
    """Every committed point of a curve names a point of ``time_to_accuracy.py`` and ran
    with exactly its parameters; each curve takes the registry's run of the defaults."""
    import time_to_accuracy

    runs = tables.load_registry(tables.TTA_RESULTS)
    assert tables.time_to_accuracy_problems(runs) == []
    for run in runs:
        point = time_to_accuracy.POINTS[run["estimator"]][run["tag"]]
        assert run["param_overrides"] == point, run["_file"]
    points = tables.load_time_to_accuracy()
    curves = {(r["estimator"], r["dataset"], r["seed"]) for r in runs}
    with_defaults = {
        (r["estimator"], r["dataset"], r["seed"]) for r in points if r["_point"] == "defaults"
    }
    assert with_defaults <= curves


def test_time_to_accuracy_script_sends_the_defaults_to_the_registry(tmp_path):
    import time_to_accuracy

    curves = tmp_path / "curves"
    cmd = time_to_accuracy.command("AEGMM", "mnist", "defaults", 1, None, tmp_path, curves)
    assert "--params" not in cmd and cmd[cmd.index("--out") + 1] == str(tmp_path)
    cmd = time_to_accuracy.command("AEGMM", "mnist", "e10-st4", 1, "DIR", tmp_path, curves)
    assert json.loads(cmd[cmd.index("--params") + 1]) == {"n_epochs": 10, "self_training": 4}
    assert cmd[cmd.index("--tag") + 1] == "e10-st4"
    assert cmd[cmd.index("--out") + 1] == str(curves)
    assert cmd[cmd.index("--data") + 1] == "DIR"


def test_time_to_accuracy_table_and_chart_from_points(registry, tmp_path):
    run = _a_run(registry)
    fast = {**copy.deepcopy(run), "_point": "fast", "fit_seconds": 1.0}
    fast["param_overrides"] = {"n_epochs": 1}
    fast["metrics"]["acc"] = 0.5
    slow = {**copy.deepcopy(run), "_point": "defaults", "fit_seconds": 100.0}
    text = tables.time_to_accuracy_table([slow, fast])
    assert text.index("fast") < text.index("defaults")  # in order of fit time
    assert "``n_epochs=1``" in text and "0.5000" in text
    path = tmp_path / "tta.png"
    tables.plot_time_to_accuracy([slow, fast], path)
    assert path.stat().st_size > 0
    bad = {k: v for k, v in fast.items() if k != "tag"}
    bad["param_overrides"] = {}
    problems = tables.time_to_accuracy_problems([bad])
    assert any("no point name" in p for p in problems)
    assert any("belongs to the registry" in p for p in problems)
