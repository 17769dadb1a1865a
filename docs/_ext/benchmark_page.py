"""Sphinx extension: the benchmark tables and chart, from ``benchmarks/results/*.json``.

At ``builder-inited`` it reads every result file and writes

- ``<generated_dir>/benchmark_tables.rst.inc``: one row per run (estimator, data set,
  samples, seed, tag, device, ACC, NMI, ARI, v-measure, fit time), a summary over seeds, the
  settings of each run, the throughput measurements and the papers' numbers used;
- ``<generated_dir>/benchmarks_vs_papers.png``: grouped bars of our scores against the
  papers' (matplotlib, Agg backend);
- ``<generated_dir>/throughput_precision.rst.inc``: the user guide's table of training
  rates in float32 and bfloat16, from the newest throughput record that compares them.

Nothing is written by hand: a new JSON file appears on the next build. A file that is not
valid JSON is reported as a Sphinx warning (an error under ``-W``); a valid file of an
unknown kind is listed by name only.
"""

from __future__ import annotations

import io
import json
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docgen_io import (
    add_generated_dir_config,
    generated_dir,
    srcdir_path,
    underline,
    write_if_changed,
)
from sphinx.util import logging

logger = logging.getLogger(__name__)

METRICS = (
    ("acc", "ACC"),
    ("nmi", "NMI"),
    ("nmi_max", "NMI (max)"),
    ("ari", "ARI"),
    ("v_measure", "v-measure"),
)
#: Parameters that say how a run was executed rather than what was fitted.
RUN_PARAMS = {"device", "random_state", "verbose"}


