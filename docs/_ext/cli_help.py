"""Sphinx extension: the ``--help`` text of ``deepcluster-sk`` and of each subcommand.

Written at ``builder-inited`` to ``<generated_dir>/cli_help.rst.inc`` (included by
``cli.rst``) from the argument parser itself, so the page lists exactly the options the
installed command accepts.
"""

from __future__ import annotations

import argparse
import os

from docgen_io import add_generated_dir_config, generated_dir, indent, underline, write_if_changed
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser | None:
    from deepcluster_sk import cli

    for name in ("build_parser", "_build_parser", "make_parser", "get_parser"):
        factory = getattr(cli, name, None)
        if callable(factory):
            return factory()
    return None


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def help_text(parser: argparse.ArgumentParser) -> str:
    """``parser.format_help()`` at a fixed width, whatever the terminal."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "90"
    try:
        return parser.format_help().rstrip()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def build_cli_help(app) -> None:
    """``builder-inited`` handler: write the help texts."""
    try:
        parser = _parser()
    except Exception as exc:  # any import or construction failure is reported
        logger.warning("cli_help: cannot build the deepcluster-sk argument parser: %s", exc)
        parser = None
    if parser is None:
        logger.warning("cli_help: deepcluster_sk.cli has no parser factory (build_parser)")
        text = "*The command-line help could not be generated.*\n"
    else:
        parser.prog = "deepcluster-sk"
        parts = [underline("deepcluster-sk", "~"), "::", "", indent(help_text(parser)), ""]
        for name, sub in _subcommands(parser).items():
            sub.prog = f"deepcluster-sk {name}"
            title = underline(f"deepcluster-sk {name}", "~")
            parts += [title, "::", "", indent(help_text(sub)), ""]
        text = "\n".join(parts) + "\n"
    write_if_changed(generated_dir(app) / "cli_help.rst.inc", text)


def setup(app):
    add_generated_dir_config(app)
    app.connect("builder-inited", build_cli_help)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
