"""
AEGMM in a Pipeline, tuned by GridSearchCV with and without labels
==================================================================

The estimators are ordinary scikit-learn clusterers, so they go into a
:class:`~sklearn.pipeline.Pipeline` (here after an optional
:class:`~sklearn.preprocessing.MinMaxScaler`) and are tuned by
:class:`~sklearn.model_selection.GridSearchCV` like any other model:

1. **with labels** (``search.fit(X, y)``): the scorer
   :data:`deepcluster_sk.metrics.cluster_accuracy_scorer` (Hungarian-matched accuracy of
   ``predict`` on the held-out fold) chooses the scaling step and ``latent_dim``;
2. **without labels** (``search.fit(X)``): :data:`deepcluster_sk.metrics.silhouette_scorer`
   (silhouette of ``transform`` under ``predict``) chooses ``n_clusters``; the estimator's
   default ``score`` (mean log-likelihood of the codes) is recorded beside it. This search
   sets ``manifold=None``, so that ``transform`` returns the codes: the default UMAP step
   embeds them in ``n_clusters`` dimensions, which would give every candidate its own space
   to be scored in. Both scores compare candidates that share a latent space only: neither
   is comparable across ``latent_dim``.

By default this runs on scikit-learn's 8x8 digits with 2-fold cross-validation and a small
network. ``python examples/workflows/plot_pipeline_gridsearch.py --full`` searches with
AEGMM's defaults (``manifold=None`` for the search without labels) on all 70,000 MNIST
images and 3-fold cross-validation (hours on a CPU).
"""

# %%
# Settings and data
# -----------------
import sys

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from deepcluster_sk import AEGMM
from deepcluster_sk.datasets import load_mnist
from deepcluster_sk.metrics import cluster_accuracy_scorer, make_silhouette_scorer

FULL = "--full" in sys.argv[1:]  # the paper-scale run: all of MNIST, the defaults
SEED = 0

if FULL:
    X, y = load_mnist(return_X_y=True)  # downloaded into the cache folder when missing
    settings, cv, data = {}, 3, "MNIST 70k"
else:
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    # a small network and few epochs: a demonstration, not the accuracy of the defaults
    settings = {"hidden_dims": (128,), "n_epochs": 10, "batch_size": 64}
    cv, data = 2, "scikit-learn digits (8x8)"
print(f"data: {data}, X {X.shape}; settings changed from the defaults: {settings or 'none'}")

pipe = Pipeline([("scale", MinMaxScaler()), ("aegmm", AEGMM(10, random_state=SEED, **settings))])


def describe(params):
    """Short text of a candidate's parameters."""
    parts = []
    for key, value in params.items():
        name = key.split("__")[-1]
        if name == "scale":
            value = "minmax" if isinstance(value, MinMaxScaler) else value
        parts.append(f"{name}={value}")
    return ", ".join(parts)


def summarize(search, metrics):
    """Print ``cv_results_`` (one line per candidate) and return ``(label, scores)`` pairs."""
    res = search.cv_results_
    labels = [describe(p) for p in res["params"]]
    width = max(len(s) for s in labels) + 2
    print(
        f"{'candidate':<{width}}"
        + "".join(f"{'mean ' + m:>22}{'std':>8}{'rank':>6}" for m in metrics)
    )
    rows = []
    for i, label in enumerate(labels):
        scores, line = {}, f"{label:<{width}}"
        for m in metrics:
            key = "score" if len(metrics) == 1 else m
            mean, std = res[f"mean_test_{key}"][i], res[f"std_test_{key}"][i]
            line += f"{mean:>22.4f}{std:>8.4f}{res[f'rank_test_{key}'][i]:>6d}"
            scores[m] = (mean, std)
        print(line)
        rows.append((label, scores))
    print(f"best: {describe(search.best_params_)}")
    return rows


# %%
# With labels: Hungarian-matched accuracy on the held-out fold
# ------------------------------------------------------------
supervised = GridSearchCV(
    pipe,
    {"scale": [MinMaxScaler(), "passthrough"], "aegmm__latent_dim": [5, 10]},
    scoring=cluster_accuracy_scorer,
    cv=cv,
)
supervised.fit(X, y)
rows_acc = summarize(supervised, ["ACC"])

# %%
# Without labels: the silhouette of the codes, and the default score beside it
# ----------------------------------------------------------------------------
# ``manifold=None``: both scores are then measured on the codes, the same space for every
# ``n_clusters`` (same seed, so the same network on each fold). The search refits the
# candidate with the best silhouette.
unsupervised = GridSearchCV(
    clone(pipe).set_params(aegmm__manifold=None),
    {"aegmm__n_clusters": [6, 8, 10, 12, 14]},
    scoring={
        "silhouette": make_silhouette_scorer(sample_size=2000, random_state=SEED),
        "log-likelihood": lambda est, X_, y_=None: est.score(X_),
    },
    refit="silhouette",
    cv=cv,
)
unsupervised.fit(X)
rows_sil = summarize(unsupervised, ["silhouette", "log-likelihood"])

# %%
# The mean test scores per candidate
# ----------------------------------
# Error bars: the standard deviation over the folds; orange: the best candidate.
panels = [
    ("with labels: scaling and latent_dim", "ACC", rows_acc),
    ("without labels: n_clusters", "silhouette", rows_sil),
    ("without labels: n_clusters", "log-likelihood", rows_sil),
]
fig, axes = plt.subplots(1, len(panels), figsize=(15.0, 4.5))
for ax, (title, metric, rows) in zip(axes, panels, strict=True):
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
plt.show()
