"""Sphinx extension: the benchmark page's ACC-against-time chart, from the results registry.

The tables of the benchmark page, the README and the user guide are rendered by
``benchmarks/tables.py`` into committed files (``docs/_tables/``), which a test compares with
the registry. The chart is a picture, so it is drawn here, at ``builder-inited``, by the same
module's :func:`plot_acc_vs_time` into ``docs/_generated/acc_vs_time.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def draw_chart(app) -> None:
    """``builder-inited`` handler: draw the chart from ``benchmarks/results/``."""
    sys.path.insert(0, str(BENCHMARKS))
    import tables

    rows = tables.summarize(tables.load_registry())
    tables.plot_acc_vs_time(rows, Path(app.srcdir) / "_generated" / "acc_vs_time.png")


def setup(app):
    app.connect("builder-inited", draw_chart)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
