"""Choosing the number of clusters with AEGMM's BIC (the AE+GMM paper's figure 15).

Fit one AEGMM per candidate ``n_clusters`` (same seed, so the same autoencoder) and compare
the Bayesian information criterion of the mixture on the latent codes (``est.bic(X)``, lower
is better) with the v-measure against the true labels. Fast by default (sklearn's digits, a
small network); ``--mnist`` runs the paper's setting on MNIST (needs ``mnist.npz``, slow on
a CPU)::

    python examples/aegmm_choose_n_clusters.py
    python examples/aegmm_choose_n_clusters.py --mnist --data ../shared/data
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import v_measure_score

from deepcluster_sk import AEGMM


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", action="store_true", help="full MNIST run (slow on CPU)")
    parser.add_argument("--data", default=None, help="folder holding mnist.npz")
    args = parser.parse_args()
    if args.mnist:
        from deepcluster_sk.datasets import load_mnist

        X, y = load_mnist(args.data, return_X_y=True, download=False)
        params = {"n_epochs": 50}
        candidates = range(6, 15)
    else:
        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).astype(np.float32)
        params = {"hidden_dims": (256, 128), "n_epochs": 40, "batch_size": 64}
        candidates = range(6, 15, 2)

    print(f"{'n_clusters':>10} {'BIC':>12} {'v-measure':>10}")
    for k in candidates:
        est = AEGMM(k, random_state=0, **params).fit(X)
        print(f"{k:>10} {est.bic(X):>12.1f} {v_measure_score(y, est.labels_):>10.3f}")


if __name__ == "__main__":
    main()
