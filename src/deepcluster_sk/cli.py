"""Command line: ``deepcluster-sk fit``, ``predict`` and ``demo``.

``fit`` trains an estimator on a data file (``.npy``, ``.npz`` or ``.csv``) and saves it with
joblib together with the training labels; ``predict`` labels new data with a saved model;
``demo`` clusters scikit-learn's bundled digits with every estimator.

Benchmarks are not part of the installed package: the harness and its scripts live in the
``benchmarks/`` folder of the source repository (``python benchmarks/run.py --help``).

Errors the user can fix (missing or unreadable files, bad data, bad parameters) end with one
line ``deepcluster-sk: error: ...`` on stderr and exit status 2, without a traceback.

Over 400 lines on purpose: the parser's help texts, the data readers' error messages and the
three subcommands are one user-facing surface, kept together so they stay consistent.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from . import all_estimators

__all__ = ["load_data", "load_model", "main", "run_demo"]

PROG = "deepcluster-sk"

DATA_EXTENSIONS = (".npy", ".npz", ".csv")
OUTPUT_EXTENSIONS = (".npy", ".csv")


# --------------------------------------------------------------------------- helpers
def _estimator_names(method: str | None = None) -> str:
    """The estimators, for messages (``"AEGMM, ConvAEKMeans, ..."``); those with ``method``."""
    return ", ".join(
        name for name, cls in all_estimators() if method is None or hasattr(cls, method)
    )


def _estimator_class(name: str) -> type:
    """The estimator class called ``name`` (case-insensitive)."""
    classes = {cls_name.lower(): cls for cls_name, cls in all_estimators()}
    try:
        return classes[name.lower()]
    except KeyError:
        raise ValueError(f"unknown estimator {name!r}; choose from {_estimator_names()}.") from None


def _parse_params(text: str) -> dict[str, Any]:
    """Constructor parameters from a JSON object, or from a JSON file given as ``@path``."""
    source = "--params"
    if text.startswith("@"):
        source = text[1:]
        text = Path(source).read_text(encoding="utf-8")
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source} is not valid JSON: {exc}") from None
    if not isinstance(params, dict):
        raise ValueError(
            f"{source} must be a JSON object such as '{{\"n_epochs\": 20}}', "
            f"got {type(params).__name__}."
        )
    return params


def _shape_argument(text: str) -> tuple[int, ...]:
    """argparse type of ``--input-shape``: ``"C,H,W"`` (or ``"H,W"``) of positive ints."""
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(","))
    except ValueError:
        shape = ()
    if len(shape) not in (2, 3) or any(s < 1 for s in shape):
        raise argparse.ArgumentTypeError(
            f"expected C,H,W (or H,W) of positive integers, got {text!r}"
        )
    return shape


def _count_or_auto(text: str) -> int | str:
    """``--n-clusters``: a positive integer or ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of clusters or 'auto', got {text!r}"
        ) from None


def _check_output_path(path: str | Path, what: str) -> Path:
    """Check the extension of an array output file and create its folder."""
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_EXTENSIONS:
        raise ValueError(
            f"{what} file {str(path)!r} has an unsupported extension {path.suffix!r}; "
            "use .npy or .csv."
        )
    _check_writable(path, what)
    return path


def _check_writable(path: Path, what: str) -> None:
    """Fail before any training if ``path`` cannot be a new or replaced file."""
    if path.is_dir():
        raise IsADirectoryError(f"{what} path {str(path)!r} is a folder, not a file.")
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"folder {str(path.parent)!r} of the {what} file does not exist; create it first."
        )


def _format_rows(values: np.ndarray) -> list[str]:
    """Text lines of a 1-D label vector or a 2-D probability matrix."""
    if values.ndim == 1:
        return [str(int(v)) for v in values]
    return [",".join(f"{v:.8g}" for v in row) for row in values]


def _array_writer(path: Path, values: np.ndarray) -> Callable[[Any], None]:
    """Writer of labels or probabilities: ``.npy``, or CSV lines like those printed."""

    def write(fh: Any) -> None:
        if path.suffix.lower() == ".npy":
            np.save(fh, values)
        else:
            fh.write(("\n".join(_format_rows(values)) + "\n").encode("utf-8"))

    return write


