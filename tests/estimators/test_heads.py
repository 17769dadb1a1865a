"""The estimators' heads: restarts chosen without labels, the collapse warning, the scaled
similarity kernel in the DVAE, the manifold head and self-training (their pure pieces are in
tests/unit/)."""

import sys
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from deepcluster_sk import AEGMM, ConvAEKMeans, DVAEClusterer, _heads
from deepcluster_sk._heads import ClusterCollapseWarning, ClusterHead
from deepcluster_sk.metrics import cluster_accuracy
from deepcluster_sk.nn import component_kl

TINY = {"hidden_dims": (32,), "latent_dim": 2}


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(300, n_features=8, centers=3, cluster_std=1.0, random_state=0)
    return X.astype(np.float32), y


# ----------------------------------------------------------------- restarts
def test_aegmm_keeps_the_most_likely_mixture(blobs):
    X, _ = blobs
    est = AEGMM(3, n_epochs=3, gmm_n_init=4, manifold=None, random_state=0, **TINY).fit(X)
    assert est.gmm_restart_scores_.shape == (4,)
    Z = est.transform(X)
    assert est.gmm_.score(Z) == pytest.approx(est.gmm_restart_scores_.max(), rel=1e-6)
    # Under the manifold the restarts are scored on the training rows' UMAP embedding.
    est = AEGMM(3, n_epochs=3, gmm_n_init=4, random_state=0, **TINY).fit(X)
    E = est.manifold_.embedding_
    assert est.gmm_.score(E) == pytest.approx(est.gmm_restart_scores_.max(), rel=1e-5)


def test_dvae_initial_partition_is_the_most_likely_mixture(blobs):
    X, y = blobs
    est = DVAEClusterer(
        3, init="gmm", pretrain_epochs=20, n_epochs=2, warmup_epochs=1, random_state=0, **TINY
    ).fit(X)
    assert est.init_restart_scores_.shape == (est.head_.n_init,) == (10,)
    assert np.isfinite(est.init_restart_scores_).all()
    assert adjusted_rand_score(y, est.init_labels_) > 0.9


def test_dvae_default_initial_partition_is_a_mixture_in_the_umap_embedding(blobs):
    X, y = blobs
    est = DVAEClusterer(3, pretrain_epochs=20, n_epochs=2, warmup_epochs=1, random_state=0, **TINY)
    est.fit(X)
    assert est.init == "umap"
    assert est.init_restart_scores_.shape == (est.head_.head_.n_init,) == (10,)
    assert adjusted_rand_score(y, est.init_labels_) > 0.9
    # The embedding only initialises: prediction stays the classifier on the codes.
    assert est.transform(X).shape == (len(X), 2)
    assert not hasattr(est, "manifold_")


def test_dvae_umap_init_without_umap_names_the_extra(blobs, monkeypatch):
    X, _ = blobs
    monkeypatch.setitem(sys.modules, "umap", None)
    est = DVAEClusterer(3, pretrain_epochs=1, n_epochs=1, random_state=0, **TINY)
    with pytest.raises(ImportError, match=r'pip install "deepcluster_sk\[umap\]"'):
        est.fit(X)
    assert not hasattr(est, "module_")
    DVAEClusterer(3, init="kmeans", pretrain_epochs=1, n_epochs=1, random_state=0, **TINY).fit(X)


def test_anchored_terms_weight_the_components_by_the_pseudo_labels(blobs):
    X, _ = blobs
    est = DVAEClusterer(3, init="kmeans", pretrain_epochs=2, n_epochs=1, random_state=0, **TINY)
    est.fit(X)
    module, prior = est.module_, est.module_.prior
    xb = torch.from_numpy(X[:6])
    labels = torch.tensor([0, 1, 2, 2, 1, 0])
    with torch.no_grad():
        mu, logvar = module.encode_full(xb)
        eps = torch.zeros_like(mu)
        _, l_z, l_c, log_gamma = est._neg_elbo_terms(xb, mu, logvar, eps, labels=labels)
        _, free_l_z, _, _ = est._neg_elbo_terms(xb, mu, logvar, eps)
        kl = component_kl(mu, logvar, prior.mu_c, prior.logvar())
    s = DVAEClusterer._anchor_smoothing
    weights = torch.full((6, 3), s / 3).scatter_(1, labels[:, None], 1 - s + s / 3)
    torch.testing.assert_close(l_z, (weights * kl).sum(1))
    torch.testing.assert_close(l_c, (weights * (weights.log() - prior.log_pi())).sum(1))
    # Unanchored, the classifier's probabilities weight the components.
    torch.testing.assert_close(free_l_z, (log_gamma.exp() * kl).sum(1))


