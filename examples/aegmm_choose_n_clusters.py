"""Choosing the number of clusters with AEGMM's BIC and AIC, without labels.

A. R. Bhattarai, "Unsupervised Clustering Using Deep Learning"
(``shared/papers/001_d6ae3b236a1fa64c.txt``, figure 15) picks the number of clusters from
the v-measure against the true labels, which a user of a clustering method does not have.
Here one AEGMM is fitted per candidate ``n_clusters`` (same seed, so the same autoencoder)
and the label-free Bayesian and Akaike information criteria of the mixture on the latent
codes (``est.bic(X)``, ``est.aic(X)``, lower is better) are drawn beside that v-measure,
which the criteria never see. The curves are saved as ``bic_curve.png``. Fast by default
(scikit-learn's digits, a small network, seconds on a CPU); ``--full`` runs AEGMM's defaults
on all 70,000 MNIST images for 6 to 14 clusters, as in the paper (needs ``mnist.npz`` from
``--data``, ``$DEEPCLUSTER_SK_DATA`` or ``../shared/data``, else downloads it; hours on a
CPU)::

    python examples/aegmm_choose_n_clusters.py
    python examples/aegmm_choose_n_clusters.py --full --data ../shared/data
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import v_measure_score

from deepcluster_sk import AEGMM
from deepcluster_sk.datasets import load_mnist

matplotlib.use("Agg")  # headless


def find_mnist(data: str | None) -> Path | None:
    """``mnist.npz`` from ``--data``, ``$DEEPCLUSTER_SK_DATA`` or ``../shared/data``, or None."""
    places = [data, os.environ.get("DEEPCLUSTER_SK_DATA"), Path.cwd() / ".." / "shared" / "data"]
    places.append(Path(__file__).resolve().parents[2] / "shared" / "data")
    for place in places:
        if place:
            path = Path(place).expanduser()
            path = path / "mnist.npz" if path.is_dir() else path
            if path.is_file():
                return path
    if data:
        raise FileNotFoundError(f"mnist.npz not found at {data!r}.")
    return None


def plot_curves(results: list[dict[str, float]], title: str) -> Any:
    """BIC and AIC (left) and v-measure (right) against the number of clusters."""
    import matplotlib.pyplot as plt

    ks = [r["n_clusters"] for r in results]
    fig, (ax_ic, ax_v) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    for key, marker in (("BIC", "o"), ("AIC", "s")):
        values = [r[key] for r in results]
        ax_ic.plot(ks, values, marker=marker, label=key)
        best = int(np.argmin(values))
        ax_ic.scatter([ks[best]], [values[best]], s=150, facecolors="none", edgecolors="red")
    ax_ic.set_xlabel("n_clusters")
    ax_ic.set_ylabel("criterion on the codes (lower is better)")
    ax_ic.set_title("information criteria (circled: minimum)")
    ax_ic.legend()
    ax_v.plot(ks, [r["v-measure"] for r in results], marker="o", color="tab:green")
    ax_v.set_xlabel("n_clusters")
    ax_v.set_ylabel("v-measure")
    ax_v.set_title("v-measure against the true labels")
    for ax in (ax_ic, ax_v):
        ax.set_xticks(ks)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="all of MNIST, estimator defaults")
    parser.add_argument("--mnist", action="store_true", help=argparse.SUPPRESS)  # old --full
    parser.add_argument("--data", default=None, help="mnist.npz or a folder holding it")
    parser.add_argument("--out", default=None, help="folder for the figure")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    out = Path(args.out or Path(__file__).parent / "output" / Path(__file__).stem)
    out.mkdir(parents=True, exist_ok=True)

    if args.full or args.mnist:
        X, y = load_mnist(find_mnist(args.data), return_X_y=True)
        params: dict[str, Any] = {}
        candidates = range(6, 15)
        description = f"MNIST, all {len(X):,} images"
    else:
        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).astype(np.float32)
        params = {"hidden_dims": (256, 128), "n_epochs": 30, "batch_size": 64}
        candidates = range(6, 15, 2)
        description = "scikit-learn digits (8x8)"
    print(f"data: {description}, X {X.shape}")

    results = []
    print(f"{'n_clusters':>10} {'BIC':>12} {'AIC':>12} {'v-measure':>10}")
    for k in candidates:
        est = AEGMM(k, random_state=args.seed, **params).fit(X)
        row = {
            "n_clusters": k,
            "BIC": est.bic(X),
            "AIC": est.aic(X),
            "v-measure": v_measure_score(y, est.labels_),
        }
        results.append(row)
        print(f"{k:>10} {row['BIC']:>12.1f} {row['AIC']:>12.1f} {row['v-measure']:>10.3f}")
    best = min(results, key=lambda r: r["BIC"])
    print(f"lowest BIC: n_clusters={best['n_clusters']}")

    import matplotlib.pyplot as plt

    fig = plot_curves(results, f"AEGMM on {description}: choosing n_clusters")
    fig.savefig(out / "bic_curve.png", dpi=100)
    plt.close(fig)
    print(f"saved {out / 'bic_curve.png'}")


if __name__ == "__main__":
    main()