# ---------------------------------------------------------------------------------- reading
def load_results(results_dir: Path) -> tuple[list[dict], list[dict], list[str]]:
    """Estimator runs, throughput measurements and names of files of another kind."""
    runs, throughput, other = [], [], []
    for path in sorted(results_dir.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            logger.warning("benchmarks/results/%s is not readable JSON: %s", path.name, exc)
            continue
        if not isinstance(record, dict):
            other.append(path.name)
            continue
        record["_file"] = path.name
        if record.get("benchmark") == "throughput":
            throughput.append(record)
        elif "estimator" in record and isinstance(record.get("metrics"), dict):
            runs.append(record)
        else:
            other.append(path.name)
    runs.sort(
        key=lambda r: (
            r["estimator"],
            str(r.get("dataset")),
            str(r.get("tag") or ""),
            r.get("n_samples") or 0,
            r.get("seed") or 0,
            r["_file"],
        )
    )
    return runs, throughput, other


def scorings(run: dict) -> list[tuple[str, dict]]:
    """(scored-on label, metrics) pairs of a run: the fit data, and held-out data if any."""
    out = [(f"{run.get('dataset')} (fit data)", run["metrics"])]
    if isinstance(run.get("test_metrics"), dict):
        out.append((f"{run.get('eval_dataset', 'held-out')} (held out)", run["test_metrics"]))
    return out


def _normalise(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_normalise(v) for v in value]
    return value


def non_default_params(run: dict) -> dict[str, Any]:
    """Parameters of ``run`` that differ from the estimator's defaults (all, if unknown)."""
    params = {k: v for k, v in (run.get("params") or {}).items() if k not in RUN_PARAMS}
    try:
        import deepcluster_sk

        defaults = getattr(deepcluster_sk, run["estimator"])().get_params()
    except Exception:  # an estimator this version does not know: show every parameter
        return params
    missing = object()
    return {
        k: v for k, v in params.items() if _normalise(defaults.get(k, missing)) != _normalise(v)
    }


# ---------------------------------------------------------------------------------- tables
def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return "—"
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    return str(value)


def cell(text: Any) -> str:
    """Escape a value for a list-table cell (inline literal for identifiers)."""
    s = fmt(text)
    if s == "—" or s.replace(".", "", 1).isdigit():
        return s
    return "``" + s.replace("`", "'") + "``"


def list_table(title: str, header: list[str], rows: list[list[str]], widths: str = "auto") -> str:
    lines = [f".. list-table:: {title}", "   :header-rows: 1", f"   :widths: {widths}", ""]
    for row in [header, *rows]:
        lines.append("   * - " + row[0])
        lines += ["     - " + c for c in row[1:]]
    return "\n".join(lines) + "\n"


def runs_table(runs: list[dict]) -> str:
    header = [
        "#",
        "estimator",
        "dataset",
        "n_samples",
        "seed",
        "tag",
        "device",
        "scored on",
        *[label for _, label in METRICS],
        "fit (s)",
    ]
    rows = []
    for i, run in enumerate(runs, 1):
        for j, (scored_on, metrics) in enumerate(scorings(run)):
            first = j == 0
            rows.append(
                [
                    str(i) if first else "",
                    cell(run["estimator"]) if first else "",
                    cell(run.get("dataset")) if first else "",
                    fmt(run.get("n_samples")) if first else "",
                    fmt(run.get("seed")) if first else "",
                    cell(run.get("tag")) if first else "",
                    cell(run.get("device")) if first else "",
                    scored_on,
                    *[fmt(metrics.get(key)) for key, _ in METRICS],
                    fmt(run.get("fit_seconds"), 0) if first else "",
                ]
            )
    return list_table("Every run (one row per data set it was scored on)", header, rows)


def _mean_std(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1) if len(values) > 1 else 0.0
    return mean, math.sqrt(var)


def summary_table(runs: list[dict]) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for run in runs:
        for scored_on, metrics in scorings(run):
            key = (
                run["estimator"],
                run.get("dataset"),
                run.get("n_samples"),
                run.get("tag") or "",
                run.get("device"),
                scored_on,
                json.dumps(non_default_params(run), sort_keys=True),
            )
            groups[key].append(metrics)
    header = [
        "estimator",
        "dataset",
        "n_samples",
        "tag",
        "device",
        "scored on",
        "runs",
        "ACC mean ± std (min–max)",
        "NMI mean ± std",
    ]
    rows = []
    for (est, data, n, tag, device, scored_on, _params), metrics in groups.items():
        if len(metrics) < 2:  # a single run is already in the table above
            continue
        acc = [m["acc"] for m in metrics if isinstance(m.get("acc"), int | float)]
        nmi = [m["nmi"] for m in metrics if isinstance(m.get("nmi"), int | float)]
        acc_s = "—"
        if acc:
            mean, std = _mean_std(acc)
            acc_s = f"{mean:.3f} ± {std:.3f} ({min(acc):.3f}–{max(acc):.3f})"
        nmi_s = "—"
        if nmi:
            mean, std = _mean_std(nmi)
            nmi_s = f"{mean:.3f} ± {std:.3f}"
        rows.append(
            [
                cell(est),
                cell(data),
                fmt(n),
                cell(tag or None),
                cell(device),
                scored_on,
                str(len(metrics)),
                acc_s,
                nmi_s,
            ]
        )
    if not rows:
        return ""
    return list_table("Mean over seeds of runs with the same settings", header, rows)


def settings_table(runs: list[dict]) -> str:
    header = [
        "#",
        "file",
        "parameters that differ from the defaults",
        "epochs run",
        "s / epoch",
        "samples / s",
        "torch",
        "threads",
        "CPU",
    ]
    rows = []
    for i, run in enumerate(runs, 1):
        params = non_default_params(run)
        text = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(params.items()))
        rows.append(
            [
                str(i),
                cell(run["_file"]),
                cell(text) if text else "(defaults)",
                fmt(run.get("n_epochs_run")),
                fmt(run.get("seconds_per_epoch"), 2),
                fmt(run.get("samples_per_second"), 0),
                cell(run.get("torch_version")),
                fmt(run.get("threads")),
                cell(run.get("cpu")),
            ]
        )
    return list_table("Settings of each run", header, rows)


def throughput_table(records: list[dict]) -> str:
    header = [
        "file",
        "model",
        "n_samples",
        "batch",
        "engine samples / s",
        "engine GFLOP/s",
        "GEMM GFLOP/s",
        "engine / GEMM",
        "speed-up over a plain loop",
        "device",
        "CPU",
        "threads",
    ]
    rows = [
        [
            cell(r["_file"]),
            cell(r.get("model")),
            fmt(r.get("n_samples")),
            fmt(r.get("batch_size")),
            fmt(r.get("engine_samples_per_second"), 0),
            fmt(r.get("engine_gflops"), 1),
            fmt(r.get("gemm_gflops"), 1),
            fmt(r.get("ratio"), 2),
            fmt(r.get("engine_speedup_over_plain_loop"), 2),
            cell(r.get("device")),
            cell(r.get("cpu")),
            fmt(r.get("threads")),
        ]
        for r in records
    ]
    return list_table("Training-engine throughput (benchmarks/throughput.py)", header, rows)


# ---------------------------------------------------------------------------------- papers
@dataclass
class Panel:
    """One comparison: our runs selected by ``match`` against numbers from the papers."""

    title: str
    match: Callable[[dict], bool]
    metrics: list[tuple[str, str]]
    papers: list[tuple[str, dict[str, float]]] = field(default_factory=list)


