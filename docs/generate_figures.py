"""Run every example script in its fast mode and keep its figures for the documentation.

Each ``examples/<stem>.py`` is run from the repository root as

    python examples/<stem>.py --out <tmp>

with the matplotlib backend set to Agg (scripts that have no ``--out`` option are run
without it, for their output only). When it succeeds, its PNG files and its standard
output (``output.txt``) replace ``docs/_static/examples/<stem>/``; when it fails, the
previous figures are kept and the failure is reported. The gallery page
(``docs/examples.rst``) shows whatever is there at the next docs build.

Usage::

    python docs/generate_figures.py                      # every example
    python docs/generate_figures.py plot_aegmm plot_dvae # some of them
    python docs/generate_figures.py --timeout 1200

The examples train small networks: run this on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FIGURES = ROOT / "docs" / "_static" / "examples"


def run_example(script: Path, timeout: float) -> tuple[bool, float, str]:
    """Run one script into a temporary folder; on success move its figures into place."""
    dest = FIGURES / script.stem
    with tempfile.TemporaryDirectory(prefix=f"{script.stem}-") as tmp:
        env = {**os.environ, "MPLBACKEND": "Agg"}
        command = [sys.executable, str(script.relative_to(ROOT))]
        if "--out" in script.read_text(encoding="utf-8"):  # a script without figures has none
            command += ["--out", tmp]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                command,
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return False, time.perf_counter() - t0, f"timed out after {timeout:.0f} s"
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            return False, seconds, f"exit status {proc.returncode}\n{tail}"
        pngs = sorted(Path(tmp).rglob("*.png"))
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for png in pngs:
            # Flatten sub-folders into the file name: the gallery looks at one level.
            name = "_".join(png.relative_to(tmp).parts)
            shutil.copy2(png, dest / name)
        (dest / "output.txt").write_text(proc.stdout, encoding="utf-8")
        return True, seconds, f"{len(pngs)} figure(s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stems", nargs="*", help="example names without .py (default: all)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per example")
    args = parser.parse_args(argv)
    scripts = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
    if args.stems:
        known = {p.stem: p for p in scripts}
        missing = [s for s in args.stems if s not in known]
        if missing:
            parser.error(f"no such example(s): {', '.join(missing)}")
        scripts = [known[s] for s in args.stems]
    FIGURES.mkdir(parents=True, exist_ok=True)
    failures = 0
    for script in scripts:
        print(f"{script.name:<32}", end=" ", flush=True)
        ok, seconds, message = run_example(script, args.timeout)
        failures += not ok
        print(f"{'ok' if ok else 'FAILED':<7}{seconds:7.1f} s  {message}", flush=True)
    print(f"figures in {FIGURES.relative_to(ROOT)}/; {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
