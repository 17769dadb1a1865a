"""Loaders for the image data sets used by the deep clustering papers.

The loaders read ``.npz`` files and return float32 features and int64 labels, ready for the
estimators of this package. :func:`load_mnist` can download the Keras-hosted copy of MNIST
into a cache directory; :func:`load_usps` reads a local file only. Where the data are looked
for is decided by :func:`get_data_home`: an explicit ``data_home`` argument, else the
environment variable ``DEEPCLUSTER_SK_DATA``, else ``~/.cache/deepcluster_sk``.

Over 400 lines on purpose: most of it is the checked download (checksum, atomic move, offline
message) and the file readers' error messages, which belong together.
"""

import hashlib
import http.client
import math
import numbers
import os
import secrets
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._utils import resolve_image_shape

__all__ = [
    "MNIST_SHA256",
    "MNIST_URL",
    "get_data_home",
    "load_mnist",
    "load_npz",
    "load_usps",
]

#: Where :func:`load_mnist` downloads MNIST from (the copy used by ``keras.datasets.mnist``).
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
#: SHA-256 of the file at :data:`MNIST_URL`, as pinned in ``keras/src/datasets/mnist.py``.
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

ENV_DATA_HOME = "DEEPCLUSTER_SK_DATA"

_SPLITS = ("all", "train", "test")
_SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")
_FULL_KEYS = ("X", "y")
_TIMEOUT = 30.0  # seconds without an answer before a download counts as failed
_CHUNK_SIZE = 1 << 16

_NETWORK_ERRORS = (
    urllib.error.URLError,
    TimeoutError,
    ConnectionError,
    http.client.HTTPException,
)

StrPath = str | os.PathLike[str]


def get_data_home(data_home: StrPath | None = None) -> Path:
    """Return the directory where data files are looked for and cached.

    The directory is not created here; :func:`load_mnist` creates it only when it downloads.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The directory to use. When None, the environment variable ``DEEPCLUSTER_SK_DATA`` is
        used if it is set and not empty, else ``$XDG_CACHE_HOME/deepcluster_sk`` if
        ``XDG_CACHE_HOME`` is set, else ``~/.cache/deepcluster_sk``.

    Returns
    -------
    data_home : pathlib.Path
        The resolved directory, with ``~`` expanded.

    Examples
    --------
    >>> from deepcluster_sk.datasets import get_data_home
    >>> str(get_data_home("/tmp/my_data"))
    '/tmp/my_data'
    """
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get(ENV_DATA_HOME)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    cache = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return cache / "deepcluster_sk"


def _check_split(split: str) -> None:
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}, got {split!r}.")


def _check_scale(scale: object) -> None:
    if scale is None or scale is False:
        return
    if (
        isinstance(scale, bool)
        or not isinstance(scale, numbers.Real)
        or not (np.isfinite(scale) and scale > 0)
    ):
        raise ValueError(f"scale must be None, False or a positive number, got {scale!r}.")


def _load_numpy_file(path: Path) -> np.ndarray | np.lib.npyio.NpzFile:
    """``np.load`` of a ``.npy`` array or an ``.npz`` archive, never unpickling anything.

    Content NumPy cannot read is a one-line ValueError naming the file; errors of the file
    system (missing file, no permission) stay OSError. An archive is returned open: use it as
    a context manager and read its arrays with :func:`_read_member`.
    """
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile) as err:
        ext = path.suffix.lower()
        kind = ext if ext in (".npy", ".npz") else "NumPy (.npy or .npz)"
        detail = " ".join(str(err).split())  # one line
        raise ValueError(
            f"{str(path)!r} is not a readable {kind} file ({detail}); files holding pickled "
            "Python objects are not loaded."
        ) from None


def _read_member(archive: np.lib.npyio.NpzFile, key: str, path: Path) -> np.ndarray:
    """Array ``key`` of an open archive; a damaged member is a ValueError naming file and key."""
    if key not in archive.files:
        raise ValueError(
            f"{str(path)!r} has no array {key!r}; it holds: {', '.join(archive.files)}."
        )
    try:
        return archive[key]
    except (ValueError, EOFError, zipfile.BadZipFile) as err:
        detail = " ".join(str(err).split())
        raise ValueError(f"cannot read array {key!r} of {str(path)!r}: {detail}") from None