def _architecture(run: dict) -> str:
    """The network a run trained: ``encoder`` (new runs), else the old ``architecture``.

    ``encoder="auto"`` is the conv network when the run had an ``input_shape``.
    """
    params = run.get("params") or {}
    if "encoder" in params:
        encoder = params["encoder"]
        if encoder == "auto":
            return "conv" if params.get("input_shape") is not None else "dense"
        return "conv" if str(encoder).startswith("conv") else str(encoder)
    return params.get("architecture", "dense")


def _is_mnist(run: dict) -> bool:
    return str(run.get("dataset", "")).startswith("mnist")


PANELS = [
    Panel(
        "ConvAEKMeans on MNIST vs paper 000 (CAE → PCA → k-means, MNIST 70k)",
        lambda r: r["estimator"] == "ConvAEKMeans" and _is_mnist(r),
        [("acc", "ACC"), ("nmi", "NMI"), ("ari", "ARI"), ("silhouette", "silhouette")],
        [("paper 000", {"nmi": 0.5323, "ari": 0.4296, "silhouette": 0.1108})],
    ),
    Panel(
        "AEGMM (dense) on MNIST vs papers 001 and 002",
        lambda r: r["estimator"] == "AEGMM" and _architecture(r) == "dense" and _is_mnist(r),
        [("acc", "ACC"), ("nmi_max", "NMI (max)"), ("v_measure", "v-measure")],
        [
            ("paper 001 AE+GMM, train", {"v_measure": 0.817}),
            ("paper 001 AE+GMM, test", {"v_measure": 0.826}),
            ("paper 002 table, AE+GMM", {"acc": 0.7934, "nmi_max": 0.8141}),
        ],
    ),
    Panel(
        "AEGMM (conv) on MNIST vs paper 001",
        lambda r: r["estimator"] == "AEGMM" and _architecture(r) == "conv" and _is_mnist(r),
        [("acc", "ACC"), ("v_measure", "v-measure")],
        [
            ("paper 001 conv AE+GMM, train", {"v_measure": 0.841}),
            ("paper 001 conv AE+GMM, test", {"v_measure": 0.887}),
        ],
    ),
    Panel(
        "AEGMM on USPS vs paper 002's AE+GMM",
        lambda r: r["estimator"] == "AEGMM" and r.get("dataset") == "usps",
        [("acc", "ACC"), ("nmi_max", "NMI (max)")],
        [("paper 002 table, AE+GMM", {"acc": 0.8416, "nmi_max": 0.7845})],
    ),
    Panel(
        "DVAEClusterer on MNIST vs paper 002",
        lambda r: r["estimator"] == "DVAEClusterer" and _is_mnist(r),
        [("acc", "ACC"), ("nmi_max", "NMI (max)")],
        [("paper 002 DVAE, MNIST 70k", {"acc": 0.9553, "nmi_max": 0.8951})],
    ),
    Panel(
        "DVAEClusterer on USPS vs paper 002",
        lambda r: r["estimator"] == "DVAEClusterer" and r.get("dataset") == "usps",
        [("acc", "ACC"), ("nmi_max", "NMI (max)")],
        [("paper 002 DVAE, USPS", {"acc": 0.9315, "nmi_max": 0.8667})],
    ),
]


def papers_table() -> str:
    """One row per (comparison, source) with the published value of each metric."""
    columns: list[tuple[str, str]] = []
    for panel in PANELS:
        for key, label in panel.metrics:
            if (key, label) not in columns and any(key in v for _, v in panel.papers):
                columns.append((key, label))
    canonical = ["acc", "nmi", "nmi_max", "ari", "v_measure", "silhouette"]
    columns.sort(key=lambda c: canonical.index(c[0]) if c[0] in canonical else len(canonical))
    header = ["comparison", "source", *[label for _, label in columns]]
    rows = [
        [
            panel.title,
            source,
            *[f"{values[key]:.4g}" if key in values else "—" for key, _ in columns],
        ]
        for panel in PANELS
        for source, values in panel.papers
    ]
    return list_table("The papers' numbers used for comparison", header, rows)