def _write_atomically(outputs: Sequence[tuple[Path, Callable[[Any], None]]]) -> None:
    """Write each ``(path, writer)`` to a temporary file beside it, then move all into place.

    Nothing is replaced until every file is written, so an error or Ctrl-C leaves the
    previous files whole (and no temporary file behind); the moves are ``os.replace``,
    atomic on one file system.
    """
    umask = os.umask(0)
    os.umask(umask)
    written: list[tuple[str, Path]] = []
    try:
        for path, write in outputs:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
            written.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                write(fh)
            os.chmod(tmp, 0o666 & ~umask)
        for tmp, path in written:
            os.replace(tmp, path)
        written = []
    finally:
        for tmp, _ in written:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


@contextlib.contextmanager
def _limit_threads(n_threads: int | None) -> Iterator[None]:
    """Run a block with torch and the BLAS/OpenMP pools limited to ``n_threads``.

    None leaves the thread settings alone. The previous torch setting is restored.
    """
    if n_threads is None:
        yield
        return
    if n_threads < 1:
        raise ValueError(f"--threads must be at least 1, got {n_threads}.")
    import torch
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(limits=n_threads):
            yield
    finally:
        torch.set_num_threads(previous)


# --------------------------------------------------------------------------- data files
def _read_numpy(path: Path, key: str | None) -> np.ndarray:
    """The array of a ``.npy`` file, or array ``key`` of a ``.npz`` archive."""
    from .datasets import _load_numpy_file, _read_member

    loaded = _load_numpy_file(path)
    if isinstance(loaded, np.ndarray):
        if key is not None:
            raise ValueError(f"--key applies to .npz archives, but {str(path)!r} is one array.")
        return loaded
    with loaded as archive:
        keys = list(archive.files)
        if not keys:
            raise ValueError(f"{str(path)!r} holds no arrays.")
        if key is None:
            if "X" in keys:
                key = "X"
            elif len(keys) == 1:
                key = keys[0]
            else:
                raise ValueError(
                    f"{str(path)!r} holds several arrays ({', '.join(keys)}) and none is "
                    "named 'X'; choose one with --key."
                )
        return _read_member(archive, key, path)


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _read_csv(path: Path, header: bool | None) -> np.ndarray:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{str(path)!r} is not a UTF-8 text CSV file.") from None
    # (line number, text) of the non-blank lines
    rows = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not rows:
        raise ValueError(f"{str(path)!r} is empty.")
    if header is None:  # auto-detect: numbers only -> data; no number at all -> header
        numeric = [_is_number(field) for field in rows[0][1].split(",")]
        if any(numeric) and not all(numeric):
            raise ValueError(
                f"{str(path)!r}, line {rows[0][0]}: mixes numbers and text; pass --header if "
                "it is a header line, or --no-header if it is data."
            )
        header = not any(numeric)
    if header:
        rows = rows[1:]
    if not rows:
        raise ValueError(f"{str(path)!r} has a header but no data rows.")
    n_columns = rows[0][1].count(",") + 1
    for lineno, line in rows:
        fields = line.split(",")
        if len(fields) != n_columns:
            raise ValueError(
                f"{str(path)!r}, line {lineno}: {len(fields)} values, but the first data "
                f"line has {n_columns}."
            )
    try:
        return np.loadtxt([line for _, line in rows], delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError:
        pass
    for lineno, line in rows:  # find the culprit for the message
        for column, field in enumerate(line.split(","), 1):
            if not _is_number(field):
                raise ValueError(
                    f"{str(path)!r}, line {lineno}, column {column}: {field.strip()!r} is not "
                    "a number (the CSV must be numeric; missing values are not supported)."
                ) from None
    raise ValueError(f"cannot parse {str(path)!r} as a numeric CSV file.")


def load_data(
    path: str | Path, *, key: str | None = None, header: bool | None = None
) -> tuple[np.ndarray, tuple[int, int, int] | None]:
    """Read a data file into a float32 matrix of samples.

    Parameters
    ----------
    path : str or path-like
        A ``.npy`` array, a ``.npz`` archive or a numeric ``.csv`` file (comma separated).
    key : str, optional
        Array to read from a ``.npz`` archive. Default: ``"X"`` when present, else the only
        array of the archive.
    header : bool, optional
        Whether a CSV file starts with a header line. None detects it: a first line that
        does not consist of numbers only is a header.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32
        The samples, images flattened row-major.
    image_shape : tuple of int or None
        ``(channels, height, width)`` when the file holds images of shape ``(n, H, W)``
        (one channel) or ``(n, C, H, W)``; None for a 2-D array.

    Raises
    ------
    OSError
        If the file is missing or unreadable.
    ValueError
        If the extension is not supported, the content is not numeric, has the wrong number
        of dimensions, no samples, or NaN or infinite values.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if not path.exists():
        raise FileNotFoundError(f"data file not found: {str(path)!r}.")
    if not path.is_file():
        raise IsADirectoryError(f"data path {str(path)!r} is a folder, not a file.")
    if ext not in DATA_EXTENSIONS:
        raise ValueError(
            f"data file {str(path)!r} has an unsupported extension {path.suffix!r}; "
            "use .npy, .npz or .csv."
        )
    if ext == ".csv":
        if key is not None:
            raise ValueError("--key applies to .npz archives, not to CSV files.")
        array = _read_csv(path, header)
    else:
        array = _read_numpy(path, key)

    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"{str(path)!r}: data must be numbers (int, float or bool), got dtype {array.dtype}."
        )
    if array.ndim == 2:
        image_shape = None
    elif array.ndim == 3:
        image_shape = (1, *array.shape[1:])
    elif array.ndim == 4:
        image_shape = tuple(array.shape[1:])
    else:
        raise ValueError(
            f"{str(path)!r}: expected a 2-D array (n_samples, n_features), images "
            f"(n_samples, height, width) or (n_samples, channels, height, width); got shape "
            f"{array.shape}."
        )
    if array.shape[0] == 0 or array[0].size == 0:
        raise ValueError(f"{str(path)!r} holds no data (shape {array.shape}).")
    with np.errstate(over="ignore"):  # values beyond float32 become inf, reported below
        X = np.ascontiguousarray(array.reshape(array.shape[0], -1), dtype=np.float32)
    bad = ~np.isfinite(X).all(axis=1)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{str(path)!r}: {int(bad.sum())} of {X.shape[0]} samples contain NaN or infinite "
            f"values (the first is sample {first}); remove or impute them first."
        )
    return X, image_shape  # type: ignore[return-value]


# --------------------------------------------------------------------------- models
def load_model(path: str | Path) -> Any:
    """Load a fitted deepcluster_sk estimator saved by ``deepcluster-sk fit``.

    Parameters
    ----------
    path : str or path-like
        A file written with :func:`joblib.dump`. Loading runs pickle: only load files
        you trust.

    Returns
    -------
    estimator : BaseDeepClusterer
        The fitted estimator.

    Raises
    ------
    OSError
        If the file is missing.
    ValueError
        If it cannot be unpickled, holds something else than a deepcluster_sk estimator,
        or an unfitted one.
    """
    import joblib
    from sklearn.utils.validation import check_is_fitted

    from ._base import BaseDeepClusterer

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {str(path)!r}.")
    if not path.is_file():
        raise IsADirectoryError(f"model path {str(path)!r} is a folder, not a file.")
    try:
        model = joblib.load(path)
    except Exception as exc:  # unpickling a foreign file can raise nearly anything
        raise ValueError(
            f"cannot load model {str(path)!r} ({type(exc).__name__}: {exc}); is it a file "
            f"written by '{PROG} fit'?"
        ) from exc
    if not isinstance(model, BaseDeepClusterer):
        raise ValueError(
            f"{str(path)!r} holds a {type(model).__name__}, not one of the deepcluster_sk "
            f"estimators ({_estimator_names()})."
        )
    check_is_fitted(model)
    return model


def _fit(args: argparse.Namespace) -> None:
    cls = _estimator_class(args.estimator)
    params = _parse_params(args.params)
    valid = cls().get_params()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for {cls.__name__}; "
            f"valid: {', '.join(sorted(valid))}."
        )
    model_path = Path(args.model)
    _check_writable(model_path, "model")
    labels_arg = args.labels or model_path.with_name(f"{model_path.stem}_labels.npy")
    labels_path = _check_output_path(labels_arg, "labels")
    if labels_path.resolve() == model_path.resolve():
        raise ValueError("--labels and --model name the same file.")

    X, image_shape = load_data(args.data, key=args.key, header=args.header)

    if args.n_clusters is not None:
        params["n_clusters"] = args.n_clusters
    if args.seed is not None:
        params["random_state"] = args.seed
    params.setdefault("random_state", 0)
    if args.device is not None:
        params["device"] = args.device
    if args.verbose is not None:
        params["verbose"] = args.verbose
    params.setdefault("verbose", int(sys.stderr.isatty()))
    shape_note = ""
    if args.input_shape is not None:
        if "input_shape" not in valid:
            raise ValueError(
                f"{cls.__name__} is a dense model without an input_shape parameter; drop "
                "--input-shape."
            )
        params["input_shape"] = args.input_shape
    elif image_shape is not None and "input_shape" in valid and "input_shape" not in params:
        params["input_shape"] = image_shape
        shape_note = f" (images, input_shape {image_shape})"

    estimator = cls(**params)
    with _limit_threads(args.threads):
        t0 = time.perf_counter()
        labels = np.asarray(estimator.fit_predict(X))
        seconds = time.perf_counter() - t0

    import joblib

    _write_atomically(
        [
            (model_path, lambda fh: joblib.dump(estimator, fh)),
            (labels_path, _array_writer(labels_path, labels)),
        ]
    )
    n_used = len(np.unique(labels))
    print(
        f"{cls.__name__}: {X.shape[0]} samples x {X.shape[1]} features{shape_note} -> "
        f"{estimator.n_clusters_} clusters ({n_used} non-empty) in {seconds:.1f} s; "
        f"model: {model_path}; labels: {labels_path}"
    )


def _predict(args: argparse.Namespace) -> None:
    output = _check_output_path(args.output, "output") if args.output else None
    model = load_model(args.model)
    name = type(model).__name__
    if args.proba and not hasattr(model, "predict_proba"):
        raise ValueError(
            f"{name} assigns hard clusters and has no predict_proba; drop --proba "
            f"({_estimator_names('predict_proba')} give probabilities)."
        )
    X, image_shape = load_data(args.data, key=args.key, header=args.header)
    if X.shape[1] != model.n_features_in_:
        raise ValueError(
            f"{args.data!r} has {X.shape[1]} features per sample, but the model was fitted "
            f"on {model.n_features_in_}."
        )
    fitted_shape = getattr(model, "input_shape_", None)
    if image_shape is not None and fitted_shape is not None:
        if tuple(image_shape) != tuple(fitted_shape):
            raise ValueError(
                f"{args.data!r} holds images of shape {tuple(image_shape)}, but the model was "
                f"fitted on images of shape {tuple(fitted_shape)}."
            )
    values = model.predict_proba(X) if args.proba else model.predict(X)
    if output is None:
        sys.stdout.write("\n".join(_format_rows(np.asarray(values))) + "\n")
        return
    _write_atomically([(output, _array_writer(output, np.asarray(values)))])
    what = f"probabilities of {values.shape[1]} clusters" if args.proba else "labels"
    print(f"{name}: {what} of {X.shape[0]} samples -> {output}")


# --------------------------------------------------------------------------- demo
def _demo_estimators(seed: int, device: str) -> list:
    """Plain k-means on the pixels (the baseline), then every estimator with its defaults.

    The estimators are told the 8x8 image shape; with the default three blocks the
    ``"auto"`` encoder is still the dense one on images this small.
    """
    from sklearn.cluster import KMeans

    baseline = KMeans(10, n_init=10, random_state=seed)
    return [baseline] + [
        cls(10, input_shape=(1, 8, 8), random_state=seed, device=device)
        for _, cls in all_estimators()
    ]


def run_demo(
    seed: int = 0, device: str = "auto", stream: TextIO | None = None, n_threads: int | None = 1
) -> list[dict]:
    """Cluster scikit-learn's digits with k-means and every estimator; print ACC/NMI/ARI/time.

    Parameters
    ----------
    seed : int, default=0
        ``random_state`` of every estimator.
    device : str, default="auto"
        Training device.
    stream : file-like, optional
        Where the table goes (default stdout).
    n_threads : int or None, default=1
        CPU threads of torch and of the scikit-learn heads during the demo (restored
        afterwards); None leaves the settings alone. One thread does not fight other jobs
        for the cores.

    Returns
    -------
    list of dict
        One row per estimator.
    """
    from sklearn.datasets import load_digits
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from .metrics import cluster_accuracy

    out = stream if stream is not None else sys.stdout
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    rows = []
    out.write(f"digits: {X.shape[0]} images of 8x8, 10 classes\n")
    out.write(f"{'estimator':<16}{'ACC':>8}{'NMI':>8}{'ARI':>8}{'time (s)':>10}\n")
    total = 0.0
    with _limit_threads(n_threads):
        for est in _demo_estimators(seed, device):
            t0 = time.perf_counter()
            labels = est.fit_predict(X)
            seconds = time.perf_counter() - t0
            total += seconds
            m = {
                "acc": cluster_accuracy(y, labels),
                "nmi": float(normalized_mutual_info_score(y, labels)),
                "ari": float(adjusted_rand_score(y, labels)),
            }
            row = {"estimator": type(est).__name__, **m, "seconds": seconds}
            rows.append(row)
            out.write(
                f"{row['estimator']:<16}{m['acc']:>8.3f}{m['nmi']:>8.3f}{m['ari']:>8.3f}"
                f"{seconds:>10.1f}\n"
            )
            out.flush()
    out.write(f"{'total':<40}{total:>10.1f}\n")
    return rows


# --------------------------------------------------------------------------- parser
class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keep the line breaks of the examples in the epilog.

    The epilogs are also valid reStructuredText (``examples::`` opens a literal block), as
    the documentation's command-line reference renders them with sphinx-argparse.
    """


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=79)


