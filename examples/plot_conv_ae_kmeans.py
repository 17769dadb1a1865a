"""Convolutional autoencoder + PCA + k-means on MNIST, beside the paper's table.

Reproduces table I of R. Das, "Deep Autoencoder-Based Feature Learning for Enhanced
Unsupervised Clustering of MNIST" (``shared/papers/000_a3cea87e76dfb037.txt``: ARI 0.4296, NMI
0.5323, silhouette 0.1108) with two estimators: ``ConvAEKMeans()`` (the library's defaults:
stride-2 5x5 convolutions, a 10-d bottleneck, squared error) and ``ConvAEKMeans.paper()`` (the
paper's recipe: pooled 3x3 convolutions with batch norm, BCE, the flattened feature maps ->
PCA(50) -> k-means). ACC (Hungarian-matched accuracy) is added. The silhouette is measured in
the PCA space the k-means runs in (``transform``). Figures: t-SNE of the codes,
reconstructions, confusion matrix and training loss of the default estimator.

The default is a fast demonstration (seconds on a CPU): 2,000 MNIST images when
``mnist.npz`` is found (``--data``, ``$DEEPCLUSTER_SK_DATA`` or ``../shared/data``), else
scikit-learn's 8x8 digits, with small networks trained for a few epochs. ``--full`` runs
both estimators with their own settings on all 70,000 MNIST images (slow on a CPU)::

    python examples/plot_conv_ae_kmeans.py
    python examples/plot_conv_ae_kmeans.py --full --data ../shared/data --out results/cae
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
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score

from deepcluster_sk import ConvAEKMeans
from deepcluster_sk.datasets import load_mnist
from deepcluster_sk.metrics import cluster_accuracy
from deepcluster_sk.plotting import (
    plot_confusion,
    plot_embedding,
    plot_history,
    plot_reconstructions,
)

matplotlib.use("Agg")  # headless; deepcluster_sk.plotting imports pyplot only when drawing

#: Table I of the paper (no ACC reported).
PAPER = {"ARI": 0.4296, "NMI": 0.5323, "silhouette": 0.1108, "ACC": None}
#: Small networks and few epochs for the fast demonstration (the tiny digits need more epochs).
FAST_PARAMS = {"channels": (8, 16, 32), "batch_size": 64, "kmeans_n_init": 3}
FAST_EPOCHS = {"MNIST": 5, "digits": 30}


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


def load_data(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, tuple, str]:
    """``(X, y, image_shape, description)``: full MNIST, an MNIST subset or digits."""
    path = None if args.digits and not args.full else find_mnist(args.data)
    if args.full:  # all 70,000 images; load_mnist downloads them when no file is found
        X, y = load_mnist(path, return_X_y=True)
        return X, y, (1, 28, 28), f"MNIST, all {len(X):,} images"
    if path is not None:
        X, y = load_mnist(path, return_X_y=True)
        idx = np.random.RandomState(args.seed).choice(len(X), args.n_samples, replace=False)
        return X[idx], y[idx], (1, 28, 28), f"MNIST subset of {args.n_samples:,} images"
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y, (1, 8, 8), "scikit-learn digits (8x8)"


def evaluate(est: Any, X: np.ndarray, y: np.ndarray, seed: int) -> dict[str, float]:
    """ARI, NMI, silhouette (in the PCA space, at most 10,000 samples) and ACC."""
    labels = est.labels_
    return {
        "ARI": adjusted_rand_score(y, labels),
        "NMI": normalized_mutual_info_score(y, labels),
        "silhouette": silhouette_score(
            est.transform(X), labels, sample_size=min(len(X), 10_000), random_state=seed
        ),
        "ACC": cluster_accuracy(y, labels),
    }


def print_table(rows: dict[str, dict[str, float | None]], columns: list[str]) -> None:
    """Print one line per row, ``-`` for values the source does not give."""
    width = max(len(name) for name in rows) + 2
    print(f"{'method':<{width}}" + "".join(f"{c:>12}" for c in columns))
    for name, values in rows.items():
        cells = (f"{'-':>12}" if values.get(c) is None else f"{values[c]:>12.4f}" for c in columns)
        print(f"{name:<{width}}" + "".join(cells))


def save(fig: Any, out: Path, name: str) -> None:
    """Save ``fig`` as ``out/name`` and close it."""
    import matplotlib.pyplot as plt

    fig.savefig(out / name, dpi=100)
    plt.close(fig)
    print(f"saved {out / name}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="all of MNIST, estimator defaults")
    parser.add_argument("--data", default=None, help="mnist.npz or a folder holding it")
    parser.add_argument("--digits", action="store_true", help="use sklearn's digits (fast mode)")
    parser.add_argument("--n-samples", type=int, default=2000, help="MNIST subset size (fast)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (fast mode)")
    parser.add_argument("--out", default=None, help="folder for the figures")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    out = Path(args.out or Path(__file__).parent / "output" / Path(__file__).stem)
    out.mkdir(parents=True, exist_ok=True)

    X, y, image_shape, description = load_data(args)
    print(f"data: {description}, X {X.shape}")
    epochs = args.epochs or FAST_EPOCHS["digits" if description.startswith("scikit") else "MNIST"]
    fast = {} if args.full else {**FAST_PARAMS, "n_epochs": epochs}
    estimators = {
        "ConvAEKMeans()": ConvAEKMeans(10, input_shape=image_shape, random_state=args.seed, **fast),
        "ConvAEKMeans.paper()": ConvAEKMeans.paper(
            10, input_shape=image_shape, random_state=args.seed, **fast
        ),
    }
    rows: dict[str, dict[str, float | None]] = {"paper (table I)": PAPER}
    for name, est in estimators.items():
        start = time.perf_counter()
        est.fit(X)
        rows[name] = evaluate(est, X, y, args.seed)
        print(f"fitted {name} in {time.perf_counter() - start:.1f} s")

    print(f"\nConv autoencoder + PCA + k-means on {description}; the paper used all of MNIST")
    print_table(rows, ["ARI", "NMI", "silhouette", "ACC"])
    print()

    est = estimators["ConvAEKMeans()"]
    n_embed = 2000 if args.full else 500
    save(
        plot_embedding(
            est,
            X,
            y,
            n_samples=n_embed,
            random_state=args.seed,
            title="ConvAEKMeans: t-SNE of the PCA codes",
        ),
        out,
        "embedding.png",
    )
    save(
        plot_reconstructions(est, X, image_shape=image_shape, random_state=args.seed),
        out,
        "reconstructions.png",
    )
    save(plot_confusion(y, est.labels_, normalize=True), out, "confusion.png")
    save(plot_history(est), out, "history.png")


if __name__ == "__main__":
    main()