def _read_arrays(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read the raw X and y of ``split`` from the npz file at ``path``."""
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"Cannot load data: {str(path)!r} {what}.")
    npz = _load_numpy_file(path)
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ValueError(f"{str(path)!r} holds a single array, expected an .npz archive.")
    with npz:

        def read(key: str) -> np.ndarray:
            return _read_member(npz, key, path)

        keys = set(npz.files)
        has_full = set(_FULL_KEYS) <= keys
        has_split = set(_SPLIT_KEYS) <= keys
        if not (has_full or has_split):
            raise ValueError(
                f"{str(path)!r} must contain the keys {list(_FULL_KEYS)} or "
                f"{list(_SPLIT_KEYS)}; found {sorted(keys)}."
            )
        if split == "all":
            if has_full:
                return read("X"), read("y")
            return (
                np.concatenate([read("x_train"), read("x_test")]),
                np.concatenate([read("y_train"), read("y_test")]),
            )
        if not has_split:
            raise ValueError(
                f"split={split!r} needs the keys {list(_SPLIT_KEYS)}, but {str(path)!r} "
                f"only has {sorted(keys)}; use split='all'."
            )
        return read(f"x_{split}"), read(f"y_{split}")


def _infer_image_shape(raw_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """Channels-first image shape of one sample, or None when it cannot be told."""
    sample: tuple[int, ...] | None = raw_shape[1:]
    n_features = math.prod(sample)
    if len(sample) == 1 and n_features > 1:
        sample = None  # flat rows: a square grey image when n_features is a perfect square
    elif len(sample) not in (2, 3):
        return None
    try:
        return resolve_image_shape(sample, n_features)
    except ValueError:
        return None


def load_npz(
    path: StrPath,
    *,
    split: str = "all",
    flatten: bool = True,
    scale: bool | float | None = None,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load a data set stored as an ``.npz`` file.

    Two layouts are understood: the keys ``X`` and ``y`` (the whole data set) and the keys
    ``x_train``, ``y_train``, ``x_test`` and ``y_test``. When a file has both, ``X``/``y`` serve
    ``split="all"`` and the others serve ``"train"`` and ``"test"``; when it has only the
    train/test keys, ``split="all"`` returns the training samples followed by the test samples.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    split : {"all", "train", "test"}, default="all"
        Which part of the data set to return.
    flatten : bool, default=True
        If True, each sample is flattened row-major into one row, so ``X`` has shape
        ``(n_samples, n_features)``. If False, the stored sample shape is kept, e.g.
        ``(n_samples, 28, 28)``.
    scale : None, False or float, default=None
        How to scale the values. None: ``uint8`` data are divided by 255 into [0, 1]; other
        data are only converted to float32. False: values are converted to float32 unchanged.
        A positive number: values are divided by it.
    return_X_y : bool, default=False
        If True, return ``(X, y)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (n_samples, n_features) or (n_samples, \\*sample_shape)
            The samples, float32.
        target : ndarray of shape (n_samples,)
            The labels, int64.
        image_shape : tuple of int or None
            Channels-first shape of one image, ``(1, height, width)`` for grey images; for
            flat samples it is inferred only when the number of features is a perfect
            square, and is None otherwise.
        split : str
            The split that was loaded.
        filename : str
            The path of the file that was read.
        DESCR : str
            A one-line description.

    (X, y) : tuple of ndarray
        Returned instead of the Bunch when ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not an existing file.
    ValueError
        If ``split`` or ``scale`` is invalid, if the file is not a readable ``.npz`` archive
        or lacks the expected keys, or if a train or test split is asked of a file holding
        only ``X`` and ``y``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from deepcluster_sk.datasets import load_npz
    >>> tmp = os.path.join(tempfile.mkdtemp(), "toy.npz")
    >>> np.savez(tmp, X=np.full((3, 2, 2), 255, dtype=np.uint8), y=[0, 1, 1])
    >>> X, y = load_npz(tmp, return_X_y=True)
    >>> X.shape, X.dtype, float(X.max()), y.dtype
    ((3, 4), dtype('float32'), 1.0, dtype('int64'))
    """
    _check_split(split)
    _check_scale(scale)
    path = Path(path).expanduser()
    X_raw, y_raw = _read_arrays(path, split)
    if X_raw.ndim < 2 or y_raw.ndim != 1 or len(X_raw) != len(y_raw):
        raise ValueError(
            f"{str(path)!r}: expected X of shape (n_samples, ...) and y of shape (n_samples,), "
            f"got {X_raw.shape} and {y_raw.shape}."
        )

    if scale is None:  # auto: only 8-bit images have a known range
        divisor = 255.0 if X_raw.dtype == np.uint8 else None
    elif scale is False:
        divisor = None
    else:
        divisor = float(scale)
    X = X_raw.astype(np.float32)  # always a fresh array, so scaling in place is safe
    if divisor is not None:
        X /= np.float32(divisor)
    if flatten:
        X = X.reshape(len(X), -1)
    y = y_raw.astype(np.int64)

    if return_X_y:
        return X, y
    image_shape = _infer_image_shape(X_raw.shape)
    descr = (
        f"{path.name} (split={split!r}): {X.shape[0]} samples of shape {X_raw.shape[1:]}, "
        f"{np.unique(y).size} classes."
    )
    return Bunch(
        data=X,
        target=y,
        image_shape=image_shape,
        split=split,
        filename=str(path),
        DESCR=descr,
    )


def _download(url: str, dest: StrPath, sha256: str | None, timeout: float) -> Path:
    """Download ``url`` to ``dest`` atomically, checking its SHA-256 on the way.

    The body is streamed in chunks into a temporary file next to ``dest`` and hashed while it
    is written; only a complete file whose hash matches is renamed to ``dest``. On any error
    the temporary file is removed and the exception propagates: network failures as raised by
    :mod:`urllib` (``URLError``, ``TimeoutError``, ...), a hash mismatch as ``OSError``.

    Parameters
    ----------
    url : str
        The address to fetch.
    dest : str or path-like
        The final file. Its directory must exist.
    sha256 : str or None
        Expected hex digest; None skips the check.
    timeout : float
        Seconds to wait for the connection and for each read.

    Returns
    -------
    dest : pathlib.Path
        The downloaded file.
    """
    dest = Path(dest)
    digest = hashlib.sha256()
    # A hidden, uniquely named file in the same directory, so the final rename is atomic;
    # opened with "xb" (not mkstemp) so that it gets the usual permissions under the umask.
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(8)}.part")
    out = tmp.open("xb")
    try:
        with out, urllib.request.urlopen(url, timeout=timeout) as resp:
            while chunk := resp.read(_CHUNK_SIZE):
                digest.update(chunk)
                out.write(chunk)
        actual = digest.hexdigest()
        if sha256 is not None and actual != sha256.lower():
            raise OSError(
                f"The file downloaded from {url} has SHA-256 {actual}, expected {sha256}; "
                "it was deleted. The download may be corrupted, or the file at that address "
                "has changed."
            )
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _where_to_put(filename: str, dest: Path, loader: str) -> str:
    return (
        f"Put {filename} at {str(dest)!r}, or pass path='/some/dir' (a directory containing "
        f"{filename}, or the file itself) to {loader}, or set the environment variable "
        f"{ENV_DATA_HOME} to a directory containing {filename}."
    )


