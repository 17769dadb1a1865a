"""
Quick start: cluster the digits with AEGMM
==========================================

:class:`~deepcluster_sk.AEGMM` trains an autoencoder on the images, embeds its codes with
UMAP in ``n_clusters`` dimensions (the default ``manifold="umap"``) and fits a Gaussian
mixture in that embedding. Like any scikit-learn clusterer it has ``fit_predict``,
``predict``, ``predict_proba`` and ``score``; it also has ``bic``, which compares numbers of
clusters when fitted with ``manifold=None`` (see the example on choosing ``n_clusters``).

This example clusters scikit-learn's 8x8 digits (1,797 images) with a small dense network
trained for 60 epochs and scores the clusters against the digit
labels, which the estimator never sees.
"""

# %%
# The data: pixel values scaled to [0, 1], as float32 rows of 64 features.
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score

from deepcluster_sk import AEGMM
from deepcluster_sk.metrics import cluster_accuracy
from deepcluster_sk.plotting import plot_confusion

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype("float32")
print(X.shape, X.dtype)

# %%
# Fit and score
# -------------
# ``cluster_accuracy`` matches clusters to classes by the Hungarian algorithm; NMI needs no
# matching. ``predict_proba`` gives each row's posterior over the clusters; its largest value
# is a per-row confidence (``score`` and ``bic`` exist too, but under the default UMAP step
# they are dominated by the few rows that fall between two tight clusters: fit with
# ``manifold=None`` to compare models by them).
est = AEGMM(10, hidden_dims=(256, 128), n_epochs=60, batch_size=64, random_state=0)
labels = est.fit_predict(X)
print(f"ACC {cluster_accuracy(y, labels):.3f}  NMI {normalized_mutual_info_score(y, labels):.3f}")
confidence = est.predict_proba(X).max(axis=1)
print(f"rows assigned with posterior > 0.9: {(confidence > 0.9).mean():.1%}")

# %%
# Clusters against digits
# -----------------------
# Rows are the true digits, columns the clusters in the order that best matches them.
plot_confusion(y, labels)
plt.show()
