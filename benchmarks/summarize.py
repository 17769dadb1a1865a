"""Print a Markdown table of every result JSON under ``benchmarks/results/``.

Usage::

    python benchmarks/summarize.py [--results benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    rows = []
    for path in sorted(Path(args.results).glob("*.json")):
        record = json.loads(path.read_text())
        if "metrics" not in record:
            continue
        m = record["metrics"]
        test = record.get("test_metrics", {})
        rows.append(
            "| {est} | {tag} | {ds} | {n} | {seed} | {acc:.4f} | {nmi:.4f} | {ari:.4f} | "
            "{sil} | {test} | {fit:.0f} | {spe} | {dev} |".format(
                est=record["estimator"],
                tag=record.get("tag") or "",
                ds=record["dataset"],
                n=record["n_samples"],
                seed=record["seed"],
                acc=m["acc"],
                nmi=m["nmi"],
                ari=m["ari"],
                sil=f"{m['silhouette']:.3f}" if "silhouette" in m else "",
                test=f"{test['v_measure']:.4f}" if test else "",
                fit=record["fit_seconds"],
                spe=record.get("seconds_per_epoch"),
                dev=record["device"],
            )
        )
    print(
        "| estimator | tag | data | n | seed | ACC | NMI | ARI | silhouette | test v-measure "
        "| fit s | s/epoch | device |"
    )
    print("|" + "---|" * 13)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
