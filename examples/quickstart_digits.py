"""Quick start: cluster scikit-learn's digits with AEGMM and score it.

Runs in a few seconds on a CPU::

    python examples/quickstart_digits.py
"""

from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score

from deepcluster_sk import AEGMM
from deepcluster_sk.metrics import cluster_accuracy


def main() -> None:
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    est = AEGMM(10, hidden_dims=(256, 128), n_epochs=60, batch_size=64, random_state=0)
    labels = est.fit_predict(X)
    acc = cluster_accuracy(y, labels)
    nmi = normalized_mutual_info_score(y, labels)
    print(f"ACC {acc:.3f}  NMI {nmi:.3f}")
    print(f"mean log-likelihood of the codes: {est.score(X):.3f}")
    print(f"BIC: {est.bic(X):.1f}")


if __name__ == "__main__":
    main()
