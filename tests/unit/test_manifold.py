"""The manifold head's pieces: the neighbour extension, unit-length codes, numba caching."""

from __future__ import annotations

import sys

import numpy as np
from sklearn.neighbors import NearestNeighbors


def test_neighbour_extension_is_a_fixed_map_of_each_row():
    from deepcluster_sk._manifold import NeighbourExtension

    rng = np.random.RandomState(0)
    Z, E = rng.randn(200, 4), rng.randn(200, 3)
    ext = NeighbourExtension(5).fit(Z, E)
    new = rng.randn(50, 4)
    full = ext.transform(new)
    # Independent of the other rows passed with it: subsets and reorderings agree exactly.
    np.testing.assert_array_equal(ext.transform(new[::-1])[::-1], full)
    np.testing.assert_array_equal(ext.transform(new[7:9]), full[7:9])
    # A point inside the convex hull of its neighbours' embeddings: a weighted mean.
    index = NearestNeighbors(n_neighbors=5).fit(Z)
    idx, idx_train = index.kneighbors(new)[1], index.kneighbors(Z)[1]
    neighbours = E.astype(np.float32)[idx]
    assert np.all(full >= neighbours.min(axis=1) - 1e-6)
    assert np.all(full <= neighbours.max(axis=1) + 1e-6)
    # On an embedding that is a smooth function of the codes, training codes map near their
    # own embedding: closer than their neighbours' embeddings are on average.
    smooth = NeighbourExtension(5).fit(Z, Z[:, :3])
    error = np.linalg.norm(smooth.transform(Z) - Z[:, :3], axis=1).mean()
    spread = np.linalg.norm(Z[idx_train][:, :, :3] - Z[:, None, :3], axis=2).mean()
    assert error < 0.5 * spread


def test_neighbour_extension_builds_its_search_once_per_fit(monkeypatch):
    import pickle

    from deepcluster_sk import _manifold
    from deepcluster_sk._manifold import NeighbourExtension

    builds = []
    fit = NearestNeighbors.fit

    def counted_fit(self, X):
        builds.append(len(X))
        return fit(self, X)

    monkeypatch.setattr(NearestNeighbors, "fit", counted_fit)
    rng = np.random.RandomState(0)
    Z, E, new = rng.randn(200, 4), rng.randn(200, 3), rng.randn(30, 4)
    ext = NeighbourExtension(5).fit(Z, E)
    first = ext.transform(new)
    np.testing.assert_array_equal(ext.transform(new[:10]), first[:10])
    assert builds == [200]  # the second call reuses the tree
    # The tree stays outside the state: a copy has the same two arrays and builds its own.
    assert set(vars(ext)) == {"n_neighbors", "normalize", "codes_", "embedding_"}
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(ext)).transform(new), first)
    assert builds == [200, 200]
    # A new fit indexes the new codes.
    ext.fit(Z[:100], E[:100])
    ext.transform(new)
    assert builds == [200, 200, 100]
    assert len(_manifold._SEARCHES) >= 1


def test_umap_kernels_get_numba_disk_caching_once_per_process(monkeypatch):
    """UMAP's uncached kernels get numba's on-disk cache (identical code, loaded by later
    processes); missing or uncacheable kernels are skipped; the variable turns it off."""
    import types

    from numba.core.caching import NullCache

    import deepcluster_sk._manifold as manifold

    monkeypatch.setattr(manifold, "_cached_kernels", None)
    enabled = manifold.cache_umap_kernels()
    assert enabled == [f"{m}.{n}" for m, n in manifold._UMAP_KERNELS]
    for module_name, name in manifold._UMAP_KERNELS:
        kernel = getattr(sys.modules[module_name], name)
        assert not isinstance(kernel._cache, NullCache)

    calls = []

    class Kernel:
        def __init__(self, fails=False):
            self.fails = fails

        def enable_caching(self):
            if self.fails:
                raise RuntimeError("cannot cache function: no locator available")
            calls.append(self)

    fake = types.SimpleNamespace(good=Kernel(), bad=Kernel(fails=True))
    monkeypatch.setitem(sys.modules, "fake_umap_kernels", fake)
    kernels = (("fake_umap_kernels", "good"), ("fake_umap_kernels", "bad"))
    monkeypatch.setattr(manifold, "_UMAP_KERNELS", (*kernels, ("fake_umap_kernels", "gone")))
    monkeypatch.setattr(manifold, "_cached_kernels", None)
    assert manifold.cache_umap_kernels() == ["fake_umap_kernels.good"]
    assert manifold.cache_umap_kernels() == ["fake_umap_kernels.good"]  # once per process
    assert calls == [fake.good]
    monkeypatch.setattr(manifold, "_cached_kernels", None)
    monkeypatch.setenv(manifold.CACHE_ENV, "0")
    assert manifold.cache_umap_kernels() == []
    assert calls == [fake.good]


def test_unit_rows_scales_rows_and_keeps_zero_rows():
    from deepcluster_sk._manifold import NeighbourExtension, unit_rows

    Z = np.array([[3.0, 4.0], [0.0, 0.0], [-1.0, 0.0]], dtype=np.float32)
    out = unit_rows(Z)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0], [-1.0, 0.0]])
    ext = NeighbourExtension(1, normalize=True).fit(Z, np.arange(3.0)[:, None])
    np.testing.assert_allclose(ext.codes_, out)
    # (0, 0.5) lies nearest the zero code but points the way of the first one.
    new = np.array([[0.0, 0.5], [-10.0, 0.0]])
    assert ext.transform(new)[:, 0].tolist() == [0.0, 2.0]
    raw = NeighbourExtension(1).fit(Z, np.arange(3.0)[:, None])
    assert raw.transform(new)[:, 0].tolist() == [1.0, 2.0]


def test_umap_layout_epochs_fall_above_10000_rows_to_a_floor():
    from deepcluster_sk._manifold import umap_epochs

    # UMAP's own count up to 10,000 rows: the embeddings of smaller sets do not change.
    for n in (5, 1797, 9298, 10_000):
        assert umap_epochs(n) is None
    assert umap_epochs(10_001) == 200
    assert umap_epochs(20_000) == 100
    assert umap_epochs(40_000) == 50
    assert umap_epochs(70_000) == 50
    assert umap_epochs(10**6) == 50
    epochs = [umap_epochs(n) for n in range(10_001, 100_000, 997)]
    assert epochs == sorted(epochs, reverse=True)


def test_umap_neighbourhood_shrinks_with_many_small_clusters():
    from deepcluster_sk._manifold import umap_neighbours

    # Ten large clusters keep the cap (30, or ConvAEKMeans' 50 on small sets).
    for n in (1797, 9298, 10_000, 70_000):
        assert umap_neighbours(n, 10, 30) == 30
    assert umap_neighbours(1797, 10, 50) == 50
    # Tables with a few classes keep the cap too.
    assert umap_neighbours(178, 3, 30) == 30
    assert umap_neighbours(569, 2, 30) == 30
    # 20 objects of 72 images: 3 * 1440 / 400; 40 people of 10 photos: the floor of 5.
    assert umap_neighbours(1440, 20, 30) == 11
    assert umap_neighbours(400, 40, 30) == 5
    # Monotone: more rows never shrink it, more clusters never widen it.
    sizes = [umap_neighbours(n, 25, 30) for n in range(100, 20_000, 500)]
    assert sizes == sorted(sizes)
    widths = [umap_neighbours(5000, k, 30) for k in range(2, 200)]
    assert widths == sorted(widths, reverse=True)
    assert min(widths) == 5