def _resolve_local(path: StrPath | None, filename: str, data_home: StrPath | None) -> Path:
    """The file to read: ``path`` (a file or a directory holding ``filename``) or the cache."""
    if path is None:
        return get_data_home(data_home) / filename
    path = Path(path).expanduser()
    return path / filename if path.is_dir() else path


def load_mnist(
    path: StrPath | None = None,
    *,
    split: str = "all",
    data_home: StrPath | None = None,
    download: bool = True,
    flatten: bool = True,
    return_X_y: bool = False,
    url: str = MNIST_URL,
    sha256: str | None = MNIST_SHA256,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the MNIST handwritten digits (70,000 grey images of 28x28 pixels, 10 classes).

    The file ``mnist.npz`` (keys ``x_train``, ``y_train``, ``x_test``, ``y_test``, uint8) is
    read from ``path`` when given, else from ``get_data_home(data_home) / "mnist.npz"``. If it
    is not there and ``download`` is True, it is downloaded from ``url`` into that directory
    and its SHA-256 is checked. Files found locally are not checksum-verified. Pixel values
    are scaled to [0, 1].

    Parameters
    ----------
    path : str or path-like, default=None
        ``mnist.npz`` itself or a directory containing it. A given path is never downloaded
        to: if the file is missing there, FileNotFoundError is raised.
    split : {"all", "train", "test"}, default="all"
        ``"train"`` gives the 60,000 training images, ``"test"`` the 10,000 test images and
        ``"all"`` both, training images first (the deep clustering papers use all 70,000).
    data_home : str or path-like, default=None
        Cache directory used when ``path`` is None; see :func:`get_data_home`.
    download : bool, default=True
        Whether to download the file into ``data_home`` when it is missing there.
    flatten : bool, default=True
        If True, ``data`` has shape ``(n_samples, 784)``; otherwise ``(n_samples, 28, 28)``.
    return_X_y : bool, default=False
        If True, return ``(X, y)`` instead of a Bunch.
    url : str, default=MNIST_URL
        Where to download from.
    sha256 : str or None, default=MNIST_SHA256
        Expected SHA-256 of the downloaded file; None skips the check. Only downloads are
        checked.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        As returned by :func:`load_npz` (``data`` float32 in [0, 1], ``target`` int64,
        ``split``, ``filename``, ``DESCR``), with ``image_shape=(1, 28, 28)``.
    (X, y) : tuple of ndarray
        Returned instead of the Bunch when ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If the file is missing and ``download`` is False or ``path`` was given. The message
        says where to put ``mnist.npz``.
    OSError
        If the download fails (the message says the machine seems offline and where to put
        the file by hand) or the downloaded file has the wrong SHA-256 (nothing is kept).

    References
    ----------
    .. [1] Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning applied to
       document recognition", Proceedings of the IEEE, 86(11), 1998.

    Examples
    --------
    >>> from deepcluster_sk.datasets import load_mnist
    >>> X, y = load_mnist("path/to/data", return_X_y=True)  # doctest: +SKIP
    >>> X.shape, X.dtype, y.dtype  # doctest: +SKIP
    ((70000, 784), dtype('float32'), dtype('int64'))
    """
    _check_split(split)
    filename = "mnist.npz"
    file = _resolve_local(path, filename, data_home)
    if not file.is_file():
        if path is not None:
            raise FileNotFoundError(
                f"MNIST not found at {str(file)!r}. " + _where_to_put(filename, file, "load_mnist")
            )
        dest = get_data_home(data_home) / filename
        if not download:
            raise FileNotFoundError(
                f"MNIST not found at {str(dest)!r} and download=False. "
                + _where_to_put(filename, dest, "load_mnist")
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            _download(url, dest, sha256, _TIMEOUT)
        except urllib.error.HTTPError as err:
            err.close()
            raise OSError(
                f"Could not download MNIST from {url}: the server answered HTTP {err.code} "
                f"({err.reason}). " + _where_to_put(filename, dest, "load_mnist")
            ) from err
        except _NETWORK_ERRORS as err:
            reason = getattr(err, "reason", err)
            raise OSError(
                f"Could not download MNIST from {url} ({reason}); this machine seems to be "
                "offline. " + _where_to_put(filename, dest, "load_mnist")
            ) from err
        file = dest

    bunch = load_npz(file, split=split, flatten=flatten)
    bunch.image_shape = (1, 28, 28)
    bunch.DESCR = (
        f"MNIST handwritten digits (split={split!r}): {bunch.data.shape[0]} grey images of "
        "28x28 pixels scaled to [0, 1], 10 classes."
    )
    if return_X_y:
        return bunch.data, bunch.target
    return bunch


def load_usps(
    path: StrPath | None = None,
    *,
    split: str = "all",
    data_home: StrPath | None = None,
    flatten: bool = True,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the USPS handwritten digits (9,298 grey images of 16x16 pixels, 10 classes).

    The file ``usps.npz`` (keys ``X``/``y`` and ``x_train``, ``y_train``, ``x_test``,
    ``y_test``; float32 in [0, 1], images flattened row-major) is read from ``path`` when
    given, else from ``get_data_home(data_home) / "usps.npz"``. There is no download source:
    the file must be put there by hand.

    Parameters
    ----------
    path : str or path-like, default=None
        ``usps.npz`` itself or a directory containing it.
    split : {"all", "train", "test"}, default="all"
        ``"train"`` gives the 7,291 training images, ``"test"`` the 2,007 test images and
        ``"all"`` all 9,298.
    data_home : str or path-like, default=None
        Directory used when ``path`` is None; see :func:`get_data_home`.
    flatten : bool, default=True
        If True, ``data`` has shape ``(n_samples, 256)``; otherwise ``(n_samples, 16, 16)``.
    return_X_y : bool, default=False
        If True, return ``(X, y)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        As returned by :func:`load_npz` (``data`` float32 in [0, 1], ``target`` int64,
        ``split``, ``filename``, ``DESCR``), with ``image_shape=(1, 16, 16)``.
    (X, y) : tuple of ndarray
        Returned instead of the Bunch when ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If the file is missing; the message says where to put ``usps.npz``.

    References
    ----------
    .. [1] J. J. Hull, "A database for handwritten text recognition research", IEEE
       Transactions on Pattern Analysis and Machine Intelligence, 16(5), 1994.

    Examples
    --------
    >>> from deepcluster_sk.datasets import load_usps
    >>> X, y = load_usps("path/to/data", return_X_y=True)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (9298, 256)
    """
    _check_split(split)
    filename = "usps.npz"
    file = _resolve_local(path, filename, data_home)
    if not file.is_file():
        dest = file if path is not None else get_data_home(data_home) / filename
        raise FileNotFoundError(
            f"USPS not found at {str(file)!r}; it cannot be downloaded automatically. "
            + _where_to_put(filename, dest, "load_usps")
        )
    bunch = load_npz(file, split=split, flatten=True)
    if not flatten:
        bunch.data = bunch.data.reshape(-1, 16, 16)
    bunch.image_shape = (1, 16, 16)
    bunch.DESCR = (
        f"USPS handwritten digits (split={split!r}): {bunch.data.shape[0]} grey images of "
        "16x16 pixels in [0, 1], 10 classes."
    )
    if return_X_y:
        return bunch.data, bunch.target
    return bunch