_FIT_EPILOG = f"""\
examples::

  {PROG} fit AEGMM digits.npy --model aegmm.joblib --n-clusters 10
  {PROG} fit convaekmeans images.npz --key x_train --model cae.joblib \\
      --params '{{"channels": [16, 32], "n_epochs": 20}}' --labels labels.csv
  {PROG} fit DVAEClusterer table.csv --model dvae.joblib --params @params.json --quiet

The options --n-clusters, --seed, --device and --input-shape take precedence over the
same parameters in --params. Image arrays (n, H, W) or (n, C, H, W) are flattened and their
shape is passed as input_shape to the convolutional estimators.
"""

_PREDICT_EPILOG = f"""\
examples::

  {PROG} predict aegmm.joblib new.npy --output labels.npy
  {PROG} predict aegmm.joblib new.csv --proba --output proba.csv
  {PROG} predict cae.joblib new.npz --key x_test | sort | uniq -c

Models are read with joblib (pickle): only load files you trust.
"""

_DEMO_EPILOG = f"""\
example::

  {PROG} demo --seed 1
"""


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key",
        default=None,
        help='array to read from a .npz archive (default: "X", or the only array)',
    )
    parser.add_argument(
        "--header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether the CSV file starts with a header line (default: detected)",
    )


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Deep clustering estimators for scikit-learn: train, label, demo.",
        epilog=(
            f"run '{PROG} COMMAND --help' for the options and examples of a command. "
            "Benchmarks live in the benchmarks/ folder of the source repository."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on an error, show the full traceback instead of a one-line message",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = sub.add_parser(
        "fit",
        help="train an estimator on a data file, save the model and the labels",
        description=_wrap(
            "Train ESTIMATOR on the samples in DATA (.npy, .npz or numeric .csv), save the "
            "fitted estimator with joblib and the training labels as .npy or .csv, and print "
            "a one-line summary."
        ),
        epilog=_FIT_EPILOG,
        formatter_class=_HelpFormatter,
    )
    fit.add_argument(
        "estimator", metavar="ESTIMATOR", help=f"one of {_estimator_names()} (any case)"
    )
    fit.add_argument("data", metavar="DATA", help="training data: .npy, .npz or .csv")
    fit.add_argument("--model", required=True, help="where to save the model (e.g. m.joblib)")
    fit.add_argument(
        "--labels",
        default=None,
        help="where to write the training labels, .npy or .csv "
        "(default: <model stem>_labels.npy next to the model)",
    )
    fit.add_argument(
        "--params",
        default="{}",
        help="constructor parameters as a JSON object, or @file.json",
    )
    fit.add_argument(
        "--n-clusters",
        type=_count_or_auto,
        default=None,
        help='number of clusters, or "auto" to choose it from the data',
    )
    fit.add_argument("--seed", type=int, default=None, help="random_state (default: 0)")
    fit.add_argument(
        "--device", default=None, help='"auto", "cpu", "cuda" or "cuda:N" (default: auto)'
    )
    fit.add_argument(
        "--input-shape",
        type=_shape_argument,
        default=None,
        metavar="C,H,W",
        help="image shape of each row for the convolutional estimators",
    )
    fit.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for training (default: torch's setting)",
    )
    _add_data_options(fit)
    verbosity = fit.add_mutually_exclusive_group()
    verbosity.add_argument(
        "-v",
        "--verbose",
        dest="verbose",
        action="store_const",
        const=1,
        default=None,
        help="draw a training progress bar on stderr (default: when stderr is a terminal)",
    )
    verbosity.add_argument(
        "-q", "--quiet", dest="verbose", action="store_const", const=0, help="no progress bar"
    )

    predict = sub.add_parser(
        "predict",
        help="label new data with a saved model",
        description=_wrap(
            "Load a model saved by 'fit', assign each sample of DATA to a cluster (or give "
            "the cluster probabilities with --proba) and write them to --output (.npy or "
            ".csv) or, without --output, print them to stdout, one sample per line."
        ),
        epilog=_PREDICT_EPILOG,
        formatter_class=_HelpFormatter,
    )
    predict.add_argument("model", metavar="MODEL", help="model file written by 'fit'")
    predict.add_argument("data", metavar="DATA", help="data to label: .npy, .npz or .csv")
    predict.add_argument(
        "--output", "-o", default=None, help="output file, .npy or .csv (default: stdout)"
    )
    predict.add_argument(
        "--proba",
        action="store_true",
        help=f"cluster probabilities instead of labels ({_estimator_names('predict_proba')})",
    )
    _add_data_options(predict)

    demo = sub.add_parser(
        "demo",
        help="cluster sklearn's digits with every estimator",
        description=_wrap(
            "Cluster scikit-learn's bundled digits (1797 images of 8x8 pixels, 10 classes) "
            f"with every estimator ({_estimator_names()}) at its default settings, and print "
            "each one's accuracy (Hungarian-matched), NMI, ARI and training time. Nothing is "
            "downloaded."
        ),
        epilog=_DEMO_EPILOG,
        formatter_class=_HelpFormatter,
    )
    demo.add_argument(
        "--seed", type=int, default=0, help="random_state of every estimator (default: 0)"
    )
    demo.add_argument("--device", default="auto", help='"auto", "cpu" or "cuda" (default: auto)')
    demo.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads (default: 1, leaving the other cores to other jobs)",
    )

    return parser


#: Errors whose message speaks for itself: a bad file, a bad value, a missing key. Any other
#: exception (a RuntimeError from torch, a missing optional package) is named by its type.
_USER_ERRORS = (OSError, ValueError, TypeError, KeyError)


def _error_message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return f"missing key {exc.args[0]!r}"  # str(KeyError) is only the quoted key
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, _USER_ERRORS):
        text = f"{type(exc).__name__}: {text} (run with --debug for the traceback)"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``deepcluster-sk`` and ``python -m deepcluster_sk``.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 on any error of the command (one line on stderr; with
        ``--debug`` the exception propagates with its traceback). Command-line syntax errors
        and ``--help`` exit through argparse.
    """
    args = _build_parser().parse_args(argv)
    commands = {"fit": _fit, "predict": _predict}
    try:
        if args.command == "demo":
            run_demo(args.seed, args.device, n_threads=args.threads)
        else:
            commands[args.command](args)
    # KeyboardInterrupt and SystemExit are not Exceptions: they are not caught.
    except Exception as exc:
        if args.debug:
            raise
        print(f"{PROG}: error: {_error_message(exc)}", file=sys.stderr)
        return 2
    return 0
