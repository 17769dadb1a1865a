"""Small helpers of the local documentation generator (``benchmark_page``)."""

from __future__ import annotations

from pathlib import Path


def write_if_changed(path: str | Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds exactly that; return True if written.

    Leaving unchanged files alone keeps their modification time, so Sphinx does not re-read
    the pages that include them.
    """
    path = Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def underline(title: str, char: str) -> str:
    """``title`` followed by a reST underline of ``char`` of the right length."""
    return f"{title}\n{char * max(len(title), 3)}\n"


def generated_dir(app) -> Path:
    """Folder of the generated include files (``generated_dir``, relative to the source dir)."""
    return Path(app.srcdir) / app.config.generated_dir


def srcdir_path(app, path: str | Path) -> str:
    """A path as Sphinx's ``/``-prefixed source-dir-relative form (files outside docs/ too)."""
    import os

    return "/" + Path(os.path.relpath(Path(path).resolve(), Path(app.srcdir).resolve())).as_posix()


def add_generated_dir_config(app) -> None:
    """Register ``generated_dir`` once, whichever local extension loads first."""
    from sphinx.errors import ExtensionError

    try:
        app.add_config_value("generated_dir", "_generated", "env")
    except ExtensionError:
        pass
