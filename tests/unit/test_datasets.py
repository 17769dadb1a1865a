"""Tests for deepcluster_sk.datasets: real shared data, npz layouts, and downloads.

Downloads are only ever made from a local HTTP server on 127.0.0.1; an autouse fixture makes
any other address fail the test.
"""

import functools
import hashlib
import http.server
import os
import re
import socket
import threading
import urllib.parse
import urllib.request

import numpy as np
import pytest

from deepcluster_sk import datasets
from deepcluster_sk.datasets import (
    MNIST_SHA256,
    MNIST_URL,
    get_data_home,
    load_mnist,
    load_npz,
    load_usps,
)
from tests._helpers import SHARED_DATA

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
USPS_COUNTS = [1553, 1269, 929, 824, 852, 716, 834, 792, 708, 821]


def _require(name):
    if not (SHARED_DATA / name).is_file():
        pytest.skip(f"shared data file {SHARED_DATA / name} not available")


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """Fail any test that tries to reach an address other than the loopback interface."""
    real_urlopen = urllib.request.urlopen

    def guarded(url, *args, **kwargs):
        full = url.full_url if isinstance(url, urllib.request.Request) else url
        host = urllib.parse.urlsplit(full).hostname
        if host not in ("127.0.0.1", "localhost"):
            raise AssertionError(f"test tried to contact {full}")
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guarded)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv(datasets.ENV_DATA_HOME, raising=False)


# --------------------------------------------------------------------------- get_data_home


def test_get_data_home_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert get_data_home() == tmp_path / "home" / ".cache" / "deepcluster_sk"

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert get_data_home() == tmp_path / "xdg" / "deepcluster_sk"

    monkeypatch.setenv("DEEPCLUSTER_SK_DATA", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"

    assert get_data_home(tmp_path / "explicit") == tmp_path / "explicit"
    assert get_data_home(str(tmp_path / "explicit")) == tmp_path / "explicit"
    # Resolving never creates anything.
    assert list(tmp_path.iterdir()) == []


def test_get_data_home_expands_user(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home("~/data") == tmp_path / "data"


# ---------------------------------------------------------------------------- shared data


@pytest.fixture(scope="module")
def mnist_all():
    _require("mnist.npz")
    return load_mnist(path=SHARED_DATA, download=False)


def test_mnist_shared_all(mnist_all):
    X, y = mnist_all.data, mnist_all.target
    assert X.shape == (70000, 784)
    assert X.dtype == np.float32
    assert X.min() == 0.0
    assert X.max() == 1.0
    assert y.shape == (70000,)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(np.unique(y), np.arange(10))
    # Training images come first.
    np.testing.assert_array_equal(np.bincount(y[:60000]), MNIST_TRAIN_COUNTS)
    assert mnist_all.image_shape == (1, 28, 28)
    assert mnist_all.split == "all"
    assert mnist_all.filename == str(SHARED_DATA / "mnist.npz")
    assert "MNIST" in mnist_all.DESCR


def test_mnist_shared_splits(mnist_all):
    X_train, y_train = load_mnist(path=SHARED_DATA, split="train", download=False, return_X_y=True)
    assert X_train.shape == (60000, 784)
    np.testing.assert_array_equal(np.bincount(y_train), MNIST_TRAIN_COUNTS)

    test = load_mnist(path=SHARED_DATA / "mnist.npz", split="test", download=False, flatten=False)
    assert test.data.shape == (10000, 28, 28)
    assert test.data.dtype == np.float32
    assert test.target.dtype == np.int64
    assert test.image_shape == (1, 28, 28)
    np.testing.assert_array_equal(test.data.reshape(10000, -1), mnist_all.data[60000:])
    np.testing.assert_array_equal(test.target, mnist_all.target[60000:])


def test_mnist_via_env_var(monkeypatch, tmp_path):
    _require("mnist.npz")
    monkeypatch.setenv("DEEPCLUSTER_SK_DATA", str(SHARED_DATA))
    X, y = load_mnist(split="test", download=False, return_X_y=True)
    assert X.shape == (10000, 784)
    assert y.shape == (10000,)
    # An explicit data_home wins over the environment variable.
    where = re.escape(f"MNIST not found at {str(tmp_path / 'mnist.npz')!r} and download=False")
    with pytest.raises(FileNotFoundError, match=where):
        load_mnist(data_home=tmp_path, download=False)


def test_usps_shared():
    _require("usps.npz")
    usps = load_usps(path=SHARED_DATA)
    assert usps.data.shape == (9298, 256)
    assert usps.data.dtype == np.float32
    assert 0.0 <= usps.data.min() and usps.data.max() <= 1.0
    assert usps.target.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(usps.target), USPS_COUNTS)
    assert usps.image_shape == (1, 16, 16)

    X_train, _ = load_usps(path=SHARED_DATA / "usps.npz", split="train", return_X_y=True)
    X_test, y_test = load_usps(path=SHARED_DATA, split="test", flatten=False, return_X_y=True)
    assert X_train.shape == (7291, 256)
    assert X_test.shape == (2007, 16, 16)
    assert y_test.shape == (2007,)


def test_usps_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"usps\.npz") as excinfo:
        load_usps(data_home=tmp_path)
    assert str(tmp_path / "usps.npz") in str(excinfo.value)
    assert "DEEPCLUSTER_SK_DATA" in str(excinfo.value)
    with pytest.raises(FileNotFoundError, match=r"usps\.npz"):
        load_usps(path=tmp_path)


