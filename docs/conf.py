"""Sphinx configuration of the deepcluster_sk documentation.

Builds offline with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Three local extensions in ``docs/_ext/`` write reStructuredText (and one figure) into
``docs/_generated/`` when the build starts, so those pages always match the repository:

- ``gallery``: the examples page, from ``examples/*.py`` and whatever figures
  ``docs/generate_figures.py`` left under ``docs/_static/examples/<stem>/``;
- ``benchmark_page``: the tables and the bar chart, from ``benchmarks/results/*.json``;
- ``cli_help``: the ``--help`` text of every ``deepcluster-sk`` subcommand.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
# The package is normally installed (pip install -e ".[docs]"); this makes a plain checkout
# build too.
sys.path.insert(0, str(ROOT / "src"))

import deepcluster_sk  # noqa: E402

# -- Project -----------------------------------------------------------------------------------
project = "deepcluster_sk"
author = "deepcluster_sk developers"
copyright = "deepcluster_sk developers, BSD-3-Clause"
version = release = deepcluster_sk.__version__

# -- Extensions: Sphinx's own, numpydoc, and the local generators ------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "numpydoc",
    "gallery",
    "benchmark_page",
    "cli_help",
]

templates_path = ["_templates"]
# _generated/ holds the include files the local extensions write; they are pulled in by
# ``.. include::`` and are not pages of their own.
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
language = "en"
default_role = "literal"
pygments_style = "sphinx"

# -- autodoc / autosummary / numpydoc ---------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "groupwise"}
autodoc_typehints = "none"  # the numpydoc docstrings carry the types
autodoc_inherit_docstrings = True
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# -- HTML: the theme that ships with Sphinx ---------------------------------------------------
html_theme = "alabaster"
html_title = f"deepcluster_sk {release}"
html_theme_options = {
    "description": "Deep clustering estimators for scikit-learn, on PyTorch",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
    "show_relbars": True,
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
html_static_path: list[str] = []
html_show_sourcelink = False
html_last_updated_fmt = None

# -- Local generators -------------------------------------------------------------------------
gallery_examples_dir = str(ROOT / "examples")
gallery_figures_dir = str(DOCS / "_static" / "examples")
benchmark_results_dir = str(ROOT / "benchmarks" / "results")
generated_dir = str(DOCS / "_generated")


# -- Docstring touch-up -----------------------------------------------------------------------
import re  # noqa: E402

_SHAPE = re.compile(r"of shape \(([^()]*)\)")
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\\])\b([A-Za-z]\w*?)_(?=[,)\s]|$)")


def _escape_shape_names(app, what, name, obj, options, lines):
    """Escape fitted-attribute names in array shapes: ``(n_samples, n_features_in_)``.

    scikit-learn's convention writes shapes with fitted attributes; in reST a word ending in
    ``_`` is a hyperlink reference, so ``n_features_in_`` would be an unknown target.
    """

    def fix(match):
        return "of shape (" + _TRAILING_UNDERSCORE.sub(r"\1\\_", match.group(1)) + ")"

    for i, line in enumerate(lines):
        if "of shape (" in line:
            lines[i] = _SHAPE.sub(fix, line)


import torch  # noqa: E402

_MISSING = object()
#: Every name a torch module inherits from ``torch.nn.Module`` (methods, class attributes and
#: annotation-only attributes such as ``training``).
_TORCH_MODULE_NAMES = frozenset(dir(torch.nn.Module)) | frozenset(
    getattr(torch.nn.Module, "__annotations__", {})
)


def _skip_torch_module_members(app, what, name, obj, skip, options):
    """Leave out what the ``deepcluster_sk.nn`` classes inherit from ``torch.nn.Module``.

    The class template documents inherited members (so the estimators show ``fit_predict``,
    ``get_params``, ...); for torch modules that would be the fifty-odd public members of
    ``torch.nn.Module``, which PyTorch documents itself. A method the class overrides
    (``forward``) is kept, since it is not the object ``torch.nn.Module`` holds.
    """
    if what not in ("class", "exception") or name not in _TORCH_MODULE_NAMES:
        return None
    inherited = getattr(torch.nn.Module, name, _MISSING)
    if inherited is _MISSING or obj is inherited:
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _escape_shape_names)
    app.connect("autodoc-skip-member", _skip_torch_module_members)
