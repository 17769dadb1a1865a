"""Benchmark harness: fit a named estimator on a named data set and write one JSON result.

A development tool of the repository, not part of the installed package. The scripts next to
it (``run.py``, ``throughput.py``) and the tests import it by putting this folder on
``sys.path``. Every result file holds the estimator, data set, sample count, seed,
parameters, metrics (``acc``, ``nmi``, ``ari`` and more), timings, peak memory and the
machine it ran on (CPU model and flags, BLAS/OpenMP thread pools: :func:`machine_info`).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import torch
from sklearn.metrics import (
    adjusted_rand_score,
    normalized_mutual_info_score,
    silhouette_score,
    v_measure_score,
)
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier

from deepcluster_sk import all_estimators
from deepcluster_sk._utils import cpu_capability, resolve_device
from deepcluster_sk.datasets import get_data_home, load_mnist, load_npz, load_usps
from deepcluster_sk.metrics import _match_clusters, cluster_accuracy

__all__ = [
    "BASELINES",
    "DATASETS",
    "clustering_metrics",
    "cpu_info",
    "git_state",
    "load_benchmark_data",
    "machine_info",
    "monitored",
    "run_benchmark",
    "thread_pools",
    "write_result",
]

DATASETS = (
    "mnist",
    "mnist-train",
    "mnist-test",
    "mnist-2k",
    "usps",
    "coil20",
    "orl",
    "digits",
    "wine",
    "breast_cancer",
    "blobs",
)
#: Tables, standardised as ``make_pipeline(StandardScaler(), est)`` would (for every method).
TABLES = ("wine", "breast_cancer")

#: Reference methods run by the same harness on the same input as the estimators: scikit-learn's
#: k-means and a diagonal Gaussian mixture, each with scikit-learn's defaults otherwise.
BASELINES = ("KMeans", "GaussianMixture")


def load_benchmark_data(
    name: str, data_path: str | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int] | None]:
    """Load a benchmark data set by name.

    Parameters
    ----------
    name : {"mnist", "mnist-train", "mnist-test", "mnist-2k", "usps", "coil20", "orl", "digits", \
            "wine", "breast_cancer", "blobs"}
        ``mnist`` is all 70,000 images, ``mnist-2k`` the first 2,000 test images;
        ``coil20`` (1,440 images of 20 objects) and ``orl`` (400 faces of 40 people) are
        32x32 images; ``digits`` is scikit-learn's bundled 8x8
        digits scaled to [0, 1]; ``wine`` (178 x 13, 3 classes) and ``breast_cancer``
        (569 x 30, 2 classes) are scikit-learn's tables, standardised (:data:`TABLES`);
        ``blobs`` is a synthetic 10-cluster, 50-feature set.
    data_path : str, optional
        Folder with ``mnist.npz``, ``usps.npz``, ``coil20.npz`` and ``orl.npz`` (default: the
        folder of :func:`deepcluster_sk.datasets.get_data_home`).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32
    y : ndarray of shape (n_samples,)
    image_shape : tuple of int or None
    """
    if name.startswith("mnist"):
        split = {"mnist": "all", "mnist-train": "train", "mnist-test": "test", "mnist-2k": "test"}
        X, y = load_mnist(data_path, split=split[name], return_X_y=True, download=False)
        if name == "mnist-2k":  # a fixed subset, small enough for the test suite's floors
            X, y = X[:2000], y[:2000]
        return X, y, (1, 28, 28)
    if name == "usps":
        X, y = load_usps(data_path, return_X_y=True)
        return X, y, (1, 16, 16)
    if name in ("coil20", "orl"):
        folder = get_data_home(data_path)
        path = folder if folder.suffix == ".npz" else folder / f"{name}.npz"
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found: pass data_path (or set DEEPCLUSTER_SK_DATA) to the folder "
                f"holding {name}.npz."
            )
        X, y = load_npz(path, return_X_y=True)
        return X, y, (1, 32, 32)
    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return (X / 16.0).astype(np.float32), y, (1, 8, 8)
    if name in TABLES:
        from sklearn import datasets
        from sklearn.preprocessing import StandardScaler

        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        return StandardScaler().fit_transform(X).astype(np.float32), y, None
    if name == "blobs":
        from sklearn.datasets import make_blobs

        X, y = make_blobs(5000, n_features=50, centers=10, random_state=0)
        return X.astype(np.float32), y, None
    raise ValueError(f"Unknown dataset {name!r}; choose from {DATASETS}.")


def clustering_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """ACC (Hungarian), NMI (arithmetic and max normalisation), ARI and v-measure."""
    return {
        "acc": float(cluster_accuracy(y_true, y_pred)),
        "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
        "nmi_max": float(normalized_mutual_info_score(y_true, y_pred, average_method="max")),
        "ari": float(adjusted_rand_score(y_true, y_pred)),
        "v_measure": float(v_measure_score(y_true, y_pred)),
    }


#: CPU features torch's kernels (and ``precision="auto"``) depend on, as torch names them.
CPU_FLAGS = (
    "avx2",
    "fma3",
    "avx512_f",
    "avx512_bw",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
)


def cpu_info() -> dict[str, Any]:
    """CPU model, core counts and the instruction-set flags that decide training speed.

    The detection is torch's own (the bundled ``pytorch/cpuinfo`` library, on Linux, macOS
    and Windows alike): the flags are those torch's kernels dispatch on, which is what
    matters for these benchmarks. ``torch_cpu_capability`` is the kernel set torch chose
    (``"AVX512"``, ``"AVX2"``, ``"DEFAULT"``...). Where this torch build does not expose the
    detection, the model comes from :func:`platform.processor` and the flags are omitted.
    """
    info: dict[str, Any] = {"torch_cpu_capability": torch.backends.cpu.get_cpu_capability()}
    capability = cpu_capability()
    info["cpu"] = (
        capability.get("cpu_name") or platform.processor() or platform.machine() or "unknown"
    )
    if capability:
        info["cpu_flags"] = {
            flag: bool(capability[flag]) for flag in CPU_FLAGS if flag in capability
        }
        info["cpu_physical_cores"] = capability.get("num_physical_cores")
        info["cpu_sockets"] = capability.get("num_sockets")
    return info


def thread_pools() -> list[dict[str, Any]]:
    """The BLAS and OpenMP libraries loaded in this process and their thread counts.

    From :func:`threadpoolctl.threadpool_info` (a scikit-learn dependency): one entry per
    library with ``user_api`` (``"blas"``/``"openmp"``), ``internal_api``
    (``"openblas"``, ``"mkl"``, ``"openmp"``...), ``prefix``, ``version``, ``num_threads``
    and, for BLAS, ``threading_layer`` and ``architecture``. File paths are left out. A BLAS
    linked statically into torch (MKL in the x86 wheels) is not a loaded library and does
    not appear; ``torch_parallel`` records it.
    """
    from threadpoolctl import threadpool_info

    return [{k: v for k, v in pool.items() if k != "filepath"} for pool in threadpool_info()]


def machine_info(device: torch.device) -> dict[str, Any]:
    """Versions, CPU, thread pools, device and date for a result file.

    Parameters
    ----------
    device : torch.device
        The training device.

    Returns
    -------
    dict
        ``device``, the versions (``torch_version``, ``numpy_version``, ``sklearn_version``,
        ``python_version``), ``cpu`` (model name), ``cpu_flags``, ``cpu_count``, ``threads``
        (torch's intra-op threads), ``interop_threads``, ``thread_pools``
        (:func:`thread_pools`), ``torch_parallel`` (torch's own account of its OpenMP and
        MKL threads), ``platform``, ``date``, ``commit`` and ``tree_clean`` (:func:`git_state`)
        and, on CUDA, ``gpu``.
    """
    info: dict[str, Any] = {
        "device": str(device),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "sklearn_version": sklearn.__version__,
        "python_version": platform.python_version(),
        **cpu_info(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "thread_pools": thread_pools(),
        "torch_parallel": [
            line.strip() for line in torch.__config__.parallel_info().splitlines() if line.strip()
        ],
        "platform": platform.platform(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **git_state(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


#: The baselines' parameters where they differ from scikit-learn's defaults: a diagonal
#: covariance, since a full one on hundreds of pixels is singular or too slow to be a baseline.
BASELINE_PARAMS: dict[str, dict[str, Any]] = {
    "KMeans": {},
    "GaussianMixture": {"covariance_type": "diag"},
}


def _baseline_classes() -> dict[str, type]:
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    return {"KMeans": KMeans, "GaussianMixture": GaussianMixture}


def _private_settings(cls: type) -> dict[str, Any]:
    """The JSON-able ``_name`` class attributes of ``cls`` and its bases (not methods)."""
    scalar = (type(None), bool, int, float, str)
    settings: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if not name.startswith("_") or name.startswith("__"):
                continue
            if isinstance(value, scalar):
                settings[name] = value
            elif isinstance(value, tuple) and all(isinstance(v, scalar) for v in value):
                settings[name] = list(value)
    return dict(sorted(settings.items()))


def _peak_rss_mb() -> float | None:
    """Peak resident memory of this process in MiB, or None where it cannot be read.

    :mod:`resource` on Unix (``ru_maxrss``: KiB on Linux, bytes on macOS); on Windows the
    peak working set from psutil when it is installed.
    """
    try:
        import resource  # Unix only
    except ImportError:  # e.g. Windows
        resource = None
    if resource is not None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024.0
    try:
        import psutil
    except ImportError:
        return None
    peak_wset = getattr(psutil.Process().memory_info(), "peak_wset", None)  # Windows only
    return None if peak_wset is None else peak_wset / 2**20


def git_state() -> dict[str, Any]:
    """The commit of the checkout the package was imported from, and whether its tree is clean.

    Returns ``{"commit": <40-hex hash>, "tree_clean": bool}``, or ``None`` values where the
    package does not live in a git checkout (an installed wheel) or git is missing. The tree
    counts as clean when ``git status --porcelain`` lists nothing, untracked files included.
    """
    import subprocess

    root = Path(__import__("deepcluster_sk").__file__).resolve().parents[2]

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain") if commit else None
    return {"commit": commit, "tree_clean": None if status is None else status == ""}


def write_result(result: dict[str, Any], out_dir: str | os.PathLike, stem: str) -> Path:
    """Write ``result`` as ``<out_dir>/<stem>.json``, replacing an earlier run; return the path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem}.json"
    path.write_text(json.dumps(result, indent=2, default=_json_default) + "\n")
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    return str(value)


