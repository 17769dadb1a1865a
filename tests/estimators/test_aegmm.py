"""AEGMM: dense and convolutional autoencoder followed by a Gaussian mixture."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_wine, make_blobs
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from deepcluster_sk import AEGMM
from deepcluster_sk._manifold import unit_rows
from deepcluster_sk.metrics import cluster_accuracy

FAST = {"batch_size": 32, "device": "cpu", "random_state": 0}


def dense(n_clusters=3, **params):
    settings = {"hidden_dims": (64,), "latent_dim": 4, "n_epochs": 5, **FAST}
    settings.update(params)
    return AEGMM(n_clusters, **settings)


def conv(n_clusters=3, **params):
    settings = {
        "encoder": "conv",
        "channels": (8, 16),
        "latent_dim": 4,
        "n_epochs": 3,
        **FAST,
    }
    settings.update(params)
    return AEGMM(n_clusters, **settings)


def transform_width(est):
    """Width of ``transform``: the UMAP embedding's n_clusters by default, else the codes'."""
    return est.n_clusters if est.manifold is not None else est.latent_dim


@pytest.fixture(scope="module")
def blobs():
    """150 points, 3 well separated blobs in 20 dimensions, standardised."""
    X, y = make_blobs(n_samples=150, n_features=20, centers=3, center_box=(-10, 10), random_state=0)
    return StandardScaler().fit_transform(X).astype(np.float32), y


@pytest.fixture(scope="module")
def small_digits(digits):
    X, y = digits
    return X[:300], y[:300]


@pytest.fixture(scope="module")
def dense_fitted(blobs):
    return dense().fit(blobs[0])


@pytest.fixture(scope="module")
def conv_fitted(small_digits):
    return conv(10, input_shape=(1, 8, 8)).fit(small_digits[0])


@pytest.fixture(params=["dense", "conv"])
def fitted_and_X(request, blobs, small_digits, dense_fitted, conv_fitted):
    if request.param == "dense":
        return dense_fitted, blobs[0]
    return conv_fitted, small_digits[0]


# ------------------------------------------------------------------------- API
def test_output_shapes(fitted_and_X):
    est, X = fitted_and_X
    n, k = X.shape[0], est.n_clusters
    assert est.labels_.shape == (n,)
    assert est.predict(X).shape == (n,)
    assert est.transform(X).shape == (n, transform_width(est))
    assert len(est.get_feature_names_out()) == transform_width(est)
    # Under the default manifold="umap" that is the n_clusters-d embedding the mixture is
    # fitted in, not the latent_dim-d codes.
    assert est.manifold == "umap"
    assert transform_width(est) == k != est.latent_dim
    assert est.predict_proba(X).shape == (n, k)
    assert est.score_samples(X).shape == (n,)
    assert est.n_features_in_ == X.shape[1]
    for value in (est.score(X), est.bic(X), est.aic(X)):
        assert isinstance(value, float)
        assert np.isfinite(value)


def assert_placed_at_nearest_training_code(est, X_new):
    """The documented out-of-sample map of the UMAP head, written independently: each new row
    sits at the embedding of its nearest training code (codes at unit length when the network
    sees images) and gets the mixture's label of that point."""
    new = est._latent(X_new).astype(np.float32)
    if est.manifold_.normalize:
        new = unit_rows(new)
    index = NearestNeighbors(n_neighbors=1).fit(est.manifold_.codes_)
    nearest = index.kneighbors(new, return_distance=False)[:, 0]
    embedding = est.manifold_.embedding_.astype(np.float64)
    np.testing.assert_allclose(est.transform(X_new), embedding[nearest], rtol=0, atol=1e-6)
    labels = est.predict(X_new)
    np.testing.assert_array_equal(labels, est.gmm_.predict(embedding)[nearest])
    return labels


def test_predict_on_held_out_rows(blobs):
    """Rows the model never saw are placed at their nearest training code's embedding, and
    get the cluster holding most training rows of their class."""
    X, y = blobs
    held = np.arange(len(X)) % 5 == 0
    est = dense().fit(X[~held])
    labels = assert_placed_at_nearest_training_code(est, X[held])
    majority = {c: np.bincount(est.labels_[y[~held] == c]).argmax() for c in np.unique(y)}
    assert np.mean(labels == np.array([majority[c] for c in y[held]])) >= 0.9


def test_predict_on_held_out_images_uses_unit_length_codes(digits, conv_fitted):
    assert conv_fitted.manifold_.normalize
    assert_placed_at_nearest_training_code(conv_fitted, digits[0][300:360])  # fit on [:300]