# -------------------------------------------------------------------------------- load_npz


@pytest.fixture
def split_npz(tmp_path):
    """uint8 images in the x_train/.../y_test layout: 5 train and 3 test images of 4x4."""
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, size=(5, 4, 4), dtype=np.uint8),
        "y_train": np.array([0, 1, 2, 0, 1], dtype=np.uint8),
        "x_test": rng.integers(0, 256, size=(3, 4, 4), dtype=np.uint8),
        "y_test": np.array([2, 2, 0], dtype=np.uint8),
    }
    arrays["x_train"][0, 0, 0] = 255
    path = tmp_path / "split.npz"
    np.savez(path, **arrays)
    return path, arrays


@pytest.fixture
def full_npz(tmp_path):
    """float64 data in the X/y layout, plus a different x_train/... set in the same file."""
    rng = np.random.default_rng(1)
    arrays = {
        "X": rng.normal(size=(6, 9)) * 10,
        "y": np.arange(6) % 3,
        "x_train": np.ones((2, 9)),
        "y_train": np.array([7, 8]),
        "x_test": np.zeros((1, 9)),
        "y_test": np.array([9]),
    }
    path = tmp_path / "full.npz"
    np.savez(path, **arrays)
    return path, arrays


def test_load_npz_split_layout(split_npz):
    path, a = split_npz
    bunch = load_npz(path)
    expected = np.concatenate([a["x_train"], a["x_test"]]).reshape(8, 16) / 255.0
    assert bunch.data.shape == (8, 16)
    assert bunch.data.dtype == np.float32
    np.testing.assert_allclose(bunch.data, expected, rtol=1e-6)
    assert bunch.data.max() == 1.0
    np.testing.assert_array_equal(bunch.target, [0, 1, 2, 0, 1, 2, 2, 0])
    assert bunch.target.dtype == np.int64
    assert bunch.image_shape == (1, 4, 4)
    assert bunch.filename == str(path)
    assert "split.npz" in bunch.DESCR

    X, y = load_npz(path, split="train", flatten=False, return_X_y=True)
    assert X.shape == (5, 4, 4)
    np.testing.assert_allclose(X, a["x_train"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, a["y_train"])

    X, y = load_npz(path, split="test", return_X_y=True)
    assert X.shape == (3, 16)
    np.testing.assert_array_equal(y, a["y_test"])


def test_load_npz_scale_options(split_npz):
    path, a = split_npz
    raw = a["x_train"].reshape(5, -1)
    X, _ = load_npz(path, split="train", scale=False, return_X_y=True)
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X, raw)
    X, _ = load_npz(path, split="train", scale=2.0, return_X_y=True)
    np.testing.assert_allclose(X, raw / 2.0)
    for bad in (True, 0, -1.0, "255", float("nan")):
        with pytest.raises(ValueError, match="scale"):
            load_npz(path, scale=bad)


