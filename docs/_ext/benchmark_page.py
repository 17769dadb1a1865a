"""Sphinx extension: the charts of the benchmark page and the speed guide, from the registry.

The tables of the benchmark page, the README and the user guide are rendered by
``benchmarks/tables.py`` into committed files (``docs/_tables/``), which a test compares with
the registry. The charts are pictures, so they are drawn here, at ``builder-inited``, by the same
module's :func:`plot_acc_vs_time` into ``docs/_generated/acc_vs_time.png`` and
:func:`plot_time_to_accuracy` into ``docs/_generated/time_to_accuracy.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def draw_chart(app) -> None:
    """``builder-inited`` handler: draw the charts from ``benchmarks/results/``."""
    sys.path.insert(0, str(BENCHMARKS))
    import tables

    rows = tables.summarize(tables.load_registry())
    generated = Path(app.srcdir) / "_generated"
    tables.plot_acc_vs_time(rows, generated / "acc_vs_time.png")
    tables.plot_time_to_accuracy(tables.load_time_to_accuracy(), generated / "time_to_accuracy.png")


def setup(app):
    app.connect("builder-inited", draw_chart)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
