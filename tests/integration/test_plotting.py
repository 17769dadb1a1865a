"""Tests of deepcluster_sk.plotting (Agg backend, tiny fitted estimators)."""

from __future__ import annotations

import importlib
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.exceptions import NotFittedError

from deepcluster_sk import AEGMM, ConvAEKMeans, DVAEClusterer, plotting
from deepcluster_sk.plotting import (
    plot_confusion,
    plot_embedding,
    plot_history,
    plot_reconstructions,
)

N_ROWS = 300


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:N_ROWS], y[:N_ROWS]


@pytest.fixture(scope="module")
def aegmm(data):
    X, _ = data
    return AEGMM(10, hidden_dims=(32,), n_epochs=3, random_state=0).fit(X)


@pytest.fixture(scope="module")
def convae(data):
    X, _ = data
    est = ConvAEKMeans(10, channels=(4, 8), n_components=5, n_epochs=2, random_state=0)
    return est.fit(X)


@pytest.fixture(scope="module")
def dvae(data):
    X, _ = data
    est = DVAEClusterer(
        10,
        hidden_dims=(32,),
        latent_dim=2,
        pretrain_epochs=2,
        n_epochs=2,
        warmup_epochs=1,
        random_state=0,
    )
    return est.fit(X)


class _Identity:
    """Duck-typed fitted autoencoder whose reconstruction is its input."""

    def __init__(self, input_shape=None):
        if input_shape is not None:
            self.input_shape_ = input_shape

    def reconstruct(self, X):
        return np.asarray(X, dtype=np.float64)


def _points(ax):
    (sc,) = [c for c in ax.collections if c.get_gid() == "points"]
    return np.asarray(sc.get_offsets())


def _centroids(ax):
    (sc,) = [c for c in ax.collections if c.get_gid() == "centroids"]
    return np.asarray(sc.get_offsets())


# --------------------------------------------------------------------------------------------------
# plot_embedding
# --------------------------------------------------------------------------------------------------
def test_embedding_pca_true_labels_and_clusters(aegmm, data):
    X, y = data
    fig = plot_embedding(aegmm, X, y, method="pca", n_samples=N_ROWS, random_state=0)
    assert isinstance(fig, Figure)
    ax_true, ax_clusters = fig.axes
    assert ax_true.get_title() == "true labels"
    assert ax_clusters.get_title() == "clusters"
    for ax in fig.axes:
        assert ax.get_xlabel() == "PC 1"
        assert ax.get_ylabel() == "PC 2"
        assert _points(ax).shape == (N_ROWS, 2)
    # all rows are drawn, in order: the centroids are the per-cluster means of the points
    labels = aegmm.predict(X)
    ids = np.unique(labels)
    points = _points(ax_clusters)
    expected = np.array([points[labels == k].mean(axis=0) for k in ids])
    np.testing.assert_allclose(_centroids(ax_clusters), expected, rtol=1e-6, atol=1e-9)
    assert sorted(t.get_text() for t in ax_clusters.texts) == sorted(str(k) for k in ids)
    # the true-label panel has a legend with one entry per class
    assert len(ax_true.get_legend().get_texts()) == np.unique(y).shape[0]


def test_embedding_points_are_pca_of_transform(aegmm, data):
    X, _ = data
    fig = plot_embedding(aegmm, X, method="pca", n_samples=N_ROWS, random_state=0)
    codes = aegmm.transform(X)
    codes = codes - codes.mean(axis=0)
    # PCA is defined up to the sign of each component
    _, _, vt = np.linalg.svd(codes, full_matrices=False)
    expected = codes @ vt[:2].T
    got = _points(fig.axes[0])
    np.testing.assert_allclose(np.abs(got), np.abs(expected), rtol=1e-4, atol=1e-4)


