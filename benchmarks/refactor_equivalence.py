"""Before/after check of a refactor: labels and codes of the same default fits.

Fits each estimator with its defaults (plus ``n_clusters`` and ``input_shape``) and seed 0
on scikit-learn's digits and on the first 2,000 MNIST test images, and saves the training
labels and the output of ``transform`` on 50 rows. Run it on the old and the new checkout,
on one machine, then compare the two folders (``--compare``)::

    (cd OLD && PYTHONPATH=OLD/src python benchmarks/refactor_equivalence.py /tmp/old)
    python benchmarks/refactor_equivalence.py /tmp/new
    python benchmarks/refactor_equivalence.py --compare /tmp/old /tmp/new

``DEEPCLUSTER_SK_DATA`` names the data folder (default ``../shared/data``).
"""

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

import deepcluster_sk
from deepcluster_sk import AEGMM, ConvAEKMeans, DVAEClusterer
from deepcluster_sk.metrics import cluster_accuracy


def compare(old: str, new: str) -> int:
    """Print, per fit, whether labels and codes are identical; return the number that differ."""
    differ = 0
    for path in sorted(Path(old).glob("*.npy")):
        other = Path(new) / path.name
        if not other.exists():
            print(f"{path.stem}: missing in {new}")
            differ += 1
            continue
        a, b = np.load(path), np.load(other)
        same = a.shape == b.shape and np.array_equal(a, b)
        gap = "" if same or a.shape != b.shape else f" (max |diff| {np.abs(a - b).max():.3g})"
        print(f"{path.stem}: {'identical' if same else 'DIFFERENT'}{gap}")
        differ += not same
    return differ


def main(out: str, names: list[str]) -> None:
    print(deepcluster_sk.__file__, flush=True)
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    data = Path(os.environ.get("DEEPCLUSTER_SK_DATA", "../shared/data"))
    d = np.load(data / "mnist.npz")
    M = (d["x_test"][:2000].reshape(2000, -1) / 255.0).astype("float32")
    My = d["y_test"][:2000]
    mnist = {"input_shape": (1, 28, 28)}
    cfg = {
        f"{cls.__name__}_{where}": (cls, params, XX, yy)
        for cls in (AEGMM, ConvAEKMeans, DVAEClusterer)
        for where, params, XX, yy in (("digits", {}, X, y), ("mnist2k", mnist, M, My))
    }
    for name in names or cfg:
        cls, params, XX, yy = cfg[name]
        t0 = time.time()
        est = cls(10, random_state=0, **params).fit(XX)
        seconds = time.time() - t0
        np.save(f"{out}/{name}.npy", est.labels_)
        np.save(f"{out}/{name}_Z.npy", est.transform(XX[:50]))
        acc = float(cluster_accuracy(yy, est.labels_))
        print(json.dumps({"name": name, "acc": round(acc, 4), "s": round(seconds, 1)}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]) > 0)
    os.makedirs(sys.argv[1], exist_ok=True)
    main(sys.argv[1], sys.argv[2:])
