"""Autoencoder + Gaussian mixture (dense and conv) on MNIST, beside the paper's v-measures.

Follows the protocol of A. R. Bhattarai, "Unsupervised Clustering Using Deep Learning"
(``shared/papers/001_d6ae3b236a1fa64c.txt``, table 2): fit on the training split, report
the v-measure of the training clusters (``labels_``) and of the held-out test split
(``predict``), for the dense ``d-500-500-2000-10`` autoencoder (paper: 0.817 train / 0.826
test) and the convolutional one (paper: 0.841 / 0.887), chosen by AEGMM's ``encoder``
parameter (``"dense"`` or ``"conv"``). ACC on the test split is added. Figures, one set per
network: t-SNE of the test codes, confusion matrix on the test split, training loss and
reconstructions of test images.

The default is a fast demonstration (seconds on a CPU): 1,600 training and 400 test MNIST
images when ``mnist.npz`` is found (``--data``, ``$DEEPCLUSTER_SK_DATA`` or
``../shared/data``), else a 80/20 split of scikit-learn's 8x8 digits, with small networks.
``--full`` fits AEGMM's defaults (with ``encoder="dense"`` or ``"conv"``) on the 60,000
training images and tests on the 10,000 test images (slow on a CPU)::

    python examples/plot_aegmm.py
    python examples/plot_aegmm.py --full --data ../shared/data --out results/aegmm
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import v_measure_score
from sklearn.model_selection import train_test_split

from deepcluster_sk import AEGMM
from deepcluster_sk.datasets import load_mnist
from deepcluster_sk.metrics import cluster_accuracy
from deepcluster_sk.plotting import (
    plot_confusion,
    plot_embedding,
    plot_history,
    plot_reconstructions,
)

matplotlib.use("Agg")  # headless; deepcluster_sk.plotting imports pyplot only when drawing

#: Table 2 of the paper (MNIST, v-measure).
PAPER = {
    "dense": {"v-measure train": 0.817, "v-measure test": 0.826},
    "conv": {"v-measure train": 0.841, "v-measure test": 0.887},
}
#: Small networks and few epochs for the fast demonstration (the tiny digits need more epochs).
FAST_PARAMS = {
    "dense": {"hidden_dims": (256, 128), "n_epochs": 15, "batch_size": 64},
    "conv": {"channels": (8, 16, 32), "n_epochs": 5, "batch_size": 64},
}
DIGITS_EPOCHS = {"dense": 15, "conv": 30}


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


def load_split(args: argparse.Namespace) -> tuple[tuple[np.ndarray, ...], tuple, str]:
    """``((X_train, X_test, y_train, y_test), image_shape, description)``."""
    path = None if args.digits and not args.full else find_mnist(args.data)
    if args.full or path is not None:
        # the official split; load_mnist downloads the file when none is found (full mode)
        X_train, y_train = load_mnist(path, split="train", return_X_y=True)
        X_test, y_test = load_mnist(path, split="test", return_X_y=True)
        if not args.full:
            rng = np.random.RandomState(args.seed)
            n_test = args.n_samples // 5
            train = rng.choice(len(X_train), args.n_samples - n_test, replace=False)
            test = rng.choice(len(X_test), n_test, replace=False)
            X_train, y_train, X_test, y_test = (
                X_train[train],
                y_train[train],
                X_test[test],
                y_test[test],
            )
        data = (X_train, X_test, y_train, y_test)
        return data, (1, 28, 28), f"MNIST, {len(X_train):,} train / {len(X_test):,} test images"
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    data = tuple(train_test_split(X, y, test_size=0.2, stratify=y, random_state=args.seed))
    return data, (1, 8, 8), "scikit-learn digits (8x8), 80/20 split"


def print_table(rows: dict[str, dict[str, float | None]], columns: list[str]) -> None:
    """Print one line per row, ``-`` for values the source does not give."""
    width = max(len(name) for name in rows) + 2
    print(f"{'method':<{width}}" + "".join(f"{c:>17}" for c in columns))
    for name, values in rows.items():
        cells = (f"{'-':>17}" if values.get(c) is None else f"{values[c]:>17.4f}" for c in columns)
        print(f"{name:<{width}}" + "".join(cells))


def save(fig: Any, out: Path, name: str) -> None:
    """Save ``fig`` as ``out/name`` and close it."""
    import matplotlib.pyplot as plt

    fig.savefig(out / name, dpi=100)
    plt.close(fig)
    print(f"saved {out / name}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="MNIST 60k/10k, estimator defaults")
    parser.add_argument("--data", default=None, help="mnist.npz or a folder holding it")
    parser.add_argument("--digits", action="store_true", help="use sklearn's digits (fast mode)")
    parser.add_argument("--n-samples", type=int, default=2000, help="MNIST subset size (fast)")
    parser.add_argument("--out", default=None, help="folder for the figures")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    out = Path(args.out or Path(__file__).parent / "output" / Path(__file__).stem)
    out.mkdir(parents=True, exist_ok=True)

    (X_train, X_test, y_train, y_test), image_shape, description = load_split(args)
    print(f"data: {description}")
    rows: dict[str, dict[str, float | None]] = {}
    fitted = {}
    for arch in ("dense", "conv"):
        params = {} if args.full else dict(FAST_PARAMS[arch])
        if not args.full and description.startswith("scikit"):
            params["n_epochs"] = DIGITS_EPOCHS[arch]
        if arch == "conv":
            params = {**params, "input_shape": image_shape}
        est = AEGMM(10, encoder=arch, random_state=args.seed, **params)
        start = time.perf_counter()
        est.fit(X_train)
        print(f"fitted AEGMM(encoder={arch!r}) in {time.perf_counter() - start:.1f} s")
        test_labels = est.predict(X_test)
        rows[f"paper: {'' if arch == 'dense' else 'conv '}AE + GMM"] = PAPER[arch]
        rows[f"AEGMM({arch})"] = {
            "v-measure train": v_measure_score(y_train, est.labels_),
            "v-measure test": v_measure_score(y_test, test_labels),
            "ACC test": cluster_accuracy(y_test, test_labels),
        }
        fitted[arch] = (est, test_labels)

    print(f"\nAE + GMM on {description}: fit on train, predict test; the paper: MNIST 60k/10k")
    print_table(rows, ["v-measure train", "v-measure test", "ACC test"])
    print()

    n_embed = 2000 if args.full else 500
    for arch, (est, test_labels) in fitted.items():
        title = f"AEGMM({arch}): t-SNE of the test codes"
        fig = plot_embedding(
            est, X_test, y_test, n_samples=n_embed, random_state=args.seed, title=title
        )
        save(fig, out, f"{arch}_embedding.png")
        save(plot_confusion(y_test, test_labels, normalize=True), out, f"{arch}_confusion.png")
        save(plot_history(est), out, f"{arch}_history.png")
        fig = plot_reconstructions(est, X_test, image_shape=image_shape, random_state=args.seed)
        save(fig, out, f"{arch}_reconstructions.png")


if __name__ == "__main__":
    main()
