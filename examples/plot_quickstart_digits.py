"""
Quick start: cluster the digits with AEGMM
==========================================

:class:`~deepcluster_sk.AEGMM` trains an autoencoder on the images and fits a Gaussian
mixture to its codes. Like any scikit-learn clusterer it has ``fit_predict``, ``predict``,
``predict_proba`` and ``score``; it also has ``bic`` to compare numbers of clusters.

This example clusters scikit-learn's 8x8 digits (1,797 images) with a small dense network
trained for 60 epochs (a few seconds on a CPU) and scores the clusters against the digit
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
# matching. ``score`` is the mean log-likelihood of the codes under the mixture and ``bic``
# the mixture's Bayesian information criterion (both unsupervised).
est = AEGMM(10, hidden_dims=(256, 128), n_epochs=60, batch_size=64, random_state=0)
labels = est.fit_predict(X)
print(f"ACC {cluster_accuracy(y, labels):.3f}  NMI {normalized_mutual_info_score(y, labels):.3f}")
print(f"mean log-likelihood of the codes: {est.score(X):.3f}")
print(f"BIC: {est.bic(X):.1f}")

# %%
# Clusters against digits
# -----------------------
# Rows are the true digits, columns the clusters in the order that best matches them.
plot_confusion(y, labels)
plt.show()