def test_dvae_stops_once_the_labels_settle(blobs):
    X, _ = blobs

    params = {"pretrain_epochs": 10, "n_epochs": 100, "warmup_epochs": 2, "random_state": 0}
    est = DVAEClusterer(3, **params, **TINY).fit(X)
    train = [r for r in est.history_ if r["phase"] == "train"]
    assert len(train) < 100
    assert train[-1]["label_change"] < est.tol
    checks = [r["epoch"] for r in train if "label_change" in r]
    assert checks[0] == 2 + DVAEClusterer._tol_interval - 1
    assert np.diff(checks).tolist() == [DVAEClusterer._tol_interval] * (len(checks) - 1)
    full = DVAEClusterer(3, tol=0.0, **params, **TINY).fit(X)
    assert sum(r["phase"] == "train" for r in full.history_) == 100


def test_the_anchor_is_part_of_every_joint_epoch(blobs):
    """Every joint epoch weights the classifier's cross-entropy on the pseudo-labels; the
    label check starts at the end of the warm-up."""
    X, _ = blobs
    params = {"pretrain_epochs": 10, "n_epochs": 100, "warmup_epochs": 2, "random_state": 0}
    est = DVAEClusterer(3, **params, **TINY).fit(X)
    train = [r for r in est.history_ if r["phase"] == "train"]
    assert all("anchor" in r for r in train)
    for r in train:  # the weighted cross-entropy on the pseudo-labels is part of the loss
        assert r["loss"] == pytest.approx(
            r["rec"]
            + r["kl_z"]
            + r["kl_c"]
            + est._anchor_weight * r["anchor"]
            + r["beta"] * r["sim"],
            rel=1e-4,
        )
    checks = [r["epoch"] for r in train if "label_change" in r]
    assert checks[0] == 2 + DVAEClusterer._tol_interval - 1
    assert len(train) < 100
    assert train[-1]["label_change"] < est.tol
    # Anchored with weight _anchor_weight, the labels stay those of the initial partition.
    assert adjusted_rand_score(est.init_labels_, est.labels_) > 0.95


# ------------------------------------------------------------ collapse guard
def test_a_collapsed_initial_partition_warns(blobs):
    X, _ = blobs

    class OneCluster(ClusterHead):
        max_samples = 10**9

        def _fit(self, Z, rng):
            self.n_features_out_ = Z.shape[1]
            return np.zeros(len(Z), dtype=np.int64)

        def _predict(self, Z):
            return np.zeros(len(Z), dtype=np.int64)

    class Collapsed(DVAEClusterer):
        def _build_head(self, n_samples):
            return OneCluster()

    est = Collapsed(3, pretrain_epochs=1, n_epochs=1, warmup_epochs=0, random_state=0, **TINY)
    with pytest.warns(ClusterCollapseWarning, match="initial partition.*pretrain_epochs"):
        est.fit(X)


def test_a_short_budget_on_small_data_does_not_collapse(blobs):
    """One epoch on 300 rows still gives a partition that uses every cluster."""
    X, y = blobs
    for est in (
        AEGMM(3, n_epochs=1, random_state=0, **TINY),
        DVAEClusterer(3, pretrain_epochs=1, n_epochs=1, warmup_epochs=0, random_state=0, **TINY),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ClusterCollapseWarning)
            labels = est.fit_predict(X)
        assert np.unique(labels).size == 3
        assert adjusted_rand_score(y, labels) > 0.5