def test_predict_proba_rows_sum_to_one_and_argmax_is_predict(fitted_and_X):
    est, X = fitted_and_X
    proba = est.predict_proba(X)
    assert np.all(proba >= 0.0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(proba.argmax(axis=1), est.predict(X))


def test_scores_are_those_of_the_mixture_on_the_codes(fitted_and_X):
    est, X = fitted_and_X
    Z = est.transform(X)
    assert isinstance(est.gmm_, GaussianMixture)
    assert est.gmm_.n_components == est.n_clusters
    np.testing.assert_allclose(est.score_samples(X), est.gmm_.score_samples(Z))
    np.testing.assert_allclose(est.score(X), est.score_samples(X).mean(), rtol=1e-10)
    np.testing.assert_allclose(est.bic(X), est.gmm_.bic(Z))
    np.testing.assert_allclose(est.aic(X), est.gmm_.aic(Z))


def test_conv_infers_square_single_channel_shape(small_digits):
    X, _ = small_digits
    est = conv(4, n_epochs=1).fit(X)
    assert est.input_shape_ == (1, 8, 8)
    assert est.transform(X).shape == (X.shape[0], 4)


def test_conv_accepts_height_width_pair(small_digits):
    X, _ = small_digits
    est = conv(4, n_epochs=1, input_shape=(8, 8)).fit(X)
    assert est.input_shape_ == (1, 8, 8)


def test_conv_on_rectangular_multichannel_images():
    rng = np.random.RandomState(0)
    X = rng.rand(40, 2 * 6 * 10).astype(np.float32)
    est = conv(3, n_epochs=2, input_shape=(2, 6, 10), likelihood="bernoulli").fit(X)
    assert est.labels_.shape == (40,)
    rec = est.reconstruct(X)
    assert rec.shape == X.shape
    assert rec.min() >= 0.0
    assert rec.max() <= 1.0


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_covariance_types(blobs, covariance_type):
    X, _ = blobs
    est = dense(n_epochs=2, covariance_type=covariance_type).fit(X)
    assert est.gmm_.covariance_type == covariance_type
    np.testing.assert_allclose(est.predict_proba(X).sum(axis=1), 1.0, rtol=1e-6)


# -------------------------------------------------------------------- quality
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dense_separates_blobs(blobs, seed):
    X, y = blobs
    labels = dense(random_state=seed).fit_predict(X)
    assert cluster_accuracy(y, labels) >= 0.9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_conv_separates_bar_images(bars, seed):
    X, y = bars
    labels = conv(3, n_epochs=10, batch_size=16, random_state=seed).fit_predict(X)
    assert cluster_accuracy(y, labels) >= 0.9


@pytest.mark.parametrize("manifold", ["umap", None])
def test_dense_on_tabular_wine_data(manifold):
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    est = dense(n_epochs=10, covariance_type="diag", manifold=manifold).fit(X)
    assert est.transform(X).shape == (X.shape[0], transform_width(est))
    # Chance is ~0.40 (largest class); the AE + GMM gets ~0.9 on standardised wine, on the
    # UMAP embedding (3-d) as on the codes (4-d).
    assert cluster_accuracy(y, est.labels_) >= 0.8


def test_training_reduces_reconstruction_loss(blobs):
    est = dense(n_epochs=10).fit(blobs[0])
    losses = [h["loss"] for h in est.history_]
    assert losses[-1] < losses[0]


def test_bic_on_the_codes_selects_the_true_number_of_clusters(blobs):
    """The documented recipe: same seed (so the same network and codes) and manifold=None.
    (Under the UMAP head the embedding has n_clusters dimensions: BICs are not comparable.)"""
    X, _ = blobs
    fits = {k: dense(k, manifold=None).fit(X) for k in (1, 2, 3, 4)}
    for est in fits.values():
        np.testing.assert_array_equal(est.transform(X), fits[3].transform(X))
    bic = {k: est.bic(X) for k, est in fits.items()}
    assert min(bic, key=bic.get) == 3


# ------------------------------------------------------------------ bad input
def test_conv_on_non_square_features_reads_1d_signals(blobs):
    X, _ = blobs  # 20 features: not a square image -> a 1-D signal of length 20
    est = conv().fit(X)
    assert est.input_shape_ == (1, 1, 20)
    assert est.predict(X).shape == (X.shape[0],)


@pytest.mark.parametrize("input_shape", [(1, 7, 7), (2, 8, 8), (7, 9)])
def test_conv_with_wrong_input_shape_product(small_digits, input_shape):
    X, _ = small_digits
    with pytest.raises(ValueError, match="input_shape"):
        conv(input_shape=input_shape).fit(X)


@pytest.mark.parametrize("input_shape", [(0, 8, 8), (1, 2, 4, 8), "2d"])
def test_conv_with_malformed_input_shape(small_digits, input_shape):
    X, _ = small_digits
    with pytest.raises(ValueError, match="input_shape"):
        conv(input_shape=input_shape).fit(X)


def test_non_finite_input_at_predict(blobs, dense_fitted):
    X = blobs[0].copy()
    X[0, 0] = np.nan
    for method in ("predict", "predict_proba", "score_samples", "score", "bic", "aic"):
        with pytest.raises(ValueError, match="NaN"):
            getattr(dense_fitted, method)(X)


@pytest.mark.parametrize(
    "params, name",
    [({"covariance_type": "bogus"}, "covariance_type"), ({"gmm_n_init": 0}, "gmm_n_init")],
)
def test_invalid_head_parameters_name_the_parameter(blobs, params, name):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        dense(**params).fit(blobs[0])


@pytest.mark.parametrize("network", ["dense", "conv"])
def test_paper_preset(network):
    est = AEGMM.paper(4, network=network)
    assert est.encoder == network and est.n_clusters == 4
    assert est.hidden_dims == (500, 500, 2000) and est.latent_dim == 10 and est.n_epochs == 50
    assert AEGMM.paper(network=network, n_epochs=3).n_epochs == 3
    with pytest.raises(ValueError, match="network"):
        AEGMM.paper(network="bogus")