def test_embedding_without_y_has_only_cluster_axes(aegmm, data):
    X, _ = data
    fig = plot_embedding(aegmm, X, method="pca", n_samples=120, random_state=0, title="AEGMM")
    (ax,) = fig.axes
    assert ax.get_title() == "clusters"
    assert "AEGMM" in [t.get_text() for t in fig.texts]  # the suptitle
    assert _points(ax).shape == (120, 2)  # a subset of n_samples rows
    assert len(_centroids(ax)) == len(ax.texts)
    assert 1 <= len(_centroids(ax)) <= 10


def test_embedding_subsample_is_reproducible(aegmm, data):
    X, y = data
    a = plot_embedding(aegmm, X, y, method="pca", n_samples=50, random_state=3)
    b = plot_embedding(aegmm, X, y, method="pca", n_samples=50, random_state=3)
    np.testing.assert_array_equal(_points(a.axes[1]), _points(b.axes[1]))
    assert _points(a.axes[0]).shape == (50, 2)


def test_embedding_tsne(convae, data):
    X, y = data
    fig = plot_embedding(convae, X, y, method="tsne", n_samples=60, random_state=0)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert ax.get_xlabel() == "t-SNE 1"
        assert ax.get_ylabel() == "t-SNE 2"
        assert _points(ax).shape == (60, 2)
        assert np.isfinite(_points(ax)).all()


def test_embedding_2d_latent_is_not_reduced(dvae, data):
    X, y = data
    fig = plot_embedding(dvae, X, y, method="tsne", n_samples=N_ROWS)
    ax = fig.axes[1]
    np.testing.assert_allclose(_points(ax), dvae.transform(X), rtol=1e-6)
    assert ax.get_xlabel() == "latent 1"
    assert len(_centroids(ax)) == np.unique(dvae.predict(X)).shape[0]


def test_embedding_string_labels(aegmm, data):
    X, y = data
    names = np.array([f"digit {v}" for v in y])
    fig = plot_embedding(aegmm, X, names, method="pca", n_samples=N_ROWS)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == sorted(set(names))


def test_embedding_errors(aegmm, data):
    X, y = data
    with pytest.raises(ValueError, match="method"):
        plot_embedding(aegmm, X, y, method="umap")
    with pytest.raises(ValueError, match="one label per row"):
        plot_embedding(aegmm, X, y[:-1], method="pca")
    with pytest.raises(ValueError, match="n_samples"):
        plot_embedding(aegmm, X, method="pca", n_samples=1)
    with pytest.raises(NotFittedError, match="AEGMM instance is not fitted yet"):
        plot_embedding(AEGMM(10), X, method="pca")


# --------------------------------------------------------------------------------------------------
# plot_confusion
# --------------------------------------------------------------------------------------------------
def test_confusion_permuted_labels_give_diagonal():
    y_true = np.repeat([0, 1, 2, 3], [5, 3, 4, 2])
    perm = np.array([2, 3, 0, 1])  # class c is cluster perm[c]
    fig = plot_confusion(y_true, perm[y_true])
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), np.diag([5, 3, 4, 2]))
    assert ax.get_title() == "ACC = 1.000"
    assert ax.get_xlabel() == "cluster (Hungarian-matched)"
    assert ax.get_ylabel() == "true label"
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(c) for c in perm]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2", "3"]
    cells = sorted(t.get_text() for t in ax.texts)
    assert cells == sorted(["5", "3", "4", "2"] + ["0"] * 12)


