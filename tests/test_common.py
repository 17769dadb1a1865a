"""scikit-learn's common estimator checks on tiny configurations of every estimator."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from deepcluster_sk import AEGMM, ConvAEKMeans, DVAEClusterer


class _TinyDVAE(DVAEClusterer):
    """The DVAE with pretraining settings scaled to 50-row check data (private knobs)."""

    _pretrain_lr = 1e-2
    _pretrain_batch_size = 16
    _kmeans_n_init = 3
    _classifier_epochs = 5


# Small but not too small: ``check_clustering`` asks for ARI > 0.4 on 50 standardised 2-D
# blobs, which these settings reach for every seed 0-7 we tried (not only the check's seed 0).
FAST = {"n_epochs": 10, "batch_size": 16, "device": "cpu", "random_state": 0}

ESTIMATORS = [
    AEGMM(3, hidden_dims=(16,), latent_dim=2, lr=1e-2, **FAST),
    AEGMM(3, encoder="conv", input_shape="1d", channels=(16,), latent_dim=3, gmm_n_init=3, **FAST),
    # The check data are standardised, not in [0, 1]: BCE would (rightly) refuse them.
    ConvAEKMeans(
        3,
        channels=(8,),
        input_shape="1d",
        likelihood="gaussian",
        n_components=3,
        kmeans_n_init=3,
        lr=1e-2,
        **FAST,
    ),
    _TinyDVAE(
        3,
        hidden_dims=(16,),
        latent_dim=2,
        pretrain_epochs=10,
        n_epochs=5,
        warmup_epochs=2,
        batch_size=16,
        device="cpu",
        random_state=0,
    ),
]


def _expected_failed_checks(estimator):
    """One-line reason for every check an estimator is known to fail.

    ``check_methods_subset_invariance`` compares a method on 20 rows with the same method
    applied row by row at ``rtol=atol=1e-7``. The networks compute in float32 (eps 1.2e-7)
    and torch's CPU kernels pick different algorithms for a batch of 1 and a batch of 20, so
    the codes differ by a few ulp. The strict tolerance cannot hold for a float32 network.
    """
    if isinstance(estimator, AEGMM):
        return {
            "check_methods_subset_invariance": (
                "float32 network outputs differ ~1e-7 relative between batch sizes and the "
                "GMM log-density (score_samples) amplifies that past the check's rtol=1e-7"
            ),
        }
    if isinstance(estimator, DVAEClusterer):
        return {
            "check_methods_subset_invariance": (
                "float32 network outputs differ ~1e-7 relative between batch sizes; the "
                "per-sample ELBO (score_samples) sums hundreds of such terms, past rtol=1e-7"
            ),
        }
    if isinstance(estimator, ConvAEKMeans):
        return {
            "check_methods_subset_invariance": (
                "float32 conv-encoder codes differ by a few ulp (~5e-7) between a batch of 1 and "
                "of 20 (different CPU kernels), past the check's atol=rtol=1e-7 on transform"
            ),
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
