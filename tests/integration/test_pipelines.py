"""Pipelines, model selection and persistence: every estimator used like sklearn's own."""

from __future__ import annotations

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_val_score
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from deepcluster_sk import AEGMM, ConvAEKMeans, DVAEClusterer, all_estimators
from deepcluster_sk.metrics import cluster_accuracy_scorer, silhouette_scorer

FAST = {"device": "cpu", "random_state": 0}


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(240, n_features=16, centers=3, cluster_std=1.0, random_state=0)
    return StandardScaler().fit_transform(X).astype(np.float32), y


def _small(name, **kw):
    if name == "AEGMM":
        params = {"hidden_dims": (32,), "latent_dim": 3, "n_epochs": 15, "batch_size": 32}
        return AEGMM(3, **{**params, **FAST, **kw})
    if name == "ConvAEKMeans":
        return ConvAEKMeans(
            3,
            channels=(8,),
            input_shape="1d",
            likelihood="gaussian",
            n_components=3,
            n_epochs=5,
            batch_size=32,
            **FAST,
            **kw,
        )
    return DVAEClusterer(
        3,
        hidden_dims=(32,),
        latent_dim=3,
        pretrain_epochs=15,
        n_epochs=5,
        warmup_epochs=2,
        batch_size=32,
        **FAST,
        **kw,
    )


NAMES = [name for name, _ in all_estimators()]


def test_pipeline_with_minmax_and_conv_kmeans(digits):
    X, _ = digits
    X = X[:300] * 16.0  # raw 0..16 pixel values: the scaler brings them into [0, 1]
    est = ConvAEKMeans(
        10,
        channels=(8, 16),
        likelihood="bernoulli",
        n_components=10,
        n_epochs=2,
        batch_size=64,
        **FAST,
    )
    # The Bernoulli likelihood refuses the raw pixels; in the pipeline it gets them scaled.
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\]"):
        clone(est).fit(X)
    pipe = make_pipeline(MinMaxScaler(), est).fit(X)
    X_new = digits[0][300:350] * 16.0  # raw rows the pipeline never saw
    assert pipe.predict(X_new).shape == (50,)
    assert pipe.transform(X_new).shape == (50, 10)


@pytest.mark.parametrize("name", NAMES)
def test_set_output_pandas_and_feature_union(blobs, name):
    X, _ = blobs
    est = _small(name).set_output(transform="pandas").fit(X)
    out = est.transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(est.get_feature_names_out())
    union = FeatureUnion([("latent", _small(name)), ("scaled", StandardScaler())])
    Z = union.fit_transform(X)
    assert Z.shape == (X.shape[0], est._n_features_out + X.shape[1])


def test_grid_search_with_cluster_accuracy_scorer(blobs):
    X, y = blobs
    search = GridSearchCV(
        _small("AEGMM"), {"n_clusters": [2, 3]}, scoring=cluster_accuracy_scorer, cv=2
    ).fit(X, y)
    assert search.best_params_ == {"n_clusters": 3}
    assert search.best_score_ > 0.9


def test_grid_search_without_labels_uses_estimator_score(blobs):
    """Without a scorer the search ranks by ``score``, the held-out log-likelihood: valid
    between mixtures on the same codes, so manifold=None and only head settings vary (the
    same seed trains the same network for each)."""
    X, _ = blobs
    base = _small("AEGMM", manifold=None)
    search = GridSearchCV(base, {"n_clusters": [1, 3]}, cv=2).fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()
    assert search.best_params_ == {"n_clusters": 3}
    # The first fold's score is the estimator's own: fit on the second half, score the first.
    fold = clone(base).set_params(n_clusters=3).fit(X[120:])
    assert search.cv_results_["split0_test_score"][1] == pytest.approx(fold.score(X[:120]))
    assert search.best_estimator_.labels_.shape == (X.shape[0],)


def test_randomized_search_silhouette_and_two_jobs(blobs):
    """n_jobs=2 sends estimators to joblib worker processes: they must pickle both ways."""
    X, _ = blobs
    search = RandomizedSearchCV(
        _small("DVAEClusterer"),
        {"similarity_weight": [0.0, 0.5], "latent_dim": [2, 3]},
        n_iter=2,
        scoring=silhouette_scorer,
        cv=2,
        n_jobs=2,
        random_state=0,
    ).fit(X)
    assert np.isfinite(search.best_score_)
    assert search.best_estimator_.predict(X).shape == (X.shape[0],)


def test_cross_val_score_with_scorer(blobs):
    X, y = blobs
    scores = cross_val_score(_small("ConvAEKMeans"), X, y, scoring=cluster_accuracy_scorer, cv=3)
    assert scores.shape == (3,)
    assert scores.mean() > 0.8


@pytest.mark.parametrize("name", NAMES)
def test_pickle_joblib_roundtrip_and_nested_params(tmp_path, blobs, name):
    X, _ = blobs
    est = _small(name).fit(X)
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    for loaded in (pickle.loads(pickle.dumps(est)), joblib.load(path)):
        np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
        np.testing.assert_allclose(loaded.transform(X), est.transform(X), rtol=1e-6, atol=1e-6)
    pipe = make_pipeline(StandardScaler(), clone(est))
    key = f"{type(est).__name__.lower()}__n_clusters"
    pipe.set_params(**{key: 4})
    assert pipe.get_params()[key] == 4
    assert repr(est).startswith(type(est).__name__)