def monitored(
    cls: type, X: np.ndarray, y: np.ndarray, every: int, seed: int, size: int = 10000
) -> type:
    """A subclass of ``cls`` that logs the accuracy trajectory of its joint training phase.

    Its ``_on_epoch_end`` hook adds ``acc`` and ``nmi`` of ``predict`` on a fixed, seeded
    sample of at most ``size`` rows of ``X`` to the history record of every ``every``-th
    epoch, except in the ``"pretrain"`` and ``"classifier"`` phases, and puts the network
    back in training mode. Training never sees ``y``. The subclass has no ``__init__`` of its
    own, so ``get_params``, ``set_params`` and ``clone`` behave as for ``cls``.
    """
    idx = np.random.RandomState(seed).permutation(X.shape[0])[:size]
    X_s, y_s = X[idx], y[idx]

    def _on_epoch_end(self: Any, phase: str, epoch: int, record: dict[str, Any]) -> None:
        cls._on_epoch_end(self, phase, epoch, record)
        if phase in ("pretrain", "classifier") or (epoch + 1) % every:
            return
        labels = self.predict(X_s)
        record["acc"] = float(cluster_accuracy(y_s, labels))
        record["nmi"] = float(normalized_mutual_info_score(y_s, labels))
        self.module_.train()  # predict left the network in evaluation mode

    return type(
        cls.__name__,
        (cls,),
        {"_on_epoch_end": _on_epoch_end, "__module__": __name__, "__doc__": cls.__doc__},
    )