def test_confusion_known_mapping_and_extra_clusters():
    # class a -> cluster 7, class b -> cluster 5; cluster 9 is left unmatched
    y_true = np.array(["a"] * 4 + ["b"] * 4)
    y_pred = np.array([7, 7, 7, 9, 5, 5, 5, 7])
    fig = plot_confusion(y_true, y_pred)
    ax = fig.axes[0]
    expected = np.array([[3, 0, 1], [1, 3, 0]])  # columns: clusters 7, 5, 9
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["7", "5", "9"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert ax.get_title() == "ACC = 0.750"
    assert len(ax.texts) == expected.size


def test_confusion_normalize_and_given_axes():
    y_true = np.array([0, 0, 0, 0, 1, 1])
    y_pred = np.array([1, 1, 1, 0, 0, 0])
    fig0, ax = plt.subplots()
    fig = plot_confusion(y_true, y_pred, normalize=True, ax=ax)
    assert fig is fig0
    got = np.asarray(ax.images[0].get_array())
    np.testing.assert_allclose(got, [[0.75, 0.25], [0.0, 1.0]])
    np.testing.assert_allclose(got.sum(axis=1), 1.0)
    assert "0.75" in [t.get_text() for t in ax.texts]
    assert ax.get_title() == "ACC = 0.833"


def test_confusion_title_matches_estimator_accuracy(aegmm, data):
    from deepcluster_sk.metrics import cluster_accuracy

    X, y = data
    labels = aegmm.predict(X)
    fig = plot_confusion(y, labels)
    assert fig.axes[0].get_title() == f"ACC = {cluster_accuracy(y, labels):.3f}"
    matrix = np.asarray(fig.axes[0].images[0].get_array())
    assert matrix.sum() == len(y)
    # matched clusters sit on the diagonal: its sum is the number of correctly mapped samples
    assert np.trace(matrix) == round(cluster_accuracy(y, labels) * len(y))


def test_confusion_invalid_input():
    with pytest.raises(ValueError, match="same length"):
        plot_confusion([0, 1, 1], [0, 1])


# --------------------------------------------------------------------------------------------------
# plot_history
# --------------------------------------------------------------------------------------------------
def test_history_single_phase(aegmm):
    fig = plot_history(aegmm)
    (ax,) = fig.axes
    assert ax.get_title() == "train"
    assert ax.get_xlabel() == "epoch"
    (line,) = ax.get_lines()
    assert line.get_label() == "loss"
    np.testing.assert_array_equal(line.get_xdata(), [r["epoch"] for r in aegmm.history_])
    np.testing.assert_allclose(line.get_ydata(), [r["loss"] for r in aegmm.history_])
    assert ax.get_yscale() == "log"
    assert ax.get_legend() is not None


def test_history_phases_and_terms(dvae):
    phases = list(dict.fromkeys(r["phase"] for r in dvae.history_))
    assert phases == ["pretrain", "classifier", "train"]
    fig = plot_history(dvae)
    assert [ax.get_title() for ax in fig.axes] == phases
    labels = {ax.get_title(): [ln.get_label() for ln in ax.get_lines()] for ax in fig.axes}
    assert labels["pretrain"] == ["loss"]
    assert labels["classifier"] == ["loss"]
    assert labels["train"] == ["loss", "rec", "kl_z", "kl_c", "anchor", "sim"]

    fig = plot_history(dvae, terms=["loss"])
    assert sum(len(ax.get_lines()) for ax in fig.axes) == 1 * len(phases)

    fig = plot_history(dvae, terms=["loss", "rec", "kl_z"])
    counts = {ax.get_title(): len(ax.get_lines()) for ax in fig.axes}
    assert counts == {"pretrain": 1, "classifier": 1, "train": 3}
    # diagnostics are drawn when asked for
    fig = plot_history(dvae, terms=["agreement"])
    assert [len(ax.get_lines()) for ax in fig.axes] == [0, 1, 1]


def test_history_linear_scale_when_values_not_positive(dvae):
    # the similarity term is zero during warm-up: no log scale for that panel
    fig = plot_history(dvae, terms=["sim"])
    assert fig.axes[-1].get_yscale() == "linear"


def test_history_errors(dvae):
    with pytest.raises(NotFittedError, match="AEGMM instance is not fitted yet"):
        plot_history(AEGMM(10))
    with pytest.raises(ValueError, match="not in history_"):
        plot_history(dvae, terms=["nope"])
    with pytest.raises(ValueError, match="at least one"):
        plot_history(dvae, terms=[])


# --------------------------------------------------------------------------------------------------
# plot_reconstructions
# --------------------------------------------------------------------------------------------------
def test_reconstructions_dense_square(aegmm, data):
    X, _ = data
    n = 6
    fig = plot_reconstructions(aegmm, X, n_images=n, random_state=0)
    assert len(fig.axes) == 2 * n
    assert fig.axes[0].get_ylabel() == "original"
    assert fig.axes[n].get_ylabel() == "reconstruction"
    for ax in fig.axes:
        assert len(ax.images) == 1
        assert ax.images[0].get_array().shape == (8, 8)
        assert len(ax.get_xticks()) == 0
        assert len(ax.get_yticks()) == 0
    # each original is a row of X, shown above its reconstruction
    for col in range(n):
        top = np.asarray(fig.axes[col].images[0].get_array()).ravel()
        row = int(np.argmin(np.abs(X - top).sum(axis=1)))
        np.testing.assert_allclose(top, X[row], rtol=1e-6)
        bottom = np.asarray(fig.axes[n + col].images[0].get_array()).ravel()
        np.testing.assert_allclose(bottom, aegmm.reconstruct(X[row : row + 1])[0], atol=1e-6)


def test_reconstructions_uses_input_shape(convae, data):
    X, _ = data
    assert convae.input_shape_ == (1, 8, 8)
    fig = plot_reconstructions(convae, X, n_images=3, random_state=1)
    assert len(fig.axes) == 6
    assert all(ax.images[0].get_array().shape == (8, 8) for ax in fig.axes)


def test_reconstructions_rgb_and_image_shape():
    rng = np.random.RandomState(0)
    X = rng.rand(5, 3 * 4 * 6)
    fig = plot_reconstructions(_Identity(input_shape=(3, 4, 6)), X, n_images=2, random_state=0)
    assert len(fig.axes) == 4
    assert all(ax.images[0].get_array().shape == (4, 6, 3) for ax in fig.axes)

    X = rng.rand(5, 10)
    fig = plot_reconstructions(_Identity(), X, n_images=3, image_shape=(2, 5))
    assert all(ax.images[0].get_array().shape == (2, 5) for ax in fig.axes)
    # more images than rows: capped at the number of rows
    fig = plot_reconstructions(_Identity(), X, n_images=9, image_shape=(2, 5))
    assert len(fig.axes) == 2 * 5


def test_reconstructions_of_the_vae(dvae, data):
    X, _ = data
    fig = plot_reconstructions(dvae, X, n_images=2, random_state=0)
    assert len(fig.axes) == 4


def test_reconstructions_errors(data):
    X, _ = data
    with pytest.raises(TypeError, match="reconstruct"):
        plot_reconstructions(object(), X)
    with pytest.raises(ValueError, match="image_shape"):
        plot_reconstructions(_Identity(), np.zeros((4, 10)))
    with pytest.raises(ValueError, match="image_shape"):
        plot_reconstructions(_Identity(), np.zeros((4, 10)), image_shape=(3, 3))
    with pytest.raises(ValueError, match="n_images"):
        plot_reconstructions(_Identity(), np.zeros((4, 9)), n_images=0)
    with pytest.raises(NotFittedError, match="AEGMM instance is not fitted yet"):
        plot_reconstructions(AEGMM(10), X)


# --------------------------------------------------------------------------------------------------
# optional dependency
# --------------------------------------------------------------------------------------------------
def test_import_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "deepcluster_sk.plotting")
    with pytest.raises(ImportError, match=r'pip install "deepcluster_sk\[plot\]"'):
        importlib.import_module("deepcluster_sk.plotting")


def test_public_api():
    assert sorted(plotting.__all__) == [
        "plot_confusion",
        "plot_embedding",
        "plot_history",
        "plot_reconstructions",
    ]
