"""Old main against new main: labels and codes of the same fits, for a pure refactor.

Fits each estimator on scikit-learn's digits (and AEGMM conv on 2,000 MNIST images) with
seed 0 and saves the labels and the codes of 50 rows. Run it once against the old checkout
(``old``: its parameter names) and once against the new one (``new``: the new names, with
``precision="float32"`` so the comparison is of the refactor alone), then compare the
``.npy`` files (``numpy.array_equal``). ``MNIST_NPZ`` names the MNIST file
(default ``../shared/data/mnist.npz``)::

    (cd OLD && PYTHONPATH=OLD/src python benchmarks/refactor_equivalence.py /tmp/old old)
    python benchmarks/refactor_equivalence.py /tmp/new new
"""

import json
import os
import sys
import time

import numpy as np
from sklearn.datasets import load_digits

import deepcluster_sk
from deepcluster_sk import AEGMM, ConvAEKMeans, DVAEClusterer
from deepcluster_sk.metrics import cluster_accuracy

out, side = sys.argv[1], sys.argv[2]
names = sys.argv[3:]
print(deepcluster_sk.__file__, flush=True)
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype("float32")
d = np.load(os.environ.get("MNIST_NPZ", "../shared/data/mnist.npz"))
idx = np.random.RandomState(0).choice(70000, 2000, replace=False)
M = (np.concatenate([d["x_train"], d["x_test"]]).reshape(70000, -1)[idx] / 255.0).astype("float32")
My = np.concatenate([d["y_train"], d["y_test"]])[idx]
img8 = dict(input_shape=(1, 8, 8))
if side == "old":
    cfg = {
        "convaek": (ConvAEKMeans, dict(img8), X, y),
        "aegmm_dense": (AEGMM, {}, X, y),
        "aegmm_conv": (AEGMM, dict(architecture="conv", **img8), X, y),
        "aegmm_conv_mnist2k": (AEGMM, dict(architecture="conv", input_shape=(1, 28, 28)), M, My),
        "dvae_dense": (DVAEClusterer, {}, X, y),
        "convaek_paper": (ConvAEKMeans.paper, dict(n_epochs=10, **img8), X, y),
    }
else:
    F32 = {"precision": "float32"}
    cfg = {
        "convaek": (ConvAEKMeans, dict(**img8, **F32), X, y),
        "aegmm_dense": (AEGMM, dict(F32), X, y),
        "aegmm_conv": (AEGMM, dict(encoder="conv", **img8, **F32), X, y),
        "aegmm_conv_mnist2k": (AEGMM, dict(encoder="conv", input_shape=(1, 28, 28), **F32), M, My),
        "dvae_dense": (DVAEClusterer, dict(F32), X, y),
        "convaek_paper": (ConvAEKMeans.paper, dict(n_epochs=10, **img8, **F32), X, y),
    }
for name in names or cfg:
    cls, params, XX, yy = cfg[name]
    t0 = time.time()
    est = cls(10, random_state=0, **params).fit(XX)
    dt = time.time() - t0
    np.save(f"{out}/{name}.npy", est.labels_)
    Z = est.transform(XX[:50])
    np.save(f"{out}/{name}_Z.npy", Z)
    print(
        json.dumps(
            {"name": name, "acc": float(cluster_accuracy(yy, est.labels_)), "s": round(dt, 1)}
        ),
        flush=True,
    )
