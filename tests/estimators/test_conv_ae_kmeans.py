"""ConvAEKMeans: convolutional autoencoder -> PCA -> k-means."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from deepcluster_sk import ConvAEKMeans
from deepcluster_sk._manifold import unit_rows
from deepcluster_sk.metrics import cluster_accuracy

FAST = {"channels": (8, 16), "n_epochs": 2, "batch_size": 32, "device": "cpu", "random_state": 0}


def make_est(n_clusters=3, **params):
    settings = {**FAST, "n_components": 10, "kmeans_n_init": 3}
    settings.update(params)
    return ConvAEKMeans(n_clusters, **settings)


def color_squares(n_per_class=20, side=32, seed=0):
    """3-channel images: a bright square in the red, green or blue channel, plus noise."""
    rng = np.random.RandomState(seed)
    X = 0.2 * rng.rand(3 * n_per_class, 3, side, side).astype(np.float32)
    y = np.repeat(np.arange(3), n_per_class)
    for i, c in enumerate(y):
        r, s = rng.randint(0, side // 2, size=2)
        X[i, c, r : r + side // 2, s : s + side // 2] = 1.0
    return X.reshape(len(y), -1), y


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    return X[:300], y[:300]


@pytest.fixture(scope="module")
def fitted(small_digits):
    return make_est(10, likelihood="bernoulli").fit(small_digits[0])


@pytest.fixture(scope="module")
def fitted_on_codes(small_digits):
    """``fitted`` without the manifold step: PCA and k-means on the codes themselves."""
    return make_est(10, likelihood="bernoulli", manifold=None).fit(small_digits[0])


def pca_width(est, n_samples):
    """Width of ``transform``: PCA keeps at most n_components, n_samples and the dimensions
    of its input, the n_clusters-d UMAP embedding by default or the codes with manifold=None.
    """
    space = est.n_clusters if est.manifold is not None else est.module_.latent_dim
    return min(est.n_components, n_samples, space)


# ------------------------------------------------------------------------- API
def test_fits_and_predicts_on_digits(small_digits, fitted):
    X, _ = small_digits
    assert fitted.input_shape_ == (1, 8, 8)
    assert fitted.labels_.shape == (X.shape[0],)
    assert set(np.unique(fitted.labels_)) <= set(range(10))
    assert fitted.predict(X[:7]).shape == (7,)
    assert isinstance(fitted.pca_, PCA)
    assert isinstance(fitted.kmeans_, KMeans)
    # self_training="auto": 30 images a cluster, so 10 self-training epochs follow.
    phases = [record["phase"] for record in fitted.history_]
    assert phases == ["train"] * FAST["n_epochs"] + ["refine"] * 10
    assert fitted.n_features_in_ == 64


def test_predict_on_held_out_images_follows_the_nearest_training_code(digits, fitted):
    """A row the model never saw is placed at the embedding of its nearest training code (the
    codes at unit length: the network sees images) and gets k-means' label there."""
    X_new = digits[0][300:360]  # ``fitted`` saw the first 300 digits only
    assert fitted.manifold_.normalize
    index = NearestNeighbors(n_neighbors=1).fit(fitted.manifold_.codes_)
    new_codes = unit_rows(fitted._latent(X_new).astype(np.float32))
    nearest = index.kneighbors(new_codes, return_distance=False)[:, 0]
    placed = fitted.pca_.transform(fitted.manifold_.embedding_.astype(np.float64))[nearest]
    np.testing.assert_allclose(fitted.transform(X_new), placed, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(fitted.predict(X_new), fitted.kmeans_.predict(placed))


def test_transform_shape_and_cluster_centers(small_digits, fitted):
    X, _ = small_digits
    Z = fitted.transform(X)
    assert Z.shape == (X.shape[0], 10)
    assert fitted.cluster_centers_.shape == (10, 10)
    # The labels are k-means' nearest centroid in the transformed space.
    d = ((Z[:, None, :] - fitted.cluster_centers_[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(d.argmin(axis=1), fitted.labels_)
    assert len(fitted.get_feature_names_out()) == Z.shape[1]


def test_n_components_is_capped_by_the_code_size(small_digits):
    X, _ = small_digits
    est = make_est(4, n_epochs=1, latent_dim=16, n_components=50, manifold=None).fit(X)
    assert est.module_.latent_dim == 16
    assert est.pca_.n_components_ == 16
    assert est.transform(X).shape == (X.shape[0], 16)
    assert est.cluster_centers_.shape == (4, 16)


def test_n_components_is_capped_by_n_samples(small_digits):
    X, _ = small_digits
    est = make_est(3, n_epochs=1, n_components=50, latent_dim=None, manifold=None).fit(X[:12])
    assert est.transform(X[:12]).shape == (12, 12)


def test_score_is_negative_inertia(small_digits, fitted_on_codes):
    X, _ = small_digits
    score = fitted_on_codes.score(X)
    assert isinstance(score, float)
    assert score < 0.0
    assert score == pytest.approx(-fitted_on_codes.kmeans_.inertia_, rel=1e-4)
    # Scoring a subset gives a smaller inertia (a sum over fewer points).
    assert fitted_on_codes.score(X[:50]) > score


def test_reconstruct_is_in_unit_interval_for_bce(small_digits, fitted):
    X, _ = small_digits
    rec = fitted.reconstruct(X[:20])
    assert rec.shape == (20, 64)
    assert rec.min() >= 0.0
    assert rec.max() <= 1.0


def test_inverse_transform_returns_images(small_digits, fitted_on_codes):
    X, _ = small_digits
    images = fitted_on_codes.inverse_transform(fitted_on_codes.transform(X[:15]))
    assert images.shape == (15, X.shape[1])
    assert images.min() >= 0.0
    assert images.max() <= 1.0
    centers = fitted_on_codes.inverse_transform(fitted_on_codes.cluster_centers_)
    assert centers.shape == (10, X.shape[1])


def test_inverse_transform_needs_manifold_none(small_digits, fitted):
    # The default PCA space is that of the UMAP embedding, which has no map back to codes.
    with pytest.raises(ValueError, match="manifold=None"):
        fitted.inverse_transform(fitted.transform(small_digits[0][:5]))


def test_inverse_transform_of_transform_is_reconstruct_without_reduction(small_digits):
    X, _ = small_digits
    # With as many components as code dimensions the PCA is a rotation: nothing is lost.
    est = make_est(3, n_epochs=1, latent_dim=8, n_components=8, manifold=None).fit(X)
    np.testing.assert_allclose(
        est.inverse_transform(est.transform(X[:20])), est.reconstruct(X[:20]), atol=1e-4
    )


def test_three_channel_32x32_images():
    X, _ = color_squares()
    est = make_est(3, channels=(4, 8), input_shape=(3, 32, 32), batch_size=16).fit(X)
    assert est.input_shape_ == (3, 32, 32)
    assert est.labels_.shape == (60,)
    assert est.transform(X).shape == (60, pca_width(est, 60))
    # The default manifold="umap": PCA of the 3-d embedding (n_clusters), not of the 10-d codes.
    assert pca_width(est, 60) == 3
    assert est.reconstruct(X[:4]).shape == (4, 3 * 32 * 32)


@pytest.mark.parametrize("input_shape", [(1, 15, 9), (2, 7, 5), (1, 1, 13)])
def test_odd_sizes_reconstruct_to_the_input_size(input_shape):
    n_features = int(np.prod(input_shape))
    X = np.random.RandomState(0).rand(30, n_features).astype(np.float32)
    est = make_est(
        3, channels=(4, 8), input_shape=input_shape, n_epochs=1, likelihood="bernoulli"
    ).fit(X)
    assert est.input_shape_ == input_shape
    rec = est.reconstruct(X)
    assert rec.shape == X.shape
    assert np.all((rec >= 0.0) & (rec <= 1.0))


def test_mse_loss_accepts_unscaled_data():
    X = np.random.RandomState(0).randn(40, 36).astype(np.float32) * 5.0
    est = make_est(3, channels=(4,), likelihood="gaussian", n_epochs=1).fit(X)
    assert est.labels_.shape == (40,)


def test_training_reduces_loss(bars):
    X, _ = bars
    est = make_est(3, n_epochs=8, batch_size=16).fit(X)
    losses = [h["loss"] for h in est.history_]
    assert losses[-1] < losses[0]


# -------------------------------------------------------------------- quality
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_better_than_chance_on_separable_bars(bars, seed):
    X, y = bars
    labels = make_est(3, n_epochs=5, batch_size=16, random_state=seed).fit_predict(X)
    assert cluster_accuracy(y, labels) >= 0.9  # chance is 1/3


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("input_shape", [(1, 7, 9), (3, 8, 8), (10, 10)])
def test_wrong_input_shape_for_n_features(small_digits, input_shape):
    with pytest.raises(ValueError, match="input_shape"):
        make_est(input_shape=input_shape).fit(small_digits[0])


def test_non_square_features_are_read_as_1d_signals():
    X = np.random.RandomState(0).rand(20, 50).astype(np.float32)
    est = make_est().fit(X)
    assert est.input_shape_ == (1, 1, 50)
    assert est.transform(X).shape[0] == 20


# ------------------------------------------------------- regressions of fixed bugs
@pytest.mark.parametrize("manifold", [None, "umap"])
def test_score_with_pandas_output_does_not_warn(small_digits, manifold):
    X, _ = small_digits
    est = make_est(3, n_epochs=1, manifold=manifold).set_output(transform="pandas").fit(X)
    assert isinstance(est.transform(X[:5]), pd.DataFrame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score = est.score(X)
    assert isinstance(score, float) and np.isfinite(score)
    if manifold is None:
        # On the codes the training rows' score is minus k-means' training inertia (under
        # the manifold it is measured on the rows the neighbour extension maps, not on
        # the embedding k-means was fitted on).
        assert score == pytest.approx(-est.kmeans_.inertia_, rel=1e-4)


def test_inverse_transform_with_wrong_width_is_a_clear_error(fitted_on_codes):
    with pytest.raises(ValueError, match=r"n_components|features"):
        fitted_on_codes.inverse_transform(np.zeros((2, 4)))


def test_batch_size_one_is_a_clear_error(small_digits):
    X = small_digits[0][:10]
    # 8x8 -> 4 -> 2 -> 1 -> 1: the fourth block's BatchNorm sees one value per channel.
    est = make_est(3, channels=(4, 4, 4, 4), batch_size=1, n_epochs=1)
    with pytest.raises(ValueError, match="batch_size"):
        est.fit(X)


def test_paper_preset_uses_flattened_feature_maps(small_digits):
    est = ConvAEKMeans.paper(3, channels=(4, 8), n_epochs=1, device="cpu", random_state=0)
    assert est.latent_dim is None and est.n_components == 50 and est.likelihood == "bernoulli"
    assert est.encoder == "conv_pool"
    X = small_digits[0][:100]
    est.fit(X)
    # 8x8 -> 4x4 -> 2x2 with 8 channels: the code is the flattened 32-wide feature map.
    assert est.module_.latent_dim == 8 * 2 * 2
    assert est.transform(X).shape == (100, 32)


@pytest.mark.parametrize(
    ("encoder", "batch_norm", "kernel_size", "pooled"),
    [("conv", False, 5, False), ("conv_pool", True, 3, True)],
)
def test_builtin_conv_encoders_build_the_requested_blocks(
    small_digits, encoder, batch_norm, kernel_size, pooled
):
    X, _ = small_digits
    est = make_est(3, encoder=encoder).fit(X)
    layers = list(est.module_.encoder.blocks)
    convs = [m for m in layers if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(c.kernel_size == (kernel_size, kernel_size) for c in convs)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in layers) is batch_norm
    assert any(isinstance(m, torch.nn.MaxPool2d) for m in layers) is pooled
    assert est.reconstruct(X[:5]).shape == (5, X.shape[1])