def label_changes(y: np.ndarray, start: np.ndarray, end: np.ndarray) -> dict[str, float]:
    """What a joint phase changed: the share of rows whose cluster differs between the start
    partition and the end (cluster ``k`` of both is the same component, as in the DVAE and
    IDEC), and among those rows the accuracy of the start and of the end, each partition
    mapped to classes by its own Hungarian matching on all rows."""
    changed = np.asarray(start) != np.asarray(end)
    out = {"changed_share": float(changed.mean())}
    if changed.any():
        out["changed_init_acc"] = float(_correct(y, start)[changed].mean())
        out["changed_acc"] = float(_correct(y, end)[changed].mean())
    return out


def _correct(y: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Whether each row's cluster is matched (Hungarian) to its class."""
    match = _match_clusters(y, labels)
    pairs = zip(match.rows, match.cols, strict=True)
    to_class = {match.clusters[c]: match.classes[r] for r, c in pairs}
    return np.array([to_class.get(c) == t for c, t in zip(labels, y, strict=True)])


def _phase_seconds(est: Any) -> dict[str, float]:
    """Wall time per phase of the fit: the estimator's ``phase_seconds_`` (``pretrain``,
    ``head``, ``joint``, and ``n_clusters`` under ``"auto"``); empty for a baseline."""
    return {k: round(float(v), 3) for k, v in (getattr(est, "phase_seconds_", {}) or {}).items()}


def _code_knn_accuracy(est: Any, X: np.ndarray, y: np.ndarray, seed: int) -> float | None:
    """Diagnostic (labels used only here): 5-fold accuracy of a 10-nearest-neighbour classifier
    on the codes the head saw, a ceiling the unsupervised head can hardly pass; a head that
    falls well short of it is the weak part, a head close to it waits on better codes."""
    manifold = getattr(est, "manifold_", None)
    codes = getattr(manifold, "codes_", None)
    if codes is None:
        if not hasattr(est, "_latent") or X.shape[0] > 100_000:
            return None
        codes = est._latent(X)
    if codes.shape[0] != len(y) or len(y) < 50:
        return None
    folds = KFold(5, shuffle=True, random_state=seed)
    pred = cross_val_predict(KNeighborsClassifier(10), codes, y, cv=folds)
    return float(np.mean(pred == y))


def run_benchmark(
    estimator: str,
    dataset: str,
    *,
    params: dict[str, Any] | None = None,
    seed: int = 0,
    n_samples: int | None = None,
    device: str = "auto",
    data_path: str | None = None,
    eval_dataset: str | None = None,
    silhouette_samples: int = 10000,
    out_dir: str | os.PathLike | None = None,
    tag: str | None = None,
    monitor_every: int = 0,
    settings: dict[str, Any] | None = None,
    n_clusters: int | str | None = None,
) -> dict[str, Any]:
    """Fit ``estimator`` on ``dataset`` and return (and optionally write) the result record.

    Parameters
    ----------
    estimator : str
        Class name, one of those of :func:`deepcluster_sk.all_estimators`, or a baseline of
        :data:`BASELINES` (scikit-learn's ``KMeans``, ``GaussianMixture``) run on the same input.
    dataset : str
        Name understood by :func:`load_benchmark_data`.
    params : dict, optional
        Constructor parameters the caller chooses (recorded as ``param_overrides``; none for a
        run of the defaults). ``random_state`` and ``device`` are set from ``seed`` and
        ``device``, ``n_clusters`` from the number of classes, and image estimators get the
        data set's ``input_shape``, unless given.
    seed : int, default=0
        ``random_state`` of the estimator and of the subset draw.
    n_samples : int, optional
        Fit on a random subset of this size (stratification-free, seeded).
    device : str, default="auto"
        Training device.
    data_path : str, optional
        Where ``mnist.npz`` / ``usps.npz`` live.
    n_clusters : int or "auto", optional
        The estimator's ``n_clusters`` instead of the number of classes (``"auto"``: chosen
        by the estimator; the record then holds the count and the criterion's curve).
    eval_dataset : str, optional
        A second data set labelled with ``predict`` after fitting (e.g. fit on
        ``mnist-train``, evaluate on ``mnist-test``); its metrics go under ``test_metrics``.
    silhouette_samples : int, default=10000
        Sample size of the silhouette score on ``transform(X)`` (0 to skip).
    out_dir : path, optional
        Folder to write the JSON file to, as ``<estimator>_<dataset>[_n<subset>]_seed<seed>
        [_<tag>].json``; a file of the same name is replaced.
    tag : str, optional
        Extra label stored in the record and the file name.
    monitor_every : int, default=0
        DVAEClusterer only. When positive, every ``monitor_every`` epochs of the joint phase (not
        ``pretrain``/``classifier``) the history record gets ``acc`` and ``nmi`` of
        ``predict`` on a seeded sample of at most 10,000 training rows: the accuracy
        trajectory (see :func:`monitored`). It only reads the labels; training never sees
        them.
    settings : dict, optional
        Private class settings to override for a probe (``{"_warmup_steps": 50}``), set
        on a subclass of the estimator (never on the instance); each must be an existing
        ``_name`` setting of the class. They are recorded under
        ``private_settings`` (with the rest) and ``settings_overrides``.

    Returns
    -------
    dict
        The result record.
    """
    classes = {**dict(all_estimators()), **_baseline_classes()}
    if estimator not in classes:
        raise ValueError(f"Unknown estimator {estimator!r}; available: {sorted(classes)}.")
    X, y, image_shape = load_benchmark_data(dataset, data_path)
    if n_samples is not None and n_samples < X.shape[0]:
        idx = np.random.RandomState(seed).choice(X.shape[0], n_samples, replace=False)
        X, y = X[idx], y[idx]
    cls = classes[estimator]
    baseline = estimator in BASELINES
    overrides = dict(params or {})  # what the caller chose, beside the per-run settings below
    params = dict(overrides)
    params.setdefault("random_state", seed)
    defaults = cls().get_params()
    k_name = "n_components" if estimator == "GaussianMixture" else "n_clusters"
    params.setdefault(k_name, len(np.unique(y)) if n_clusters is None else n_clusters)
    if baseline:
        params.update({k: v for k, v in BASELINE_PARAMS[estimator].items() if k not in overrides})
    else:
        params.setdefault("device", device)
        if "input_shape" in defaults and image_shape is not None:
            params.setdefault("input_shape", image_shape)
    if monitor_every:
        if estimator != "DVAEClusterer":
            raise ValueError(
                "monitor_every needs a model whose clustering head trains with the network "
                f"(DVAEClusterer); {estimator} fits its head after training."
            )
        cls = monitored(cls, X, y, monitor_every, seed)
    settings_overrides = dict(settings or {})
    known = {} if baseline else _private_settings(cls)
    for name in settings_overrides:
        if name not in known:
            raise ValueError(
                f"{name!r} is not a private setting of {estimator}; known: {sorted(known)}."
            )
    if settings_overrides:
        # A probe subclass that sets them (get_params and clone see the class's settings).
        cls = type(cls.__name__, (cls,), {"__module__": cls.__module__, **settings_overrides})
    est = cls(**params)
    resolved = resolve_device("cpu" if baseline else params["device"])
    if resolved.type == "cuda":
        torch.cuda.reset_peak_memory_stats(resolved)

    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labels = est.fit_predict(X) if hasattr(est, "fit_predict") else est.fit(X).predict(X)
    fit_seconds = time.perf_counter() - t0
    for w in caught:  # still shown, and recorded below
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)

    history = list(getattr(est, "history_", []))
    epoch_seconds = [r["seconds"] for r in history if "seconds" in r]
    train_seconds = float(sum(epoch_seconds))
    metrics = clustering_metrics(y, labels)
    if hasattr(est, "init_labels_"):
        # Diagnostic (labels used only here): how good the partition of the pretrained codes
        # was before joint training, so a weak pretraining shows before it is blamed on it,
        # and what the joint phase changed.
        init = clustering_metrics(y, est.init_labels_)
        metrics["init_acc"], metrics["init_nmi"] = init["acc"], init["nmi"]
        metrics.update(label_changes(y, est.init_labels_, labels))
    knn = _code_knn_accuracy(est, X, y, seed)
    if knn is not None:
        metrics["code_knn_acc"] = knn
    if silhouette_samples and hasattr(est, "transform"):
        Z = est.transform(X)
        size = min(silhouette_samples, X.shape[0])
        if len(np.unique(labels)) > 1:
            metrics["silhouette"] = float(
                silhouette_score(Z, labels, sample_size=size, random_state=seed)
            )
    peak_rss = _peak_rss_mb()
    record: dict[str, Any] = {
        "estimator": estimator,
        "dataset": dataset,
        "n_samples": int(X.shape[0]),
        "preprocessing": "StandardScaler" if dataset in TABLES else None,
        "seed": seed,
        "tag": tag,
        "params": est.get_params(),
        # The parameters the caller chose: an empty dict is a run of the defaults (n_clusters,
        # input_shape, random_state and device are set per data set, seed and machine).
        "param_overrides": overrides,
        # The class's private settings (``_anchor_weight``...), which get_params leaves out:
        # a run measured before one of them changed is then told apart from today's.
        "private_settings": {**known, **settings_overrides},
        "settings_overrides": settings_overrides,
        "precision": getattr(est, "_precision", None),
        "metrics": metrics,
        # Cluster sizes of the training partition (an empty cluster shows as 0) and the
        # warnings the fit raised (a ClusterCollapseWarning names a collapse).
        "cluster_sizes": np.bincount(
            labels, minlength=int(getattr(est, "n_clusters_", params[k_name]))
        ).tolist(),
        "fit_warnings": sorted({f"{w.category.__name__}: {w.message}" for w in caught}),
        "fit_seconds": round(fit_seconds, 3),
        "train_seconds": round(train_seconds, 3),
        "n_epochs_run": len(epoch_seconds),
        "seconds_per_epoch": (
            round(train_seconds / len(epoch_seconds), 4) if epoch_seconds else None
        ),
        "samples_per_second": (
            round(X.shape[0] * len(epoch_seconds) / train_seconds, 1) if train_seconds else None
        ),
        "peak_rss_mb": None if peak_rss is None else round(peak_rss, 1),
        "phase_seconds": _phase_seconds(est),
        "history": history,
    }
    if getattr(est, "n_clusters_candidates_", None) is not None:
        # n_clusters="auto": the count chosen, the true one, and the criterion's curve.
        record["n_clusters_chosen"] = int(est.n_clusters_)
        record["n_classes"] = len(np.unique(y))
        record["n_clusters_candidates"] = est.n_clusters_candidates_.tolist()
        record["n_clusters_scores"] = [round(float(v), 5) for v in est.n_clusters_scores_]
    if eval_dataset is not None:
        X_test, y_test, _ = load_benchmark_data(eval_dataset, data_path)
        record["eval_dataset"] = eval_dataset
        record["test_metrics"] = clustering_metrics(y_test, est.predict(X_test))
    record.update(machine_info(resolved))
    if resolved.type == "cuda":
        record["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated(resolved) / 2**20, 1)
    if out_dir is not None:
        subset = f"_n{X.shape[0]}" if n_samples is not None else ""
        stem = f"{estimator}_{dataset}{subset}" + (f"_{tag}" if tag else "")
        if baseline:
            record["path"] = str(write_baseline_run(record, out_dir, stem))
        else:
            record["path"] = str(write_result(record, out_dir, f"{stem}_seed{seed}"))
    return record


def write_baseline_run(record: dict[str, Any], out_dir: str | os.PathLike, stem: str) -> Path:
    """Add ``record`` to ``<out_dir>/<stem>.json``, the runs of one baseline on one data set.

    A baseline's run takes a second and its record is small, so its seeds share one file
    (``{"estimator", "dataset", "runs": [...]}``, a run of the same seed replaced) and the
    registry stays a list of the project's own runs plus one file per reference method.
    """
    path = Path(out_dir) / f"{stem}.json"
    group = {"estimator": record["estimator"], "dataset": record["dataset"], "runs": []}
    if path.exists():
        group = json.loads(path.read_text(encoding="utf-8"))
    runs = [r for r in group["runs"] if r["seed"] != record["seed"]] + [record]
    group["runs"] = sorted(runs, key=lambda r: r["seed"])
    return write_result(group, out_dir, stem)