# ------------------------------------------------------- similarity bandwidth
def test_dvae_records_bandwidth_and_gradient_ratio(blobs):
    X, _ = blobs
    for bandwidth in ("median", 2.5):
        est = DVAEClusterer(
            3,
            pretrain_epochs=5,
            n_epochs=3,
            warmup_epochs=1,
            similarity_bandwidth=bandwidth,
            random_state=0,
            **TINY,
        ).fit(X)
        if bandwidth == "median":
            assert est.similarity_bandwidth_ > 0
        else:
            assert est.similarity_bandwidth_ == 2.5
        ratios = [h["sim_grad_ratio"] for h in est.history_ if h["phase"] == "train"]
        assert ratios[0] == 0.0 and all(r > 0 for r in ratios[1:])


def test_dvae_recovers_separable_clusters_with_default_settings():
    """Defaults shrunk only in epochs and width."""
    X, y = make_blobs(400, n_features=10, centers=4, cluster_std=0.5, random_state=1)
    est = DVAEClusterer(
        4,
        hidden_dims=(64, 64),
        pretrain_epochs=30,
        n_epochs=20,
        warmup_epochs=10,
        random_state=0,
    )
    labels = est.fit_predict(X.astype(np.float32))
    assert adjusted_rand_score(y, labels) >= 0.95
    again = DVAEClusterer(**est.get_params()).fit_predict(X.astype(np.float32))
    np.testing.assert_array_equal(labels, again)


# ------------------------------------------------------------ manifold head
@pytest.mark.parametrize("Estimator", [AEGMM, ConvAEKMeans])
def test_manifold_head_without_umap_names_the_extra(blobs, monkeypatch, Estimator):
    X, _ = blobs
    monkeypatch.setitem(sys.modules, "umap", None)  # import umap -> ImportError
    params = {"encoder": "dense"} if Estimator is ConvAEKMeans else {}
    est = Estimator(3, n_epochs=1, manifold="umap", random_state=0, **TINY, **params)
    with pytest.raises(ImportError, match=r'pip install "deepcluster_sk\[umap\]"'):
        est.fit(X)
    assert not hasattr(est, "module_")


def test_manifold_parameter_is_validated(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="manifold"):
        AEGMM(3, n_epochs=1, manifold="tsne", **TINY).fit(X)


def _head_labels_of_nearest_training_code(est, X_new):
    """The documented out-of-sample map, written independently: each new row sits at the
    embedding of its nearest training code (tabular codes: as they are) and gets the head's
    label of that point."""
    index = NearestNeighbors(n_neighbors=1).fit(est.manifold_.codes_)
    nearest = index.kneighbors(est._latent(X_new), return_distance=False)[:, 0]
    embedding = est.manifold_.embedding_.astype(np.float64)
    inner = est.head_.head_  # the head fitted on the embedding
    placed = inner.transform(embedding)[nearest]
    np.testing.assert_allclose(est.transform(X_new), placed, rtol=0, atol=1e-6)
    return inner.predict(embedding)[nearest]


