"""
Choosing the number of clusters without labels
===============================================

``n_clusters="auto"`` chooses the number of clusters from the data, before the network is
trained: the rows are embedded by UMAP with a small, fixed neighbourhood, k-means
partitions the embedding into each candidate number of clusters, and the count whose
partition has the highest silhouette wins. The fit then runs with that count, exactly as
if it had been given. The fitted estimator keeps the count (``n_clusters_``) and the
criterion's curve (``n_clusters_candidates_``, ``n_clusters_scores_``), drawn here with the
number of classes, which the criterion never sees (the labels only score the result).

By default this runs on scikit-learn's 8x8 digits with a small network.
``python examples/workflows/plot_choose_n_clusters.py --full`` runs AEGMM's defaults on the
10,000 MNIST test images (minutes on a CPU).
"""

# %%
# Settings and data
# -----------------
import sys

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import v_measure_score

from deepcluster_sk import AEGMM
from deepcluster_sk.datasets import load_mnist
from deepcluster_sk.metrics import cluster_accuracy

FULL = "--full" in sys.argv[1:]  # the defaults on the MNIST test split
SEED = 0

if FULL:
    X, y = load_mnist(split="test", return_X_y=True)  # downloaded when missing
    settings, data = {"input_shape": (1, 28, 28)}, "MNIST test split (10,000 images)"
else:
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    # a small network and few epochs: a demonstration, not the accuracy of the defaults;
    # input_shape says the rows are 8x8 images, which the choice reads at unit length
    settings = {
        "hidden_dims": (256, 128),
        "n_epochs": 30,
        "batch_size": 64,
        "input_shape": (1, 8, 8),
    }
    data = "scikit-learn digits (8x8)"
print(f"data: {data}, X {X.shape}, {len(np.unique(y))} classes; settings: {settings}")

# %%
# One fit, the count chosen inside it
# -----------------------------------
est = AEGMM("auto", random_state=SEED, **settings).fit(X)
counts, scores = est.n_clusters_candidates_, est.n_clusters_scores_
print(f"candidates: {counts[0]} to {counts[-1]}")
print(f"n_clusters_: {est.n_clusters_} (silhouette {scores.max():.3f})")
acc, v = cluster_accuracy(y, est.labels_), v_measure_score(y, est.labels_)
print(f"ACC {acc:.3f}, v-measure {v:.3f}")

# %%
# The criterion's curve
# ---------------------
# The silhouette of each candidate on the embedding (the maximum circled) and the number
# of classes (dotted). One fit gives the whole curve: no network is trained per candidate.
fig, ax = plt.subplots(figsize=(7.0, 4.0))
ax.plot(counts, scores, marker="o", markersize=3)
ax.scatter([est.n_clusters_], [scores.max()], s=150, facecolors="none", edgecolors="red")
ax.axvline(len(np.unique(y)), color="gray", linestyle=":", label="number of classes")
ax.set_xlabel("candidate number of clusters")
ax.set_ylabel("silhouette (higher is better)")
ax.set_title(f'AEGMM("auto") on {data}: chose {est.n_clusters_}')
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
plt.show()
