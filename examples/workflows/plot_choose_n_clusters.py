"""
Choosing the number of clusters without labels
===============================================

A. R. Bhattarai, *Unsupervised Clustering Using Deep Learning* (figure 15), picks the number
of clusters by the v-measure against the true labels, which a user of a clustering method
does not have. Here one :class:`~deepcluster_sk.AEGMM` is fitted per candidate
``n_clusters`` (same seed, so the same autoencoder) and the label-free Bayesian and Akaike
information criteria of the mixture on the codes (``est.bic(X)``, ``est.aic(X)``, lower is
better) are drawn beside that v-measure, which the criteria never see. The candidates are
fitted with ``manifold=None``: the default UMAP step embeds the codes in ``n_clusters``
dimensions, so each candidate's criteria would be measured in its own space and not be
comparable.

By default this runs on scikit-learn's 8x8 digits with a small network.
``python examples/workflows/plot_choose_n_clusters.py --full`` runs AEGMM's defaults (but
``manifold=None``) on all 70,000 MNIST images for 6 to 14 clusters, as in the paper (hours on
a CPU).
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

FULL = "--full" in sys.argv[1:]  # the paper-scale run: all of MNIST, the defaults but manifold=None
SEED = 0
# the mixture on the codes (no UMAP step): one space for every candidate, so the BICs compare
ON_THE_CODES = {"manifold": None}

if FULL:
    X, y = load_mnist(return_X_y=True)  # downloaded into the cache folder when missing
    settings, candidates, data = {**ON_THE_CODES}, range(6, 15), "MNIST 70k"
else:
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    # a small network and few epochs: a demonstration, not the accuracy of the defaults
    settings = {"hidden_dims": (256, 128), "n_epochs": 30, "batch_size": 64, **ON_THE_CODES}
    candidates, data = range(6, 15, 2), "scikit-learn digits (8x8)"
print(f"data: {data}, X {X.shape}; settings changed from the defaults: {settings}")

# %%
# One fit per candidate
# ---------------------
results = []
print(f"{'n_clusters':>10} {'BIC':>12} {'AIC':>12} {'v-measure':>10}")
for k in candidates:
    est = AEGMM(k, random_state=SEED, **settings).fit(X)
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

# %%
# The curves
# ----------
# Left, the criteria (the minimum circled); right, the v-measure the paper chose by.
ks = [r["n_clusters"] for r in results]
fig, (ax_ic, ax_v) = plt.subplots(1, 2, figsize=(10.0, 4.0))
for key, marker in (("BIC", "o"), ("AIC", "s")):
    values = [r[key] for r in results]
    ax_ic.plot(ks, values, marker=marker, label=key)
    lowest = int(np.argmin(values))
    ax_ic.scatter([ks[lowest]], [values[lowest]], s=150, facecolors="none", edgecolors="red")
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
fig.suptitle(f"AEGMM on {data}: choosing n_clusters")
fig.tight_layout()
plt.show()
