"""Sphinx configuration of the deepcluster_sk documentation.

Builds offline with warnings as errors (numpydoc validation warnings included)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

What is generated at build time, so the pages always match the repository:

- the examples gallery (sphinx-gallery): every ``examples/**/plot_*.py`` is run, and its
  text, code, output and figures become a page under ``generated/examples/``;
- the command-line reference (sphinx-argparse), from the ``deepcluster-sk`` argument parser;
- the benchmark page's ACC-against-time chart (the local extension
  ``docs/_ext/benchmark_page.py``), from ``benchmarks/results/*.json``; the tables are
  rendered from the same files by ``benchmarks/tables.py`` into ``docs/_tables/``;
- the API pages (autosummary), from the numpydoc docstrings, which numpydoc validates.

The equations are rendered by a MathJax bundled with the build (sphinx-mathjax-offline), so
the pages read the same without a network.
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

# -- Extensions --------------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # copies MathJax 3 into _static/ and points mathjax_path at it
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinxarg.ext",
    "benchmark_page",
]

templates_path = ["_templates"]
# _tables/ holds the tables benchmarks/tables.py renders from the results registry and
# _generated/ the chart the local extension draws; both are pulled into pages, not pages.
exclude_patterns = ["_build", "_generated", "_tables", "Thumbs.db", ".DS_Store"]
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

# Every documented object is validated; a failed check is a warning, so an error under -W.
# The checks left out, and why:
numpydoc_validation_checks = {
    "all",
    # ES01 (no extended summary): a one-line summary is complete for small helpers and
    # properties; requiring a second paragraph invites filler.
    "ES01",
    # EX01 (no Examples section): the estimators, loaders and metrics have doctest examples;
    # methods such as ``predict`` or ``transform`` are shown in the class example and the
    # gallery, and an example on each would repeat it.
    "EX01",
    # RT02 (a named return value): scikit-learn's convention, which these docstrings follow,
    # names what a method returns (``labels : ndarray of shape (n_samples,)``); scikit-learn
    # leaves this check out of its own validation for the same reason.
    "RT02",
    # SA01 (no See Also section): required where it helps, between the estimators, by
    # ``_check_estimators_see_also`` below; on every method and helper it would add links
    # nobody follows.
    "SA01",
}
numpydoc_validation_exclude = {
    # Inherited from scikit-learn (get_params, set_params, fit_predict, fit_transform,
    # set_output): validated by scikit-learn, not ours to change.
    r"\.get_params$",
    r"\.set_params$",
    r"\.fit_transform$",
    r"\.fit_predict$",
    r"\.set_output$",
    # Data, not callables: numpydoc validates the docstring of the value's *type* (``str``,
    # ``int``, a scorer class), not the ``#:`` comment autodoc shows for the attribute.
    r"^deepcluster_sk\.datasets\.MNIST_(URL|SHA256)$",
    r"^deepcluster_sk\.metrics\.(cluster_accuracy|silhouette)_scorer$",
    r"\.inference_batch_size$",
}

# -- The examples gallery (sphinx-gallery) -----------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "generated/examples",  # docs/generated/ is not committed
    "filename_pattern": r"plot_",  # run every plot_*.py
    "subsection_order": ["../examples/estimators", "../examples/workflows"],
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,  # a failing example fails the build
    "download_all_examples": False,
    "remove_config_comments": True,
    "write_computation_times": False,  # no sg_execution_times.rst in the source tree
    "show_signature": False,
    "default_thumb_file": None,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
}

# -- HTML: the theme of scikit-learn's own documentation -------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"deepcluster_sk {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 7,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": [], "install": [], "quickstart": [], "cli": [], "benchmarks": []}
html_static_path = ["_static"]
html_css_files = ["custom.css"]  # a wider article column for code and tables
html_show_sourcelink = False
html_last_updated_fmt = None


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


#: The estimators, each of whose class docstring must point at the other two (See Also).
_ESTIMATORS = ("AEGMM", "ConvAEKMeans", "DVAEClusterer", "IDEC")


def _check_estimators_see_also(app, what, name, obj, options, lines):
    """Warn when an estimator's docstring lacks a See Also section naming the others.

    numpydoc's SA01 check is left out for every other object (see
    ``numpydoc_validation_checks``); between the estimators the section is what tells a
    reader which one to pick, so it is required here.
    """
    short = name.rpartition(".")[2]
    if what != "class" or short not in _ESTIMATORS:
        return
    import inspect

    from numpydoc.docscrape import NumpyDocString

    entries = NumpyDocString(inspect.getdoc(obj) or "")["See Also"]
    see_also = {ref.rpartition(".")[2] for refs, _ in entries for ref, _ in refs}
    missing = [other for other in _ESTIMATORS if other != short and other not in see_also]
    if missing:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "%s: the docstring's See Also section must name %s", name, ", ".join(missing)
        )


def setup(app):
    app.connect("autodoc-process-docstring", _check_estimators_see_also)
    app.connect("autodoc-process-docstring", _escape_shape_names)
    app.connect("autodoc-skip-member", _skip_torch_module_members)
