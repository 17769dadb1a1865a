"""Epoch budgets: successive halving with ``n_epochs`` as the resource."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingRandomSearchCV
from sklearn.preprocessing import StandardScaler

from deepcluster_sk import AEGMM, ConvAEKMeans, DVAEClusterer
from deepcluster_sk.metrics import silhouette_scorer

TINY = {"hidden_dims": (16,), "latent_dim": 2, "device": "cpu", "random_state": 0}
ESTIMATORS = {
    "AEGMM": AEGMM(3, gmm_n_init=1, **TINY),
    # Rows of 8 features are not square: ConvAEKMeans reads them as 1-D signals.
    "ConvAEKMeans": ConvAEKMeans(
        3, channels=(4,), n_components=2, kmeans_n_init=1, likelihood="gaussian", **TINY
    ),
    "DVAEClusterer": DVAEClusterer(
        3,
        pretrain_epochs=3,
        warmup_epochs=2,
        init="kmeans",
        likelihood="gaussian",
        tol=0.0,  # every epoch of the resource runs (no early stop once the labels settle)
        **TINY,
    ),
}


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(200, n_features=8, centers=3, random_state=0)
    return StandardScaler().fit_transform(X).astype(np.float32)


# The first rounds train candidates for 2 epochs on 100 rows: some DVAE partitions collapse,
# which is what successive halving is there to weed out.
@pytest.mark.filterwarnings("ignore::deepcluster_sk.ClusterCollapseWarning")
@pytest.mark.parametrize("name", ESTIMATORS)
def test_halving_search_with_epochs_as_resource(name, blobs):
    search = HalvingRandomSearchCV(
        ESTIMATORS[name],
        {"lr": [1e-3, 3e-3, 1e-2, 3e-2]},
        n_candidates=4,
        resource="n_epochs",
        min_resources=2,
        max_resources=8,
        factor=2,
        scoring=silhouette_scorer,
        cv=2,
        random_state=0,
    ).fit(blobs)
    assert search.n_resources_ == [2, 4, 8]
    assert search.n_candidates_ == [4, 2, 1]
    assert sorted(set(search.cv_results_["param_n_epochs"])) == [2, 4, 8]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    assert best.n_epochs == 8
    assert sum(r["phase"] == "train" for r in best.history_) == 8
    assert search.predict(blobs).shape == (len(blobs),)