def test_load_npz_full_layout(full_npz):
    path, a = full_npz
    bunch = load_npz(path)
    # Float data are returned unchanged (as float32), and X/y win for split="all".
    np.testing.assert_allclose(bunch.data, a["X"].astype(np.float32))
    np.testing.assert_array_equal(bunch.target, a["y"])
    assert bunch.image_shape == (1, 3, 3)  # 9 features: a 3x3 square
    X, y = load_npz(path, split="train", return_X_y=True)
    np.testing.assert_array_equal(X, a["x_train"])
    np.testing.assert_array_equal(y, a["y_train"])
    _, y = load_npz(path, split="test", return_X_y=True)
    np.testing.assert_array_equal(y, a["y_test"])


def test_load_npz_xy_only(tmp_path):
    path = tmp_path / "xy.npz"
    np.savez(path, X=np.arange(14, dtype=np.int32).reshape(2, 7), y=[0, 1])
    bunch = load_npz(path)
    assert bunch.data.dtype == np.float32
    np.testing.assert_array_equal(bunch.data, np.arange(14).reshape(2, 7))  # int32: no scaling
    assert bunch.image_shape is None  # 7 features is not a square
    for split in ("train", "test"):
        with pytest.raises(ValueError, match="split='all'"):
            load_npz(path, split=split)


def test_load_npz_errors(tmp_path, split_npz):
    path, _ = split_npz
    with pytest.raises(ValueError, match="split must be one of"):
        load_npz(path, split="validation")

    missing = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match=r"nope\.npz"):
        load_npz(missing)
    with pytest.raises(FileNotFoundError, match="directory"):
        load_npz(tmp_path)

    bad_keys = tmp_path / "bad_keys.npz"
    np.savez(bad_keys, images=np.zeros((2, 4)), labels=[0, 1], x_train=np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"found \['images', 'labels', 'x_train'\]"):
        load_npz(bad_keys)

    mismatch = tmp_path / "mismatch.npz"
    np.savez(mismatch, X=np.zeros((3, 4)), y=[0, 1])
    with pytest.raises(ValueError, match="n_samples"):
        load_npz(mismatch)

    not_npz = tmp_path / "garbage.npz"
    not_npz.write_bytes(b"this is not a zip archive")
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        load_npz(not_npz)

    one_array = tmp_path / "one.npy"
    np.save(one_array, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="single array"):
        load_npz(one_array)


def test_load_npz_damaged_member_names_file_and_key(tmp_path):
    path = tmp_path / "damaged.npz"
    np.savez(path, X=np.ones((100, 10)), y=np.zeros(100))
    raw = bytearray(path.read_bytes())
    raw[raw.find(np.float64(1.0).tobytes()) + 3] ^= 0xFF  # breaks the CRC of X.npy
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"cannot read array 'X' of .*damaged\.npz"):
        load_npz(path)


@pytest.mark.parametrize(
    ("raw_shape", "expected"),
    [
        ((5, 28, 28), (1, 28, 28)),
        ((5, 3, 4, 2), (3, 4, 2)),
        ((5, 16), (1, 4, 4)),
        ((5, 7), None),  # not a perfect square
        ((5, 1), None),  # one feature is no image
        ((5, 2, 3, 4, 5), None),
    ],
)
def test_image_shape_of_the_stored_samples(raw_shape, expected):
    assert datasets._infer_image_shape(raw_shape) == expected


