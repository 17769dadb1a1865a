"""
Tabular data: StandardScaler and AEGMM against k-means and a Gaussian mixture
=============================================================================

Nothing in the estimators is specific to images. On a table of measurements
(scikit-learn's wine data: 178 wines, 13 chemical measurements, 3 cultivars) a
:class:`~sklearn.pipeline.Pipeline` standardises the columns and feeds them to
:class:`~deepcluster_sk.AEGMM` with its defaults: on rows of fewer than 64 columns
``hidden_dims="auto"`` gives a dense network with one hidden layer of 64 units,
``likelihood="auto"`` the squared error (standardised columns are not in [0, 1]), and the
mixture is fitted on a UMAP embedding of the codes in ``n_clusters`` dimensions
(``manifold="umap"``). It is compared with :class:`~sklearn.cluster.KMeans` and
:class:`~sklearn.mixture.GaussianMixture` on the same standardised columns, by ACC, NMI and
ARI against the known classes.

On tables this small and this low-dimensional, expect about what the better of the two
classical methods gives, not a clear gain (``benchmarks/tabular.py`` runs the comparison
over several seeds; the user guide's :doc:`/user_guide/networks` page explains the network
it uses): the example shows how the estimator fits into a tabular workflow.
``python examples/workflows/plot_tabular_data.py --full`` runs the wine and the
breast-cancer data with five seeds each and prints the mean and standard deviation of each
score.
"""

# %%
# Settings and models
# -------------------
import sys

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from deepcluster_sk import AEGMM
from deepcluster_sk.metrics import cluster_accuracy
from deepcluster_sk.plotting import plot_embedding

FULL = "--full" in sys.argv[1:]  # both data sets, five seeds
LOADERS = {"wine": load_wine, "breast_cancer": load_breast_cancer}
DATASETS = sorted(LOADERS) if FULL else ["wine"]
SEEDS = range(5) if FULL else range(1)
METRICS = ("ACC", "NMI", "ARI")


def make_models(n_clusters, seed):
    """The three pipelines compared, each standardising the columns first."""
    aegmm = AEGMM(n_clusters, random_state=seed)
    return {
        "KMeans": make_pipeline(StandardScaler(), KMeans(n_clusters, n_init=10, random_state=seed)),
        "GaussianMixture": make_pipeline(
            StandardScaler(), GaussianMixture(n_clusters, n_init=5, random_state=seed)
        ),
        "AEGMM": make_pipeline(StandardScaler(), aegmm),
    }


def scores(y, labels):
    """ACC, NMI and ARI of ``labels`` against ``y``."""
    return {
        "ACC": cluster_accuracy(y, labels),
        "NMI": normalized_mutual_info_score(y, labels),
        "ARI": adjusted_rand_score(y, labels),
    }


# %%
# Fit and score
# -------------
for name in DATASETS:
    X, y = LOADERS[name](return_X_y=True)
    n_clusters = len(np.unique(y))
    print(f"data: {name}, X {X.shape}, {n_clusters} classes; seeds {list(SEEDS)}")
    runs, last_labels = {}, {}
    for seed in SEEDS:
        models = make_models(n_clusters, seed)
        for method, model in models.items():
            last_labels[method] = model.fit_predict(X)
            runs.setdefault(method, []).append(scores(y, last_labels[method]))
    print(f"{'method':<18}" + "".join(f"{m:>16}" for m in METRICS))
    for method, results in runs.items():
        cells = []
        for m in METRICS:
            values = np.array([r[m] for r in results])
            spread = f" ± {values.std():.3f}" if len(values) > 1 else ""
            cells.append(f"{values.mean():.4f}{spread}".rjust(16))
        print(f"{method:<18}" + "".join(cells))
    print()

# %%
# The embedding and the clusters
# ------------------------------
# AEGMM's ``transform`` returns the space its mixture works in: with the default
# ``manifold="umap"`` not the 10-d codes but their UMAP embedding in
# ``n_clusters`` dimensions (3 for wine), drawn here by its first two principal components,
# by true class and by cluster; then the first two principal components of the standardised
# data, coloured by each method's clusters (of the last data set and seed).
embedding_dim = models["AEGMM"].transform(X).shape[1]
plot_embedding(
    models["AEGMM"],
    X,
    y,
    method="pca",
    random_state=0,
    title=f"AEGMM on {name}: PCA of the {embedding_dim}-d UMAP embedding of the codes",
)
points = PCA(2).fit_transform(StandardScaler().fit_transform(X))
panels = {"true labels": y, **last_labels}
fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.6))
for ax, (method, labels) in zip(axes, panels.items(), strict=True):
    ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=12, vmin=0, vmax=9)
    if method != "true labels":
        method = f"{method} (ACC {cluster_accuracy(y, labels):.2f})"
    ax.set_title(method)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
fig.tight_layout()
plt.show()