@pytest.mark.parametrize("Estimator", [AEGMM, ConvAEKMeans])
def test_manifold_head_is_inductive(blobs, Estimator):
    """Held-out rows, which neither UMAP nor the head saw, are labelled through their nearest
    training code and land in the cluster of their class."""
    X, y = blobs
    held = np.arange(len(X)) % 3 == 0
    params = {"encoder": "dense"} if Estimator is ConvAEKMeans else {}
    est = Estimator(3, n_epochs=30, manifold="umap", random_state=0, **TINY, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # numba/umap chatter
        est.fit(X[~held])
    assert est.manifold_.codes_.shape[0] == np.sum(~held)
    assert adjusted_rand_score(y[~held], est.labels_) > 0.9
    labels = est.predict(X[held])
    np.testing.assert_array_equal(labels, _head_labels_of_nearest_training_code(est, X[held]))
    majority = {c: np.bincount(est.labels_[y[~held] == c]).argmax() for c in range(3)}
    assert np.mean(labels == np.array([majority[c] for c in y[held]])) >= 0.95
    if hasattr(est, "predict_proba"):
        proba = est.predict_proba(X[held])
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
        np.testing.assert_array_equal(proba.argmax(axis=1), labels)


@pytest.mark.parametrize("Estimator", [AEGMM, ConvAEKMeans])
def test_manifold_is_the_default_and_labels_are_the_heads_partition(blobs, Estimator):
    X, y = blobs
    assert Estimator().manifold == "umap"
    assert Estimator.paper().manifold is None
    params = {"encoder": "dense"} if Estimator is ConvAEKMeans else {}
    est = Estimator(3, n_epochs=20, random_state=0, **TINY, **params).fit(X)
    assert est.manifold_ is not None
    # Training rows go through the same one-neighbour map as new rows, which places each at
    # its own embedding: labels_ is the head's partition of the embedding it was fitted on.
    embedding = est.manifold_.embedding_.astype(np.float64)
    np.testing.assert_array_equal(est.labels_, est.head_.head_.predict(embedding))
    assert adjusted_rand_score(y, est.labels_) > 0.9
    assert est.transform(X).shape == (len(X), len(est.get_feature_names_out()))


def test_aegmm_places_rows_at_their_nearest_training_code(blobs):
    """AEGMM's manifold: a training row sits at its own embedding (so ``labels_`` is the
    mixture's partition of the embedding it was fitted on) and a new row at the embedding of
    its nearest training code."""
    X, _ = blobs
    est = AEGMM(3, n_epochs=5, random_state=0, **TINY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # numba/umap chatter
        est.fit(X)
    embedding = est.manifold_.embedding_
    np.testing.assert_allclose(est.transform(X), embedding, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(est.labels_, est.gmm_.predict(embedding.astype(np.float64)))
    new = X[:40] + 0.3 * np.random.RandomState(2).randn(40, X.shape[1]).astype(np.float32)
    codes = est.manifold_.codes_
    nearest = (
        NearestNeighbors(n_neighbors=1)
        .fit(codes)
        .kneighbors(est._latent(new), return_distance=False)[:, 0]
    )
    np.testing.assert_allclose(est.transform(new), embedding[nearest], rtol=0, atol=1e-6)


def test_conv_ae_kmeans_small_sets_get_more_steps_and_umap_neighbours(monkeypatch):
    """ConvAEKMeans' small-data rule: 25 batches an epoch, 50 UMAP neighbours under 4,096
    rows; AEGMM keeps 10 batches and 30 neighbours; the neighbours reach UMAP."""
    ck, ae = ConvAEKMeans(), AEGMM()
    ck.n_clusters_ = ae.n_clusters_ = 10  # the count fit resolves before these rules run
    assert (ck._umap_neighbours(1797), ck._umap_neighbours(4096)) == (50, 30)
    assert (ae._umap_neighbours(1797), ae._umap_neighbours(70000)) == (30, 30)
    seen = []

    def record(Z, n_components, n_neighbors, min_dist, rng, verbose=False):
        seen.append(n_neighbors)
        return Z[:, :n_components].astype(np.float64)

    monkeypatch.setattr(_heads, "fit_umap_embedding", record)
    X = np.random.RandomState(0).rand(300, 64).astype(np.float32)
    est = ConvAEKMeans(3, channels=(4, 8), n_epochs=1, random_state=0).fit(X)
    # Both fits of the head (before and after self-training) take the small-data rule.
    assert seen == [50, 50] and est._batch_size == 32
    AEGMM(3, hidden_dims=(8,), n_epochs=1, random_state=0).fit(X)
    assert seen == [50, 50, 30]


@pytest.mark.parametrize("Estimator", [AEGMM, ConvAEKMeans])
def test_large_data_fit_the_head_on_a_subset_and_label_every_row(blobs, Estimator, monkeypatch):
    """Above the head's ``max_samples`` rows the head (and manifold) see a random subset;
    every row is still labelled through the fitted maps, in blocks that do not change
    results."""
    X, y = blobs
    params = {"encoder": "dense"} if Estimator is ConvAEKMeans else {}
    build = Estimator._build_head
    monkeypatch.setattr(
        Estimator, "_build_head", lambda self, n: build(self, n).set_params(max_samples=120)
    )
    monkeypatch.setattr(_heads, "_CHUNK_ROWS", 64)
    est = Estimator(3, n_epochs=20, random_state=0, **TINY, **params).fit(X)
    assert est.manifold_.codes_.shape[0] == 120  # the manifold saw the subset
    assert est.labels_.shape == (len(X),)
    # The rows outside the subset got the head's label of their nearest subset code.
    np.testing.assert_array_equal(est.labels_, _head_labels_of_nearest_training_code(est, X))
    assert adjusted_rand_score(y, est.labels_) > 0.9
    again = Estimator(3, n_epochs=20, random_state=0, **TINY, **params).fit(X)
    np.testing.assert_array_equal(again.labels_, est.labels_)  # the subset is seeded
    # Blocks of 64 rows (labels_) give what one call on all rows gives.
    monkeypatch.setattr(_heads, "_CHUNK_ROWS", 10_000)
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    if Estimator is AEGMM:
        whole = (est.predict_proba(X), est.score_samples(X), est.score(X))
        monkeypatch.setattr(_heads, "_CHUNK_ROWS", 64)
        np.testing.assert_allclose(est.predict_proba(X), whole[0], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(est.score_samples(X), whole[1], rtol=1e-12)
        assert est.score(X) == pytest.approx(whole[2], rel=1e-12)
        assert est.score(X) == pytest.approx(est.gmm_.score(est.transform(X)), rel=1e-12)
        assert np.isfinite(est.bic(X)) and np.isfinite(est.aic(X))


@pytest.mark.parametrize("init", ["umap", "gmm", "kmeans"])
def test_dvae_initial_partition_of_large_data_is_fitted_on_a_subset(blobs, init, monkeypatch):
    X, y = blobs
    build = DVAEClusterer._build_head
    monkeypatch.setattr(
        DVAEClusterer, "_build_head", lambda self, n: build(self, n).set_params(max_samples=150)
    )
    monkeypatch.setattr(_heads, "_CHUNK_ROWS", 64)

    fitted_rows = []
    for name in ("fit_umap_embedding", "GaussianMixture", "KMeans"):
        original = getattr(_heads, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            if _name == "fit_umap_embedding":
                fitted_rows.append(len(args[0]))
                return _original(*args, **kwargs)
            model = _original(*args, **kwargs)
            fit = model.fit
            model.fit = lambda Z, *a, **k: fitted_rows.append(len(Z)) or fit(Z, *a, **k)
            return model

        monkeypatch.setattr(_heads, name, spy)
    params = {"pretrain_epochs": 20, "n_epochs": 2, "init": init, "random_state": 0}
    est = DVAEClusterer(3, **TINY, **params).fit(X)
    assert fitted_rows and set(fitted_rows) == {150}  # UMAP, EM, k-means saw the subset
    assert est.init_labels_.shape == (len(X),)
    assert adjusted_rand_score(y, est.init_labels_) > 0.9  # every row labelled, and well
    again = DVAEClusterer(3, **TINY, **params).fit(X)
    np.testing.assert_array_equal(again.init_labels_, est.init_labels_)


def test_aegmm_manifold_sees_image_codes_at_unit_length(blobs, monkeypatch):
    """On images AEGMM's UMAP and neighbour map see the codes scaled to unit length (and the
    scaling survives save/load); tabular codes keep their length."""
    import io

    from deepcluster_sk import load, save

    seen = []

    def record(Z, n_components, n_neighbors, min_dist, rng, verbose=False):
        seen.append(np.linalg.norm(Z, axis=1))
        return np.asarray(Z, dtype=np.float64)[:, :n_components] * 3.0

    monkeypatch.setattr(_heads, "fit_umap_embedding", record)
    X = np.random.RandomState(0).rand(300, 64).astype(np.float32)
    est = AEGMM(3, input_shape=(1, 8, 8), channels=(4, 8), n_epochs=1, random_state=0).fit(X)
    np.testing.assert_allclose(seen[0], 1.0, rtol=1e-5)
    assert est.manifold_.normalize
    # A new code is placed by its direction: a row whose code is a multiple of a training
    # code lands on that code's embedding.
    codes = est._latent(X)
    np.testing.assert_allclose(
        est.manifold_.transform(2.5 * codes[:20]), est.manifold_.embedding_[:20], atol=1e-6
    )
    np.testing.assert_allclose(est.transform(X), est.manifold_.embedding_, atol=1e-6)
    buffer = io.BytesIO()
    save(est, buffer)
    buffer.seek(0)
    loaded = load(buffer)
    assert loaded.manifold_.normalize
    np.testing.assert_array_equal(loaded.predict(X[:50]), est.predict(X[:50]))

    Xb, _ = blobs
    # The image fit embedded twice (before and after its self-training); the table once.
    assert len(seen) == 2
    np.testing.assert_allclose(seen[1], 1.0, rtol=1e-5)
    tabular = AEGMM(3, n_epochs=1, random_state=0, **TINY).fit(Xb)
    assert not tabular.manifold_.normalize
    assert len(seen) == 3
    assert not np.allclose(seen[-1], 1.0, rtol=1e-3)


def _refine_records(est):
    return [h for h in est.history_ if h["phase"] == "refine"]


def test_aegmm_self_training_learns_the_heads_labels_on_images(bars, blobs, monkeypatch):
    """After the first mixture AEGMM trains on images for ``self_training`` more epochs
    ("auto": 10) towards the head's own labels (their cross-entropy falls), never ``y``,
    reproducibly, then refits the mixture; "auto" skips tabular rows, and 0 turns it off."""
    X, y = bars
    kw = {"input_shape": (1, 8, 8), "channels": (8, 16), "n_epochs": 5, "random_state": 0}
    est = AEGMM(3, **kw).fit(X)
    refine = _refine_records(est)
    assert len(refine) == 10
    assert refine[-1]["ce"] < refine[0]["ce"]
    assert cluster_accuracy(y, est.labels_) >= 0.9
    # The mixture was refitted on the refined codes: it scores them, not the first codes.
    np.testing.assert_allclose(est.gmm_.score(est.transform(X)), est.score(X), rtol=1e-6)

    shuffled = AEGMM(3, **kw).fit(X, np.random.RandomState(1).permutation(y))
    np.testing.assert_array_equal(shuffled.labels_, est.labels_)
    assert [h["ce"] for h in _refine_records(shuffled)] == [h["ce"] for h in refine]

    Xb, yb = blobs
    assert not _refine_records(AEGMM(3, n_epochs=2, random_state=0, **TINY).fit(Xb))
    tables = AEGMM(3, n_epochs=2, self_training=10, random_state=0, **TINY).fit(Xb)
    assert len(_refine_records(tables)) == 10
    assert cluster_accuracy(yb, tables.labels_) >= 0.9
    assert not _refine_records(AEGMM(3, self_training=0, **kw).fit(X))
    assert len(_refine_records(ConvAEKMeans(3, **kw).fit(X))) == 10  # its default is "auto"
    assert not _refine_records(ConvAEKMeans(3, self_training=0, **kw).fit(X))


@pytest.mark.parametrize("cls", [AEGMM, ConvAEKMeans, DVAEClusterer])
def test_many_small_clusters_get_wide_codes_and_a_small_neighbourhood(cls):
    # 12 clusters of 20 rows: latent_dim="auto" is 12, the UMAP neighbourhood 3 * 240 / 144.
    X, _ = make_blobs(240, n_features=16, centers=12, random_state=0)
    epochs = {"pretrain_epochs": 1, "n_epochs": 1} if cls is DVAEClusterer else {"n_epochs": 1}
    est = cls(12, random_state=0, **epochs).fit(X.astype(np.float32))
    with torch.no_grad():
        codes = est.module_.encode(torch.as_tensor(X[:5], dtype=torch.float32))
    assert codes.shape[-1] == 12
    assert est.head_.n_neighbors == 5
    # Ten clusters keep a 10-d code and (on 1,800 rows) the usual neighbourhood.
    three = cls(3, random_state=0)
    three.n_clusters_ = 3  # the count fit resolves before it builds the network
    assert three._network_params()["latent_dim"] == 10
