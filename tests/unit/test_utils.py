"""Helpers of ``deepcluster_sk._utils``: batch sizes, data placement, 8-bit rows, the
augmentation map."""

from __future__ import annotations

import warnings

import numpy as np
import torch


def test_auto_batch_size_gives_small_data_enough_steps():
    from deepcluster_sk._utils import resolve_batch_size

    assert resolve_batch_size("auto", 70000) == 256
    assert resolve_batch_size("auto", 2560) == 256
    assert resolve_batch_size("auto", 1797) == 128
    assert resolve_batch_size("auto", 178) == 32
    assert resolve_batch_size(64, 10) == 64
    # ConvAEKMeans asks for 25 mini-batches an epoch: only sets under 6,400 rows change.
    assert resolve_batch_size("auto", 6400, min_batches=25) == 256
    assert resolve_batch_size("auto", 6399, min_batches=25) == 128
    assert resolve_batch_size("auto", 1797, min_batches=25) == 64
    assert resolve_batch_size("auto", 178, min_batches=25) == 32


def test_auto_epochs_keep_the_work_of_12800_rows_on_larger_sets():
    from deepcluster_sk._utils import resolve_n_epochs

    for n in (178, 1797, 9298, 10_000, 12_800):
        assert resolve_n_epochs("auto", n, 50) == 50
        assert resolve_n_epochs("auto", n, 10) == 10
    assert resolve_n_epochs("auto", 12_801, 50) == 50  # rounded up
    assert resolve_n_epochs("auto", 70_000, 50) == 10
    assert resolve_n_epochs("auto", 70_000, 100) == 19
    assert resolve_n_epochs("auto", 70_000, 10) == 2
    assert resolve_n_epochs("auto", 640_000, 50) == 1
    assert resolve_n_epochs("auto", 10**8, 50) == 1
    assert resolve_n_epochs(7, 70_000, 50) == 7
    assert resolve_n_epochs(0, 10, 50) == 0
    # Rows through the network: never fewer than the full count on 12,800 rows.
    for n in range(12_800, 700_000, 9_999):
        epochs = resolve_n_epochs("auto", n, 50)
        assert epochs * n >= 50 * 12_800 and (epochs - 1) * n < 50 * 12_800


def test_latent_dim_auto_gives_each_cluster_a_direction():
    from deepcluster_sk._utils import resolve_latent_dim

    assert resolve_latent_dim("auto", 2) == 10
    assert resolve_latent_dim("auto", 10) == 10
    assert resolve_latent_dim("auto", 40) == 40
    assert resolve_latent_dim(3, 40) == 3
    assert resolve_latent_dim(None, 40) is None


def test_a_read_only_memmap_is_shared_not_copied(tmp_path):
    # fit() turns X into one tensor: for a memmap opened read-only it must be a view of
    # the file's pages (torch.from_numpy), not a copy of the whole data set.
    from deepcluster_sk._utils import as_tensor

    path = tmp_path / "X.npy"
    np.save(path, np.random.RandomState(0).rand(500, 8).astype(np.float32))
    X = np.load(path, mmap_mode="r")
    assert not X.flags.writeable
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tensor = as_tensor(X, torch.device("cpu"))
    assert tensor.data_ptr() == X.ctypes.data
    np.testing.assert_array_equal(tensor.numpy(), X)


def test_a_uint8_memmap_is_shared_and_scaled_one_batch_at_a_time(tmp_path):
    from deepcluster_sk._utils import as_tensor, rows_as_float

    path = tmp_path / "X.npy"
    np.save(path, np.random.RandomState(0).randint(0, 256, (500, 8)).astype(np.uint8))
    X = np.load(path, mmap_mode="r")
    tensor = as_tensor(X, torch.device("cpu"))
    assert tensor.dtype == torch.uint8 and tensor.data_ptr() == X.ctypes.data
    rows = rows_as_float(tensor[:5], torch.device("cpu"))
    assert rows.dtype == torch.float32
    np.testing.assert_array_equal(rows.numpy(), X[:5].astype(np.float32) / np.float32(255))
    labels = torch.arange(5)
    assert rows_as_float(labels, torch.device("cpu")).dtype == torch.int64  # labels unscaled


def test_data_stay_in_host_memory_when_they_do_not_fit_on_the_gpu(monkeypatch):
    from deepcluster_sk import _utils

    cpu, gpu = torch.device("cpu"), torch.device("cuda", 0)
    assert _utils.data_device(10**12, cpu) == cpu  # the CPU shares the caller's array
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (8 * 2**30, 16 * 2**30))
    assert _utils.data_device(3 * 2**30, gpu) == gpu  # 3 GiB of 8 GiB free: copied once
    assert _utils.data_device(5 * 2**30, gpu) == cpu  # over half the free memory: batches


def test_random_affine_moves_images_reproducibly_and_keeps_identity():
    """The augmentation map: zero shift and rotation is the identity; a draw is seeded by its
    generator; a shift moves the mass of an image without losing it (inside the frame)."""
    from deepcluster_sk._utils import make_generator, random_affine

    images = torch.zeros(8, 1, 12, 12)
    images[:, 0, 4:8, 5:7] = 1.0
    rows = images.reshape(8, -1)
    same = random_affine(rows, (1, 12, 12), 0.0, 0.0, make_generator(0))
    torch.testing.assert_close(same, rows, atol=1e-6, rtol=0)
    moved = random_affine(rows, (1, 12, 12), 0.2, 15.0, make_generator(1))
    again = random_affine(rows, (1, 12, 12), 0.2, 15.0, make_generator(1))
    assert torch.equal(moved, again)
    assert moved.shape == rows.shape
    assert not torch.allclose(moved, rows)
    # The block stays inside the frame, so bilinear resampling keeps its mass.
    torch.testing.assert_close(moved.sum(1), rows.sum(1), atol=0.05, rtol=0)
    # The centre of mass moves by at most the shift (0.2 * 12 px) plus the rotation's share.
    grid = torch.arange(12.0)
    col = (moved.reshape(8, 12, 12).sum(1) * grid).sum(1) / moved.sum(1)
    assert (col - 5.5).abs().max() <= 0.2 * 12 + 1.0
    assert (col - 5.5).abs().max() > 0.1
