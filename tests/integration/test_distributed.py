"""Distributed search: joblib's Dask backend gives the same search as ``n_jobs=1``."""

from __future__ import annotations

import sys

import distributed
import joblib
import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from deepcluster_sk import AEGMM, ConvAEKMeans, DVAEClusterer
from deepcluster_sk.metrics import silhouette_scorer

TINY = {"hidden_dims": (16,), "latent_dim": 2, "n_epochs": 4, "device": "cpu", "random_state": 0}
ESTIMATORS = {
    "AEGMM": AEGMM(3, gmm_n_init=1, **TINY),
    "ConvAEKMeans": ConvAEKMeans(
        3, channels=(4,), n_components=2, kmeans_n_init=1, likelihood="gaussian", **TINY
    ),
    "DVAEClusterer": DVAEClusterer(
        3, pretrain_epochs=3, warmup_epochs=2, init="kmeans", likelihood="gaussian", **TINY
    ),
}


def _worker_threads():
    import os

    import torch

    return torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(150, n_features=8, centers=3, random_state=0)
    return StandardScaler().fit_transform(X).astype(np.float32)


def _search(estimator, n_jobs):
    return GridSearchCV(
        estimator, {"lr": [3e-3, 1e-2]}, scoring=silhouette_scorer, cv=2, n_jobs=n_jobs
    )


@pytest.mark.parametrize("name", ESTIMATORS)
def test_dask_search_equals_serial_search(client, blobs, name):
    serial = _search(ESTIMATORS[name], n_jobs=1).fit(blobs)
    with joblib.parallel_config(backend="dask"):
        remote = _search(ESTIMATORS[name], n_jobs=-1).fit(blobs)
    assert remote.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"], rtol=1e-5
    )
    np.testing.assert_array_equal(remote.predict(blobs), serial.predict(blobs))


def test_dask_workers_use_one_torch_thread_each(client):
    # No oversubscription: a worker with one thread runs torch on one thread. Dask's nanny
    # starts each worker process with OMP_NUM_THREADS=1 (distributed's
    # "nanny.pre-spawn-environ"), which torch reads when it starts.
    threads = client.run(_worker_threads)
    assert len(threads) == 2
    assert all(n_threads == 1 for n_threads, _ in threads.values()), threads


@pytest.mark.parametrize("name", ["AEGMM", "DVAEClusterer"])
def test_dask_randomized_search_equals_serial_search(client, blobs, name):
    from scipy.stats import loguniform
    from sklearn.model_selection import RandomizedSearchCV

    def search(n_jobs):
        return RandomizedSearchCV(
            ESTIMATORS[name],
            {"lr": loguniform(1e-3, 3e-2), "latent_dim": [2, 3]},
            n_iter=3,
            scoring=silhouette_scorer,
            cv=2,
            n_jobs=n_jobs,
            random_state=0,
        )

    serial = search(1).fit(blobs)
    with joblib.parallel_config(backend="dask"):
        remote = search(-1).fit(blobs)
    # The same sampled candidates, scored the same, and the same refitted model.
    assert list(remote.cv_results_["params"]) == list(serial.cv_results_["params"])
    assert remote.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"], rtol=1e-5
    )
    np.testing.assert_array_equal(remote.predict(blobs), serial.predict(blobs))


def test_ray_search_equals_serial_search(blobs):
    # Skipped only when Ray is absent (it is not in the test extra: a large install).
    ray = pytest.importorskip("ray")
    from ray import cloudpickle
    from ray.util.joblib import register_ray

    serial = _search(ESTIMATORS["AEGMM"], n_jobs=1).fit(blobs)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        register_ray()
        with joblib.parallel_config(backend="ray"):
            remote = _search(ESTIMATORS["AEGMM"], n_jobs=-1).fit(blobs)
        # Ray's workers cannot import this test module: ship the function by value.
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
        threads = ray.get(ray.remote(num_cpus=1)(_worker_threads).remote())
    finally:
        ray.shutdown()
    assert remote.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"], rtol=1e-5
    )
    np.testing.assert_array_equal(remote.predict(blobs), serial.predict(blobs))
    # Ray sets OMP_NUM_THREADS to the task's CPUs, so torch starts one thread per task.
    assert threads[0] == 1, threads


def test_nothing_touches_cuda_before_fit(monkeypatch):
    """A search's parent builds, clones and pickles estimators: none of that may ask torch
    about GPUs (a CUDA context in the parent breaks forked workers). ``device="auto"`` is
    resolved inside ``fit``, in the process that trains, so it finds that worker's GPU."""
    import pickle

    import torch
    from sklearn.base import clone

    calls = []

    def spy(*args, **kwargs):
        calls.append(args)
        return False

    monkeypatch.setattr(torch.cuda, "is_available", spy)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: calls.append("count") or 0)
    for est in (AEGMM(3), ConvAEKMeans(3), DVAEClusterer(3)):
        pickle.loads(pickle.dumps(clone(est).set_params(latent_dim=4)))
        est.get_params()
    assert calls == []
    assert not torch.cuda.is_initialized()
    X, _ = make_blobs(60, n_features=4, centers=3, random_state=0)
    AEGMM(3, hidden_dims=(8,), n_epochs=1, manifold=None, gmm_n_init=1).fit(X)
    assert calls  # fit resolved device="auto", and found no GPU here
    assert not torch.cuda.is_initialized()
