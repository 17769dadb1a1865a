"""Probe: is the DVAE's worst MNIST-70k seed held back by its start (UMAP + GMM) or its codes?

Works on pretrained codes cached by ``probe_dvae_head.py`` (``/work/logs/probe/<name>.npy``);
labels only score. Three questions, one sub-command each:

    confusion NAME            the default start's confusion matrix (row k: cluster matched to k)
    sweep NAME NEIGHBORS      the default start with other UMAP n_neighbors (comma-separated)
    merge NAME [NAME ...]     over-cluster (15, 20, 30 GMM components in the UMAP embedding),
                              then merge the most connected pair in the codes' 15-NN graph until
                              10 are left (connectivity: edges / min size, / sqrt of the sizes'
                              product, / their product)
"""

import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors

from deepcluster_sk._manifold import fit_umap_embedding
from deepcluster_sk.metrics import cluster_accuracy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import load_benchmark_data

warnings.filterwarnings("ignore")
PROBE = Path("/work/logs/probe")


def best_gmm(E, k, n_init):
    """The likeliest of ``n_init`` full Gaussian mixtures of ``E``."""
    gmms = [
        GaussianMixture(k, covariance_type="full", random_state=s).fit(E) for s in range(n_init)
    ]
    return max(gmms, key=lambda g: g.score(E))


def start(Z, k, n_neighbors=30, n_init=10):
    """The DVAE's default start: UMAP to 10 dimensions, then the likeliest of full GMMs."""
    E = fit_umap_embedding(Z, 10, n_neighbors, 0.0, np.random.RandomState(0))
    return E, best_gmm(E, k, n_init)


def merge_to(labels, idx, n_clusters, norm):
    """Merge the most connected pair of clusters of the kNN graph ``idx`` until ``n_clusters``."""
    L = labels.copy()
    while len(np.unique(L)) > n_clusters:
        L = np.unique(L, return_inverse=True)[1]
        n = L.max() + 1
        W = np.zeros((n, n))
        np.add.at(W, (np.repeat(L, idx.shape[1] - 1), L[idx[:, 1:]].ravel()), 1)
        W = W + W.T
        np.fill_diagonal(W, 0)
        size = np.bincount(L, minlength=n).astype(float)
        scale = {
            "min": np.minimum.outer(size, size),
            "sqrt": np.sqrt(np.outer(size, size)),
            "prod": np.outer(size, size),
        }[norm]
        a, b = np.unravel_index(np.argmax(W / scale), W.shape)
        L = np.where(L == b, a, L)
    return L


def main():
    command, names = sys.argv[1], sys.argv[2:]
    _, y, _ = load_benchmark_data("mnist", "../shared/data")
    if command == "confusion":
        Z = np.load(PROBE / f"{names[0]}.npy").astype(np.float64)
        E, g = start(Z, 10)
        C = np.zeros((10, 10), int)
        np.add.at(C, (g.predict(E), y), 1)
        _, cols = linear_sum_assignment(-C)
        print("acc", np.trace(C[np.argsort(cols)]) / len(y))
        print(C[np.argsort(cols)])
    elif command == "sweep":
        Z = np.load(PROBE / f"{names[0]}.npy").astype(np.float64)
        for nn in [int(v) for v in names[1].split(",")]:
            t = time.time()
            E, g = start(Z, 10, nn)
            acc = cluster_accuracy(y, g.predict(E))
            print(f"{names[0]} nn {nn} ACC {acc:.4f} {time.time() - t:.0f}s", flush=True)
    elif command == "merge":
        for name in names:
            Z = np.load(PROBE / f"{name}.npy").astype(np.float64)
            E, g = start(Z, 10, n_init=5)
            print(name, "gmm10", round(cluster_accuracy(y, g.predict(E)), 4), flush=True)
            _, idx = NearestNeighbors(n_neighbors=16).fit(Z).kneighbors(Z)
            for K in (15, 20, 30):
                labels = best_gmm(E, K, 5).predict(E)
                for norm in ("min", "sqrt", "prod"):
                    acc = cluster_accuracy(y, merge_to(labels, idx, 10, norm))
                    print(name, "K", K, norm, "ACC", round(acc, 4), flush=True)


if __name__ == "__main__":
    main()