def our_series(panel: Panel, runs: list[dict]) -> list[tuple[str, dict[str, list[float]]]]:
    """Our runs for ``panel``, grouped by data set, tag and scoring: metric -> values."""
    groups: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        if not panel.match(run):
            continue
        tag = f", {run['tag']}" if run.get("tag") else ""
        for scored_on, metrics in scorings(run):
            fit_on = f"{run.get('dataset')} n={run.get('n_samples')}{tag}"
            label = f"ours: {fit_on}" + ("" if "fit data" in scored_on else f" → {scored_on}")
            series = groups.setdefault(label, defaultdict(list))
            for key, _ in panel.metrics:
                value = metrics.get(key)
                if isinstance(value, int | float) and math.isfinite(value):
                    series[key].append(float(value))
    return [(label, dict(values)) for label, values in groups.items()]


def render_chart(runs: list[dict]) -> tuple[bytes | None, list[str]]:
    """PNG bytes of the comparison chart (None if no panel has runs) and the panel titles."""
    panels = [(p, s) for p in PANELS if (s := our_series(p, runs))]
    if not panels:
        return None, []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncols = 2 if len(panels) > 1 else 1
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(7.0 * ncols, 4.6 * nrows), squeeze=False, layout="constrained"
    )
    ours_colors = plt.get_cmap("tab10").colors
    paper_styles = [("0.80", "//"), ("0.65", "\\\\"), ("0.90", "xx"), ("0.55", "..")]
    for ax, (panel, series) in zip(axes.flat, panels, strict=False):
        bars = []  # (label, metric -> values, bar style, is_paper)
        for i, (name, values) in enumerate(panel.papers):
            grey, hatch = paper_styles[i % len(paper_styles)]
            style = {"color": grey, "edgecolor": "0.25", "hatch": hatch}
            bars.append((name, {k: [v] for k, v in values.items()}, style, True))
        for i, (name, values) in enumerate(series):
            n_runs = max((len(v) for v in values.values()), default=0)
            label = name if n_runs <= 1 else f"{name} (mean of {n_runs}, min–max)"
            style = {"color": ours_colors[i % 10], "edgecolor": "0.2"}
            bars.append((label, values, style, False))
        slot = 0.84 / max(
            sum(1 for _, values, _, _ in bars if values.get(key)) for key, _ in panel.metrics
        )
        labelled = set()
        for m, (key, _) in enumerate(panel.metrics):
            present = [b for b in bars if b[1].get(key)]
            for j, (label, values, style, is_paper) in enumerate(present):
                vals = values[key]
                mean = sum(vals) / len(vals)
                x = m + (j - (len(present) - 1) / 2) * slot
                ax.bar(x, mean, slot * 0.92, label=None if label in labelled else label, **style)
                labelled.add(label)
                top = mean
                if not is_paper and len(vals) > 1:
                    lo, hi = mean - min(vals), max(vals) - mean
                    ax.errorbar(x, mean, yerr=[[lo], [hi]], fmt="none", ecolor="k", capsize=3, lw=1)
                    top = max(vals)
                ax.text(x, top + 0.015, f"{mean:.2f}", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(range(len(panel.metrics)), [label for _, label in panel.metrics])
        ax.set_xlim(-0.5, len(panel.metrics) - 0.5)
        ax.set_ylim(0, 1.08)
        ax.set_title(panel.title, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        handles, labels = ax.get_legend_handles_labels()
        order = {label: i for i, (label, *_rest) in enumerate(bars)}
        pairs = sorted(zip(handles, labels, strict=True), key=lambda hl: order[hl[1]])
        ax.legend(
            *zip(*pairs, strict=True),
            fontsize=7,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.08),
            ncols=2,
            frameon=False,
        )
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue(), [p.title for p, _ in panels]


# ---------------------------------------------------------------------------------- precision
#: How the speed table names the networks ``benchmarks/throughput.py`` trains (AEGMM's).
NETWORKS = {"dense": "dense d-500-500-2000-10", "conv": "conv (32, 64, 128)"}


def _thousands(value: float) -> str:
    return f"{value:,.0f}"


def precision_speed_section(records: list[dict]) -> str:
    """What bfloat16 buys, from the newest throughput record that compares precisions.

    Written to ``throughput_precision.rst.inc`` for the user guide's speed page, so its
    table and its GEMM rates are those of a result file, never typed by hand.
    """
    comparing = [r for r in records if isinstance(r.get("rows"), list) and r["rows"]]
    if not comparing:
        return "*No throughput result compares the precisions yet.*\n"
    record = max(comparing, key=lambda r: r["_file"])
    rows = record["rows"]
    flags = []
    if record.get("cpu_avx512_bf16") is not None:
        flags.append("with AVX-512-BF16" if record["cpu_avx512_bf16"] else "without AVX-512-BF16")
    if record.get("cpu_amx_bf16") is not None:
        flags.append("with AMX" if record["cpu_amx_bf16"] else "no AMX")
    machine = f"a {record.get('cpu_count')}-core {record.get('cpu')}" + (
        " " + " and ".join(flags) if flags else ""
    )
    intro = (
        f"From ``benchmarks/results/{record['_file']}``: {machine} "
        f"(torch {record.get('torch_version')}, {record.get('threads')} threads), "
        f"{record.get('n_samples'):,} MNIST images, {record.get('epochs')} epochs, the median "
        "of the epochs after the first.\n\n"
    )
    by_config: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for row in rows:
        by_config[row["encoder"], row["batch_size"]][row["precision"]] = row
    table_rows = []
    for (encoder, batch), precisions in by_config.items():
        f32, bf16 = precisions.get("float32"), precisions.get("bfloat16")
        if f32 is None or bf16 is None:
            continue
        table_rows.append(
            [
                f"{NETWORKS.get(encoder, encoder)}, {batch}",
                _thousands(f32["samples_per_second"]),
                _thousands(bf16["samples_per_second"]),
                f"{bf16['speedup_over_float32']:.2f}x",
            ]
        )
    header = ["network, batch size", "float32, samples/s", "bfloat16, samples/s", "speed-up"]
    text = intro + list_table("Training rate by precision", header, table_rows)
    gemm = record.get("gemm_gflops") or {}
    sentences = []
    if "float32" in gemm and "bfloat16" in gemm:
        sentences.append(
            f"The float32 GEMM rate there was {gemm['float32']:.0f} GFLOP/s and the bfloat16 "
            f"rate {gemm['bfloat16']:.0f} GFLOP/s."
        )
    dense = by_config.get(("dense", 256), {}).get("float32")
    if dense and dense.get("ratio_to_gemm") is not None:
        sentence = (
            "The engine trains the dense network (batch 256) in float32 at "
            f"{dense['ratio_to_gemm']:.2f} of the GEMM rate (the rest is the optimizer, the "
            "activations and memory traffic)"
        )
        if record.get("engine_speedup_over_plain_loop") is not None:
            sentence += (
                f", {record['engine_speedup_over_plain_loop']:.2f}x the rate of a textbook "
                "``DataLoader`` loop"
            )
        sentences.append(sentence + ".")
    if sentences:
        text += "\n" + " ".join(sentences) + "\n"
    return text


# ---------------------------------------------------------------------------------- page
def build_benchmark_page(app) -> None:
    """``builder-inited`` handler: write the tables and the chart."""
    results_dir = (Path(app.srcdir) / app.config.benchmark_results_dir).resolve()
    out_dir = generated_dir(app)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs, throughput, other = load_results(results_dir) if results_dir.is_dir() else ([], [], [])
    parts: list[str] = []
    png, titles = render_chart(runs)
    chart = out_dir / "benchmarks_vs_papers.png"
    parts.append(underline("Our scores against the papers", "-"))
    if png is not None:
        if not chart.exists() or chart.read_bytes() != png:
            chart.write_bytes(png)
        parts.append(
            "Hatched grey bars are the papers' numbers, coloured bars our runs (the mean over "
            "seeds with min–max whiskers where there are several). Comparisons: "
            + "; ".join(titles)
            + ".\n\n"
            f".. figure:: {srcdir_path(app, chart)}\n"
            "   :alt: bar chart of our clustering scores against the papers' numbers\n"
            "   :width: 100%\n\n"
            "   Our ACC / NMI (and the papers' other metrics) against the published numbers.\n"
        )
    else:
        parts.append("*No benchmark run matches a paper comparison yet.*\n")
    parts.append(papers_table())
    parts.append(underline("Every run", "-"))
    if runs:
        parts += [runs_table(runs), summary_table(runs), settings_table(runs)]
    else:
        parts.append("*No result files in* ``benchmarks/results/`` *yet.*\n")
    if throughput:
        parts += [underline("Throughput of the training engine", "-"), throughput_table(throughput)]
    if other:
        parts.append(
            "Other result files (not shown above): "
            + ", ".join(f"``{name}``" for name in other)
            + ".\n"
        )
    write_if_changed(out_dir / "benchmark_tables.rst.inc", "\n".join(parts))
    write_if_changed(out_dir / "throughput_precision.rst.inc", precision_speed_section(throughput))


def setup(app):
    app.add_config_value("benchmark_results_dir", "../benchmarks/results", "env")
    add_generated_dir_config(app)
    app.connect("builder-inited", build_benchmark_page)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
