"""Sphinx extension: write the examples gallery from ``examples/*.py`` at build time.

For every script it emits a section with the first line of the module docstring as title,
the rest of the docstring, the command that runs it, the script itself
(``literalinclude``), the PNG figures found under ``<gallery_figures_dir>/<stem>/`` and,
when present, the captured standard output ``output.txt``. The figures are made by
``docs/generate_figures.py``; a script without figures simply gets none, so a missing figure
never breaks the build.

The result goes to ``<generated_dir>/examples_gallery.rst.inc``, included by
``examples.rst``.
"""

from __future__ import annotations

import ast
import io
from pathlib import Path

from docgen_io import (
    add_generated_dir_config,
    generated_dir,
    indent,
    srcdir_path,
    underline,
    write_if_changed,
)
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Scripts listed first, in this order; any other script follows in alphabetical order.
ORDER = (
    "quickstart_digits",
    "plot_conv_ae_kmeans",
    "plot_aegmm",
    "plot_dvae",
    "aegmm_choose_n_clusters",
    "pipeline_gridsearch",
    "tabular_data",
)

# Harmless in a plain docutils parse: Sphinx's roles are unknown there but fine in the build.
_IGNORED_MESSAGES = ("Unknown interpreted text role", 'No role entry for "')


def ordered_scripts(examples_dir: Path) -> list[Path]:
    """The example scripts, ``ORDER`` first, then the rest alphabetically."""
    scripts = {p.stem: p for p in examples_dir.glob("*.py") if not p.name.startswith("_")}
    first = [scripts.pop(stem) for stem in ORDER if stem in scripts]
    return first + [scripts[stem] for stem in sorted(scripts)]


def split_docstring(source: str) -> tuple[str | None, str]:
    """The module docstring's first paragraph (joined into one line) and the rest."""
    try:
        doc = ast.get_docstring(ast.parse(source))
    except SyntaxError:
        return None, ""
    if not doc:
        return None, ""
    paragraphs = doc.strip().split("\n\n", 1)
    title = " ".join(line.strip() for line in paragraphs[0].splitlines())
    body = paragraphs[1].strip() if len(paragraphs) > 1 else ""
    return title, body


def is_clean_rst(text: str) -> bool:
    """Whether ``text`` parses as reST without warnings and without section titles."""
    from docutils import nodes
    from docutils.core import publish_doctree

    try:
        tree = publish_doctree(
            text,
            settings_overrides={
                "report_level": 5,
                "halt_level": 5,
                "warning_stream": io.StringIO(),
                "file_insertion_enabled": False,
                "raw_enabled": False,
                "doctitle_xform": False,
            },
        )
    except Exception:  # any parse failure: show the text verbatim
        return False
    if any(True for _ in tree.findall(nodes.section)):
        return False
    for msg in tree.findall(nodes.system_message):
        if msg["level"] >= 2 and not any(s in msg.astext() for s in _IGNORED_MESSAGES):
            return False
    return True


def escape_title(title: str) -> str:
    """Make a docstring line safe as a section title (no inline markup surprises)."""
    title = title.replace("\\", "\\\\").replace("*", "\\*").replace("|", "\\|")
    return title.rstrip(":. ")


def figures_of(figures_dir: Path, stem: str) -> list[Path]:
    folder = figures_dir / stem
    return sorted(folder.glob("*.png")) if folder.is_dir() else []


def section_for(app, script: Path, figures_dir: Path) -> str:
    """The reST of one gallery entry."""
    source = script.read_text(encoding="utf-8")
    title, body = split_docstring(source)
    stem = script.stem
    if not title:
        logger.warning("examples/%s has no module docstring; titled by its name", script.name)
        title = stem
    out = [f".. _example-{stem.replace('_', '-')}:", "", underline(escape_title(title), "-")]
    if body:
        if is_clean_rst(body):
            out += [body, ""]
        else:
            out += ["::", "", indent(body), ""]
    command = f"python examples/{script.name}"
    if command not in body:  # most docstrings already show how to run the script
        out += [
            "Run it from the repository root:",
            "",
            ".. code-block:: bash",
            "",
            f"   {command}",
            "",
        ]
    figures = figures_of(figures_dir, stem)
    if figures:
        out += ["**Figures** (fast mode, made by ``docs/generate_figures.py``):", ""]
        for fig in figures:
            caption = fig.stem.replace("_", " ")
            out += [
                f".. figure:: {srcdir_path(app, fig)}",
                f"   :alt: {caption}",
                "   :width: 640px",
                "",
                f"   {caption}",
                "",
            ]
    output = figures_dir / stem / "output.txt"
    if output.is_file() and output.read_text(encoding="utf-8").strip():
        out += [
            "**Output**:",
            "",
            f".. literalinclude:: {srcdir_path(app, output)}",
            "   :language: text",
            "",
        ]
    script_rel = srcdir_path(app, script)
    out += [
        f".. literalinclude:: {script_rel}",
        "   :language: python",
        f"   :caption: examples/{script.name}",
        "",
    ]
    return "\n".join(out) + "\n"


def build_gallery(app) -> None:
    """``builder-inited`` handler: write the gallery include file."""
    examples_dir = (Path(app.srcdir) / app.config.gallery_examples_dir).resolve()
    figures_dir = (Path(app.srcdir) / app.config.gallery_figures_dir).resolve()
    target = generated_dir(app) / "examples_gallery.rst.inc"
    scripts = ordered_scripts(examples_dir) if examples_dir.is_dir() else []
    if not scripts:
        text = "*No example scripts were found in* ``examples/``.\n"
    else:
        index = ["The examples on this page:", ""]
        index += [f"- :ref:`example-{s.stem.replace('_', '-')}`" for s in scripts]
        text = (
            "\n".join(index) + "\n\n" + "\n".join(section_for(app, s, figures_dir) for s in scripts)
        )
    write_if_changed(target, text)


def setup(app):
    app.add_config_value("gallery_examples_dir", "../examples", "env")
    app.add_config_value("gallery_figures_dir", "_static/examples", "env")
    add_generated_dir_config(app)
    app.connect("builder-inited", build_gallery)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
