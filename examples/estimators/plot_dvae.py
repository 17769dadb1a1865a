"""
DVAEClusterer: a VAE with a mixture prior and a similarity loss
===============================================================

:class:`~deepcluster_sk.DVAEClusterer` implements DVAE from He Ma, *Achieving deep
clustering through the use of variational autoencoders and similarity-based loss*
(Mathematical Biosciences and Engineering, 2022): a variational autoencoder whose prior is a
Gaussian mixture, a classifier q(c | z) trained with it, and a loss that pulls together the
posteriors of samples the classifier puts in the same cluster (a Wasserstein similarity
term weighted by ``similarity_weight``). The paper reports ACC and NMI (tables 2-4) and an
ablation without the similarity term (``similarity_weight=0``, the VaDE-style model).

By default this runs on scikit-learn's 8x8 digits with a small network and few epochs.
``python examples/estimators/plot_dvae.py --full`` fits the estimator's defaults on all
70,000 MNIST images (hours on a CPU; the paper found ``similarity_weight=0.1`` best on MNIST).
"""

# %%
# Settings and data
# -----------------
# The fast run also sets a private setting through a subclass: settings that change
# little are class attributes, not constructor parameters (see :ref:`guide-networks`).
# Here it shows how; on the digits it changes nothing, since the ``"auto"`` pretraining
# batch is 128 there too.
import sys
import time

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score

from deepcluster_sk import DVAEClusterer
from deepcluster_sk.datasets import load_mnist
from deepcluster_sk.metrics import cluster_accuracy
from deepcluster_sk.plotting import plot_confusion, plot_embedding, plot_history

FULL = "--full" in sys.argv[1:]  # the paper-scale run: all of MNIST, the defaults
SEED = 0


class FastDVAE(DVAEClusterer):
    """DVAEClusterer with a fixed pretraining batch of 128."""

    _pretrain_batch_size = 128


if FULL:
    X, y = load_mnist(return_X_y=True)  # downloaded into the cache folder when missing
    image_shape, data = (1, 28, 28), "MNIST 70k"
    model, settings = DVAEClusterer, {}  # the paper's dense network on flat rows
else:
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    image_shape, data = (1, 8, 8), "digits"
    # a small network and few epochs: a demonstration, not the accuracy of the defaults
    model = FastDVAE
    settings = {
        "hidden_dims": (256, 128),
        "pretrain_epochs": 20,
        "n_epochs": 15,
        "batch_size": 100,
        "warmup_epochs": 5,
    }
print(f"data: {data}, X {X.shape}; settings changed from the defaults: {settings or 'none'}")

# %%
# Fit with and without the similarity term
# ----------------------------------------
beta = DVAEClusterer().similarity_weight
fitted = {}
for weight in (beta, 0.0):
    est = model(10, similarity_weight=weight, random_state=SEED, **settings)
    start = time.perf_counter()
    est.fit(X)
    fitted[weight] = est
    print(f"fitted similarity_weight={weight:g} in {time.perf_counter() - start:.1f} s")

# %%
# Beside the paper
# ----------------
# The paper's numbers are for all of MNIST; with ``--full`` the rows below are too.
PAPER = {  # He Ma, tables 2-3, MNIST 70k
    "paper: DVAE": {"ACC": 0.9553, "NMI": 0.8951},
    "paper: VaDE": {"ACC": 0.8351, "NMI": 0.8199},
}
print(f"{'':32}{'data':>10}{'ACC':>10}{'NMI':>10}")
for name, row in PAPER.items():
    print(f"{name:32}{'MNIST 70k':>10}{row['ACC']:>10}{row['NMI']:>10}")
for weight, est in fitted.items():
    acc = cluster_accuracy(y, est.labels_)
    nmi = normalized_mutual_info_score(y, est.labels_)
    print(f"{f'similarity_weight={weight:g}':32}{data:>10}{acc:>10.4f}{nmi:>10.4f}")

# %%
# What the model learned
# ----------------------
# A t-SNE map of the latent means coloured by the true digit, the confusion matrix and the
# loss terms of the three training phases (pretraining, classifier, joint training).
est = fitted[beta]
plot_embedding(
    est,
    X,
    y,
    n_samples=2000 if FULL else 500,
    random_state=SEED,
    title=f"DVAE (similarity_weight={beta:g}): t-SNE of the latent means",
)
plot_confusion(y, est.labels_, normalize=True)
plot_history(est)
plt.show()

# %%
# Generated images
# ----------------
# DVAE is a generative model: ``sample`` draws a component from the learned weights, a code
# from that component and an image from the decoder. One row per mixture component (blank
# cells: components too rare to fill the row).
n_per_row = 10
images, components = est.sample(40 * n_per_row * est.n_clusters, random_state=SEED)
fig, axes = plt.subplots(est.n_clusters, n_per_row, figsize=(9.6, 9.5), squeeze=False)
for k in range(est.n_clusters):
    drawn = images[components == k][:n_per_row]
    for j, ax in enumerate(axes[k]):
        if j < len(drawn):
            ax.imshow(drawn[j].reshape(image_shape[1:]), cmap="gray", vmin=0.0, vmax=1.0)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[k, 0].set_ylabel(str(k), rotation=0, labelpad=10, va="center")
fig.suptitle("DVAE: generated images, one row per mixture component")
fig.tight_layout()
plt.show()
