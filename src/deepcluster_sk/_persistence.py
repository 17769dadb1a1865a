"""Save and load fitted estimators without pickle: a zip of JSON, ``.npy`` and tensor files.

The file is a zip archive holding

- ``manifest.json``: the format version, the library versions, the estimator's class (a
  dotted name that must resolve to an estimator defined in :mod:`deepcluster_sk`), its
  ``get_params()`` and every other instance attribute, encoded as tagged JSON;
- ``arrays/<i>.npy``: the numpy arrays, read back with ``np.load(allow_pickle=False)``;
- ``module_.pt``: the network's ``state_dict``, read back with
  ``torch.load(weights_only=True, map_location="cpu")``;
- ``tensors.pt``: any other tensors, read the same way (absent when there are none).

Loading rebuilds the network with the estimator's own builder (``_build_module``) and
loads the weights into it; the scikit-learn heads are rebuilt from a whitelist of classes
and their fitted arrays. No pickled code runs at any point. Attributes are discovered, not
listed: a value of a type the format cannot store raises a ``TypeError`` naming it.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import uuid
import warnings
import zipfile
from typing import IO, Any

import numpy as np
import sklearn
import torch
from sklearn.utils.validation import check_is_fitted

from ._base import BaseDeepClusterer
from ._codec import TENSORS_FILE, USE_PICKLE, Reader, Writer, attribute_name
from ._utils import resolve_device, seeded_torch
from ._version import __version__

__all__ = ["load", "save"]

#: Version of the archive's layout; :func:`load` refuses files with a larger one.
FORMAT_VERSION = 1
_FORMAT_NAME = "deepcluster_sk.save"
_MANIFEST = "manifest.json"
_MODULE_FILE = "module_.pt"


# ------------------------------------------------------------------ estimator classes
def _package_estimators() -> dict[str, type]:
    """Dotted name -> class, for every concrete estimator class defined in the package.

    Built from the subclasses of :class:`BaseDeepClusterer`, so resolving a name read from a
    file imports nothing. Each class is listed under ``module.qualname`` and, when the
    package exports it, under ``deepcluster_sk.<name>``.
    """
    import deepcluster_sk

    found: dict[str, type] = {}
    stack = list(BaseDeepClusterer.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        in_package = cls.__module__.split(".")[0] == "deepcluster_sk"
        if not in_package or inspect.isabstract(cls) or "<locals>" in cls.__qualname__:
            continue
        found[f"{cls.__module__}.{cls.__qualname__}"] = cls
        if getattr(deepcluster_sk, cls.__name__, None) is cls:
            found[f"deepcluster_sk.{cls.__name__}"] = cls
    return found


def _class_name(cls: type) -> str:
    """The dotted name :func:`save` records for ``cls`` (the public one when exported)."""
    names = [name for name, known in _package_estimators().items() if known is cls]
    if not names:
        raise TypeError(
            f"save() stores only the estimators defined in deepcluster_sk; "
            f"{cls.__module__}.{cls.__qualname__} is not one. For a subclass of your own, "
            f"{USE_PICKLE}."
        )
    return min(names, key=len)


# ------------------------------------------------------------------------ public API
def save(estimator: BaseDeepClusterer, path: str | os.PathLike | IO[bytes]) -> None:
    """Save a fitted estimator to a file that loads without running pickled code.

    The file is a zip archive: a JSON manifest (class, parameters, fitted attributes,
    versions), the network's weights as a ``torch.save`` state dict, numpy arrays as
    ``.npy`` files and the scikit-learn heads as their fitted arrays. The network is stored
    from the CPU, so a model trained on a GPU loads on a machine without one. A path is
    written atomically: an existing file is replaced only once the new one is complete.

    Parameters
    ----------
    estimator : AEGMM, ConvAEKMeans, DVAEClusterer or another estimator of the package
        A fitted estimator whose parameters are built-in network names and an int (or None)
        ``random_state``.
    path : str, path-like or binary file object
        Where to write. The name is free; ``.dcsk`` is a good suffix.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    TypeError
        If the estimator is not a class of the package, or a parameter or attribute holds
        something the format cannot store (a user ``torch.nn.Module`` network, an unknown
        object): use :mod:`pickle` or :mod:`joblib` for those.
    ValueError
        If ``random_state`` is a ``RandomState`` or ``Generator`` instance.

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from deepcluster_sk import AEGMM, load, save
    >>> X, _ = make_blobs(100, n_features=4, centers=2, random_state=0)
    >>> est = AEGMM(2, hidden_dims=(8,), latent_dim=2, n_epochs=2, random_state=0).fit(X)
    >>> buffer = io.BytesIO()
    >>> save(est, buffer)
    >>> restored = load(io.BytesIO(buffer.getvalue()))
    >>> bool(np.array_equal(restored.predict(X), est.predict(X)))
    True
    """
    if not isinstance(estimator, BaseDeepClusterer):
        raise TypeError(
            f"save() stores the estimators of deepcluster_sk, got {type(estimator).__name__}; "
            f"for other objects (pipelines included), {USE_PICKLE}."
        )
    class_name = _class_name(type(estimator))
    check_is_fitted(estimator)
    params = estimator.get_params(deep=False)
    writer = Writer()
    encoded_params = {k: _encode_param(writer, k, v) for k, v in params.items()}

    attributes = {k: v for k, v in vars(estimator).items() if k not in params}
    module = attributes.pop("module_", None)
    device = attributes.pop("_device", None)
    encoded_attributes = {k: writer.encode(v, k) for k, v in attributes.items()}
    if module is not None:
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"Cannot save module_ of type {type(module).__name__}.")
        writer.members[_MODULE_FILE] = _module_bytes(module)
    if writer.tensors:
        buffer = io.BytesIO()
        torch.save(writer.tensors, buffer)
        writer.members[TENSORS_FILE] = buffer.getvalue()

    manifest = {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "versions": {
            "scikit-learn": sklearn.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
        "estimator": class_name,
        "params": encoded_params,
        "attributes": encoded_attributes,
        "module": None
        if module is None
        else {"file": _MODULE_FILE, "training": bool(module.training)},
        "fitted_device": None if device is None else str(device),
    }
    text = json.dumps(manifest, indent=1, allow_nan=False)
    _write_archive(path, {_MANIFEST: text.encode("utf-8"), **writer.members})


def _encode_param(writer: Writer, name: str, value: Any) -> Any:
    if isinstance(value, torch.nn.Module):
        raise TypeError(
            f"Cannot save parameter {name}={type(value).__name__}(...): a torch.nn.Module of "
            "your own is code, which save() does not store. Use a built-in network name, or "
            f"{USE_PICKLE}."
        )
    if isinstance(value, (np.random.RandomState, np.random.Generator)):
        raise ValueError(
            f"Cannot save parameter {name}: it is a {type(value).__name__} instance, whose "
            "state save() does not store. Fit with an int seed (or None), or "
            f"{USE_PICKLE}."
        )
    return writer.encode(value, f"parameter {name}")


def _module_bytes(module: torch.nn.Module) -> bytes:
    state = module.state_dict()
    extra = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if extra:
        raise TypeError(
            f"Cannot save module_: its state_dict holds non-tensor entries {extra}; {USE_PICKLE}."
        )
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in state.items()}, buffer)
    return buffer.getvalue()


def _write_archive(path: str | os.PathLike | IO[bytes], members: dict[str, bytes]) -> None:
    def write(fh: IO[bytes]) -> None:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)

    if hasattr(path, "write"):
        write(path)  # type: ignore[arg-type]
        return
    target = os.fspath(path)
    tmp = f"{target}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "xb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(
    path: str | os.PathLike | IO[bytes], *, device: str | torch.device = "cpu"
) -> BaseDeepClusterer:
    """Load an estimator written by :func:`save`, without running pickled code.

    Arrays are read with ``np.load(allow_pickle=False)``, the network's weights with
    ``torch.load(weights_only=True, map_location="cpu")``; the class must be an estimator
    of this package and the scikit-learn heads come from a fixed whitelist, so a tampered
    file can give wrong numbers but cannot run code.

    Parameters
    ----------
    path : str, path-like or binary file object
        The file.
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where the loaded network runs inference. The ``device`` parameter is restored as
        saved (it only matters for a refit).

    Returns
    -------
    estimator : AEGMM, ConvAEKMeans, DVAEClusterer or another estimator of the package
        The fitted estimator, with the same parameters and the same predictions.

    Raises
    ------
    ValueError
        If the file is not such an archive, was written by a newer format version, names a
        class outside the package or a parameter this version does not have, or its
        weights do not fit the network its parameters build.

    Warns
    -----
    UserWarning
        When the estimator has parameters the saving version did not have: they take
        their defaults.
    sklearn.exceptions.InconsistentVersionWarning
        When the scikit-learn heads were saved with another scikit-learn version.

    See Also
    --------
    save : Write the file.

    Examples
    --------
    >>> import numpy as np
    >>> from deepcluster_sk import DVAEClusterer, load, save
    >>> X = np.random.RandomState(0).rand(60, 6).astype("float32")
    >>> est = DVAEClusterer(2, hidden_dims=(8,), latent_dim=2, pretrain_epochs=1,
    ...                     n_epochs=1, random_state=0).fit(X)
    >>> save(est, "model.dcsk")  # doctest: +SKIP
    >>> load("model.dcsk").predict(X).shape  # doctest: +SKIP
    (60,)
    """
    target_device = resolve_device(device)
    try:
        archive = zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{path!r} is not a file written by deepcluster_sk.save.") from exc
    with archive:
        manifest = _read_manifest(archive, path)
        cls = _package_estimators().get(str(manifest.get("estimator")))
        if cls is None:
            raise ValueError(
                f"The file names the class {manifest.get('estimator')!r}, which is not an "
                "estimator of deepcluster_sk; load() builds only those."
            )
        reader = Reader(archive, manifest.get("versions", {}).get("scikit-learn"))
        try:
            params = reader.decode(manifest["params"], "params")
            attributes = reader.decode(manifest["attributes"], "attributes")
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path!r} has a malformed {_MANIFEST}: {exc!r}") from exc
        if not isinstance(params, dict) or not isinstance(attributes, dict):
            raise ValueError(f"{path!r} has a malformed {_MANIFEST}.")
        estimator = cls(**_checked_params(cls, params, manifest))
        for key, value in attributes.items():
            estimator.__dict__[attribute_name(key)] = value
        estimator._restore_fitted_state()
        if manifest.get("fitted_device") is not None:
            estimator._device = target_device
        if manifest.get("module") is not None:
            estimator.module_ = _rebuild_module(estimator, reader, manifest["module"])
            estimator.module_.to(target_device)
    return estimator


def _read_manifest(archive: zipfile.ZipFile, path: Any) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(_MANIFEST).decode("utf-8"))
    except (KeyError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path!r} has no readable {_MANIFEST}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT_NAME:
        raise ValueError(f"{path!r} is not a file written by deepcluster_sk.save.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"{path!r} has an invalid format version {version!r}.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path!r} was written in format version {version} by deepcluster_sk "
            f"{manifest.get('library_version')}, newer than this deepcluster_sk {__version__} "
            f"reads (format version {FORMAT_VERSION}); upgrade deepcluster_sk to load it."
        )
    return manifest


def _checked_params(cls: type, params: dict[str, Any], manifest: dict[str, Any]) -> dict:
    signature = inspect.signature(cls.__init__)
    accepted = {
        name
        for name, p in signature.parameters.items()
        if name != "self" and p.kind is not p.VAR_KEYWORD
    }
    saved_by = manifest.get("library_version", "an unknown version")
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(
            f"The {cls.__name__} was saved by deepcluster_sk {saved_by} with parameter(s) "
            f"{unknown} that this version ({__version__}) does not have; upgrade to load it."
        )
    missing = sorted(accepted - set(params))
    if missing:
        defaults = {name: signature.parameters[name].default for name in missing}
        warnings.warn(
            f"This {cls.__name__} was saved by deepcluster_sk {saved_by}, which had no "
            f"parameter(s) {missing}; they take their defaults {defaults}. Refit to be sure "
            "the model matches this version.",
            UserWarning,
            stacklevel=3,
        )
    return params


def _rebuild_module(
    estimator: BaseDeepClusterer, reader: Reader, entry: dict[str, Any]
) -> torch.nn.Module:
    """Build the network from the estimator's parameters and load the saved weights."""
    n_rows = max(2, int(estimator.n_clusters_))
    dummy = np.zeros((n_rows, int(estimator.n_features_in_)), dtype=np.float32)
    with seeded_torch(0):  # the initial weights are overwritten; keep the user's RNG intact
        module = estimator._build_module(dummy)
    weights = reader.read_weights(str(entry["file"]))
    if "latent_scale" in module.state_dict() and "latent_scale" not in weights:
        # Saved before the DVAE's codes were rescaled after pretraining: unit scale.
        weights["latent_scale"] = torch.ones(())
    try:
        # assign=True keeps the saved tensors (and their memory format) as the parameters.
        module.load_state_dict(weights, strict=True, assign=True)
    except RuntimeError as exc:
        raise ValueError(
            f"The saved weights do not fit the network that the saved parameters build: {exc}"
        ) from exc
    saved_shape = getattr(estimator, "input_shape_", None)
    if getattr(module, "input_shape", saved_shape) != saved_shape:
        raise ValueError(
            f"The rebuilt network reads rows as {module.input_shape}, the saved one as "
            f"{saved_shape}."
        )
    return module.train(bool(entry.get("training", False)))
