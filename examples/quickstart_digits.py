"""Quick start: cluster scikit-learn's digits with AEGMM and score it.

Runs in a few seconds on a CPU and saves the confusion matrix of the clusters against the
digit labels (``confusion.png``)::

    python examples/quickstart_digits.py
    python examples/quickstart_digits.py --out /tmp/quickstart --seed 1
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score

from deepcluster_sk import AEGMM
from deepcluster_sk.metrics import cluster_accuracy
from deepcluster_sk.plotting import plot_confusion

matplotlib.use("Agg")  # headless; deepcluster_sk.plotting imports pyplot only when drawing


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="folder for the figure")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    out = Path(args.out or Path(__file__).parent / "output" / Path(__file__).stem)
    out.mkdir(parents=True, exist_ok=True)

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    est = AEGMM(10, hidden_dims=(256, 128), n_epochs=60, batch_size=64, random_state=args.seed)
    labels = est.fit_predict(X)
    acc = cluster_accuracy(y, labels)
    nmi = normalized_mutual_info_score(y, labels)
    print(f"ACC {acc:.3f}  NMI {nmi:.3f}")
    print(f"mean log-likelihood of the codes: {est.score(X):.3f}")
    print(f"BIC: {est.bic(X):.1f}")

    import matplotlib.pyplot as plt

    fig = plot_confusion(y, labels)
    fig.savefig(out / "confusion.png", dpi=100)
    plt.close(fig)
    print(f"saved {out / 'confusion.png'}")


if __name__ == "__main__":
    main()