# ------------------------------------------------------------------------------- downloads


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_root(tmp_path):
    """Serve a fresh directory on 127.0.0.1; yields (directory, base URL)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def served_mnist(http_root):
    """A tiny file in the MNIST layout served over HTTP; yields (url, sha256, arrays)."""
    root, base = http_root
    rng = np.random.default_rng(2)
    arrays = {
        "x_train": rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8),
        "y_train": np.array([3, 1, 4, 1], dtype=np.uint8),
        "x_test": rng.integers(0, 256, size=(2, 28, 28), dtype=np.uint8),
        "y_test": np.array([5, 9], dtype=np.uint8),
    }
    np.savez(root / "mnist.npz", **arrays)
    digest = hashlib.sha256((root / "mnist.npz").read_bytes()).hexdigest()
    return f"{base}/mnist.npz", digest, arrays


def _closed_port_url():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist.npz"


def test_download_ok_then_cached(tmp_path, served_mnist):
    url, digest, arrays = served_mnist
    home = tmp_path / "cache" / "nested"  # does not exist yet: created by the download
    bunch = load_mnist(data_home=home, url=url, sha256=digest)
    assert sorted(os.listdir(home)) == ["mnist.npz"]  # no temporary file left behind
    assert hashlib.sha256((home / "mnist.npz").read_bytes()).hexdigest() == digest
    assert bunch.data.shape == (6, 784)
    assert bunch.data.dtype == np.float32
    np.testing.assert_array_equal(bunch.target, [3, 1, 4, 1, 5, 9])
    assert bunch.filename == str(home / "mnist.npz")
    assert bunch.image_shape == (1, 28, 28)

    # The cached file is used next time: an unreachable URL does not matter any more.
    X, y = load_mnist(data_home=home, url=_closed_port_url(), split="test", return_X_y=True)
    np.testing.assert_allclose(X, arrays["x_test"].reshape(2, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, [5, 9])


def test_download_via_env_var_data_home(monkeypatch, tmp_path, served_mnist):
    url, digest, _ = served_mnist
    monkeypatch.setenv("DEEPCLUSTER_SK_DATA", str(tmp_path / "env_home"))
    X, _ = load_mnist(url=url, sha256=digest.upper(), return_X_y=True)
    assert X.shape == (6, 784)
    assert (tmp_path / "env_home" / "mnist.npz").is_file()


def test_download_without_checksum(tmp_path, served_mnist):
    url, _, _ = served_mnist
    X, _ = load_mnist(data_home=tmp_path / "home", url=url, sha256=None, return_X_y=True)
    assert X.shape == (6, 784)


def test_download_bad_checksum(tmp_path, served_mnist):
    url, digest, _ = served_mnist
    wrong = "0" * 64
    home = tmp_path / "home"
    with pytest.raises(OSError, match="SHA-256") as excinfo:
        load_mnist(data_home=home, url=url, sha256=wrong)
    message = str(excinfo.value)
    assert wrong in message
    assert digest in message
    assert os.listdir(home) == []  # neither mnist.npz nor the temporary file


def test_download_offline(tmp_path):
    url = _closed_port_url()
    with pytest.raises(OSError, match="offline") as excinfo:
        load_mnist(data_home=tmp_path, url=url)
    message = str(excinfo.value)
    assert str(tmp_path / "mnist.npz") in message
    assert "path=" in message
    assert "DEEPCLUSTER_SK_DATA" in message
    assert not (tmp_path / "mnist.npz").exists()
    assert os.listdir(tmp_path) == []


def test_download_http_error(tmp_path, http_root):
    _, base = http_root
    home = tmp_path / "home"
    with pytest.raises(OSError, match="HTTP 404") as excinfo:
        load_mnist(data_home=home, url=f"{base}/missing.npz")
    assert str(home / "mnist.npz") in str(excinfo.value)
    assert os.listdir(home) == []


def test_no_download_when_disabled(tmp_path, served_mnist):
    url, digest, _ = served_mnist
    home = tmp_path / "home"
    with pytest.raises(FileNotFoundError, match="download=False") as excinfo:
        load_mnist(data_home=home, download=False, url=url, sha256=digest)
    message = str(excinfo.value)
    assert str(home / "mnist.npz") in message
    assert "DEEPCLUSTER_SK_DATA" in message
    assert not home.exists()  # nothing was created


def test_explicit_missing_path_is_not_downloaded(tmp_path, served_mnist):
    url, digest, _ = served_mnist
    given = tmp_path / "given"
    given.mkdir()
    with pytest.raises(FileNotFoundError, match="MNIST not found") as excinfo:
        load_mnist(path=given, data_home=tmp_path / "home", url=url, sha256=digest)
    assert str(given / "mnist.npz") in str(excinfo.value)
    assert os.listdir(given) == []
    assert not (tmp_path / "home").exists()


def test_invalid_split_checked_before_download(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_mnist(data_home=tmp_path, split="val")
    assert os.listdir(tmp_path) == []


def test_default_source_constants():
    assert MNIST_URL == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    assert len(MNIST_SHA256) == 64
    int(MNIST_SHA256, 16)
