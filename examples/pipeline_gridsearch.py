"""Model selection: AEGMM in a Pipeline, tuned by GridSearchCV with and without labels.

The estimators are ordinary scikit-learn clusterers, so they go into a
:class:`~sklearn.pipeline.Pipeline` (here after an optional :class:`MinMaxScaler`) and are
tuned by :class:`~sklearn.model_selection.GridSearchCV` like any other model:

1. **with labels** (``search.fit(X, y)``): the scorer
   :data:`deepcluster_sk.metrics.cluster_accuracy_scorer` (Hungarian-matched accuracy of
   ``predict`` on the held-out fold) chooses the scaling step and ``latent_dim``;
2. **without labels** (``search.fit(X)``): :data:`deepcluster_sk.metrics.silhouette_scorer`
   (silhouette of ``transform`` under ``predict``) chooses ``n_clusters``; the estimator's
   default ``score`` (mean log-likelihood of the codes) is recorded beside it. Both compare
   candidates that share a latent space only: neither is comparable across ``latent_dim``.

The summary of ``cv_results_`` is printed and a bar chart of the mean test scores per
candidate is saved. The default is fast (seconds on a CPU): 1,000 MNIST images when
``mnist.npz`` is found (``--data``, ``$DEEPCLUSTER_SK_DATA`` or ``../shared/data``), else
scikit-learn's 8x8 digits, 2-fold CV and a small network. ``--full`` searches with AEGMM's
defaults on all 70,000 MNIST images and 3-fold CV (hours on a CPU)::

    python examples/pipeline_gridsearch.py
    python examples/pipeline_gridsearch.py --full --data ../shared/data
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from deepcluster_sk import AEGMM
from deepcluster_sk.datasets import load_mnist
from deepcluster_sk.metrics import cluster_accuracy_scorer, make_silhouette_scorer

matplotlib.use("Agg")  # headless

#: A small network and few epochs for the fast demonstration.
FAST_PARAMS = {"hidden_dims": (128,), "n_epochs": 10, "batch_size": 64}


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


def load_data(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, str]:
    """``(X, y, description)``: full MNIST, an MNIST subset or digits."""
    path = None if args.digits and not args.full else find_mnist(args.data)
    if args.full:  # all 70,000 images; load_mnist downloads them when no file is found
        X, y = load_mnist(path, return_X_y=True)
        return X, y, f"MNIST, all {len(X):,} images"
    if path is not None:
        X, y = load_mnist(path, return_X_y=True)
        idx = np.random.RandomState(args.seed).choice(len(X), args.n_samples, replace=False)
        return X[idx], y[idx], f"MNIST subset of {args.n_samples:,} images"
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y, "scikit-learn digits (8x8)"


def describe(params: dict[str, Any]) -> str:
    """Short text of a candidate's parameters."""
    parts = []
    for key, value in params.items():
        name = key.split("__")[-1]
        if name == "scale":
            value = "minmax" if isinstance(value, MinMaxScaler) else value
        parts.append(f"{name}={value}")
    return ", ".join(parts)


def summarize(search: GridSearchCV, metrics: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """Print ``cv_results_`` (one line per candidate) and return ``(label, scores)`` pairs."""
    res = search.cv_results_
    labels = [describe(p) for p in res["params"]]
    width = max(len(s) for s in labels) + 2
    header = "".join(f"{'mean ' + m:>22}{'std':>8}{'rank':>6}" for m in metrics)
    print(f"{'candidate':<{width}}" + header)
    rows = []
    for i, label in enumerate(labels):
        scores = {}
        line = f"{label:<{width}}"
        for m in metrics:
            key = "score" if len(metrics) == 1 else m
            mean, std = res[f"mean_test_{key}"][i], res[f"std_test_{key}"][i]
            rank = res[f"rank_test_{key}"][i]
            line += f"{mean:>22.4f}{std:>8.4f}{rank:>6d}"
            scores[m] = (mean, std)
        print(line)
        rows.append((label, scores))
    print(f"best: {describe(search.best_params_)}\n")
    return rows


def plot_scores(panels: list[tuple[str, str, list[tuple[str, dict[str, Any]]]]]) -> Any:
    """One bar chart per (title, metric, rows): mean test score per candidate, std as error."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 4.5), squeeze=False)
    for ax, (title, metric, rows) in zip(axes[0], panels, strict=True):
        means = [scores[metric][0] for _, scores in rows]
        stds = [scores[metric][1] for _, scores in rows]
        best = int(np.argmax(means))
        colours = ["tab:orange" if i == best else "tab:blue" for i in range(len(rows))]
        ax.bar(range(len(rows)), means, yerr=stds, color=colours, capsize=4)
        ax.set_xticks(
            range(len(rows)),
            [label.replace(", ", "\n") for label, _ in rows],
            rotation=30,
            ha="right",
            fontsize="small",
        )
        ax.set_ylabel(f"mean test {metric}")
        ax.set_title(title)
        low, high = min(means) - max(stds), max(means) + max(stds)
        if low > 0:  # zoom in on positive scores, keep some room below the lowest bar
            ax.set_ylim(max(0.0, low - 0.2 * (high - low)), high + 0.1 * (high - low))
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="all of MNIST, estimator defaults")
    parser.add_argument("--data", default=None, help="mnist.npz or a folder holding it")
    parser.add_argument("--digits", action="store_true", help="use sklearn's digits (fast mode)")
    parser.add_argument("--n-samples", type=int, default=1000, help="MNIST subset size (fast)")
    parser.add_argument("--out", default=None, help="folder for the figures")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    out = Path(args.out or Path(__file__).parent / "output" / Path(__file__).stem)
    out.mkdir(parents=True, exist_ok=True)

    X, y, description = load_data(args)
    print(f"data: {description}, X {X.shape}")
    params = {} if args.full else FAST_PARAMS
    cv = 3 if args.full else 2
    pipe = Pipeline(
        [("scale", MinMaxScaler()), ("aegmm", AEGMM(10, random_state=args.seed, **params))]
    )

    # 1. With labels: Hungarian-matched accuracy on the held-out fold.
    supervised = GridSearchCV(
        pipe,
        {"scale": [MinMaxScaler(), "passthrough"], "aegmm__latent_dim": [5, 10]},
        scoring=cluster_accuracy_scorer,
        cv=cv,
    )
    supervised.fit(X, y)
    print("GridSearchCV with labels (scoring=cluster_accuracy_scorer)")
    rows_acc = summarize(supervised, ["ACC"])

    # 2. Without labels: silhouette of the codes (refit on it) and the default score.
    unsupervised = GridSearchCV(
        pipe,
        {"aegmm__n_clusters": [6, 8, 10, 12, 14]},
        scoring={
            "silhouette": make_silhouette_scorer(sample_size=2000, random_state=args.seed),
            "log-likelihood": lambda est, X_, y_=None: est.score(X_),
        },
        refit="silhouette",
        cv=cv,
    )
    unsupervised.fit(X)
    print("GridSearchCV without labels (scoring=silhouette_scorer; default score beside)")
    rows_sil = summarize(unsupervised, ["silhouette", "log-likelihood"])

    fig = plot_scores(
        [
            ("with labels: scaling and latent_dim", "ACC", rows_acc),
            ("without labels: n_clusters", "silhouette", rows_sil),
            ("without labels: n_clusters", "log-likelihood", rows_sil),
        ]
    )
    import matplotlib.pyplot as plt

    fig.savefig(out / "grid_scores.png", dpi=100)
    plt.close(fig)
    print(f"saved {out / 'grid_scores.png'}")


if __name__ == "__main__":
    main()
