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
import math
import os
import uuid
import warnings
import zipfile
from typing import IO, Any

import numpy as np
import sklearn
import torch
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.mixture import BayesianGaussianMixture, GaussianMixture
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from ._base import BaseDeepClusterer
from ._manifold import NeighbourExtension
from ._utils import resolve_device, seeded_torch
from ._version import __version__

__all__ = ["load", "save"]

#: Version of the archive's layout; :func:`load` refuses files with a larger one.
FORMAT_VERSION = 1
_FORMAT_NAME = "deepcluster_sk.save"
_MANIFEST = "manifest.json"
_MODULE_FILE = "module_.pt"
_TENSORS_FILE = "tensors.pt"
_TAG = "$type"

#: scikit-learn heads (and the manifold map) stored as constructor parameters plus fitted
#: attributes.
_SKLEARN_CLASSES: dict[str, type] = {
    "deepcluster_sk.NeighbourExtension": NeighbourExtension,
    "sklearn.cluster.KMeans": KMeans,
    "sklearn.cluster.MiniBatchKMeans": MiniBatchKMeans,
    "sklearn.decomposition.PCA": PCA,
    "sklearn.mixture.BayesianGaussianMixture": BayesianGaussianMixture,
    "sklearn.mixture.GaussianMixture": GaussianMixture,
    "sklearn.preprocessing.StandardScaler": StandardScaler,
}
_SKLEARN_NAMES = {cls: name for name, cls in _SKLEARN_CLASSES.items()}

_USE_PICKLE = (
    "use pickle or joblib instead, which store any Python object but must only be loaded "
    "from trusted files"
)


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
            f"{_USE_PICKLE}."
        )
    return min(names, key=len)


# ------------------------------------------------------------------------- encoding
class _Writer:
    """Encode values into tagged JSON, collecting arrays and tensors as archive members."""

    def __init__(self) -> None:
        self.members: dict[str, bytes] = {}
        self.tensors: dict[str, torch.Tensor] = {}
        self._array_names: dict[int, tuple[np.ndarray, str]] = {}

    def encode(self, value: Any, where: str) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, np.generic):  # before float: np.float64 is a float
            return self._numpy_scalar(value, where)
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return _encode_float(value)
        if isinstance(value, tuple):
            return {
                _TAG: "tuple",
                "items": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)],
            }
        if isinstance(value, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            return self._dict(value, where)
        if type(value) is np.ndarray:
            return self._array(value, where)
        if isinstance(value, torch.device):
            return {_TAG: "torch_device", "value": str(value)}
        if isinstance(value, torch.dtype):
            return {_TAG: "torch_dtype", "value": str(value).removeprefix("torch.")}
        if isinstance(value, torch.nn.Module):
            raise TypeError(
                f"Cannot save {where}: it is a torch module ({type(value).__name__}) and only "
                f"the estimator's own network module_ is stored (as weights); {_USE_PICKLE}."
            )
        if type(value) is torch.Tensor:
            key = f"t{len(self.tensors)}"
            self.tensors[key] = value.detach().cpu()
            return {_TAG: "tensor", "key": key, "requires_grad": bool(value.requires_grad)}
        if type(value) in _SKLEARN_NAMES:
            return self._sklearn(value, where)
        if isinstance(value, (np.random.RandomState, np.random.Generator)):
            raise TypeError(
                f"Cannot save {where}: it is a {type(value).__name__}; its state is not "
                f"stored by save(). Pass an int seed, or {_USE_PICKLE}."
            )
        kind = f"{type(value).__module__}.{type(value).__qualname__}"
        raise TypeError(
            f"Cannot save {where} of type {kind}: save() stores numbers, strings, lists, "
            "tuples, dicts, numpy arrays (no object dtype), tensors, the estimator's network "
            f"and the scikit-learn heads {sorted(_SKLEARN_CLASSES)}. For this estimator, "
            f"{_USE_PICKLE}."
        )

    def _numpy_scalar(self, value: np.generic, where: str) -> dict[str, Any]:
        if value.dtype.kind not in "biuf":
            raise TypeError(
                f"Cannot save {where}: numpy scalars of dtype {value.dtype} are not "
                f"supported; {_USE_PICKLE}."
            )
        item = value.item()
        return {
            _TAG: "numpy_scalar",
            "dtype": value.dtype.name,
            "value": _encode_float(item) if isinstance(item, float) else item,
        }

    def _dict(self, value: dict, where: str) -> dict[str, Any]:
        if all(isinstance(k, str) for k in value) and _TAG not in value:
            return {k: self.encode(v, f"{where}[{k!r}]") for k, v in value.items()}
        return {
            _TAG: "dict",
            "items": [
                [self.encode(k, f"{where} key {k!r}"), self.encode(v, f"{where}[{k!r}]")]
                for k, v in value.items()
            ],
        }

    def _array(self, value: np.ndarray, where: str) -> dict[str, Any]:
        strings = False
        if value.dtype.hasobject:
            if value.dtype != object or not all(isinstance(v, str) for v in value.flat):
                raise TypeError(
                    f"Cannot save {where}: a numpy array of dtype {value.dtype} holding "
                    f"objects other than strings; {_USE_PICKLE}."
                )
            strings = True
        known = self._array_names.get(id(value))
        if known is not None and known[0] is value:  # the same array under two names
            name = known[1]
        else:
            name = f"arrays/{len(self._array_names)}.npy"
            self._array_names[id(value)] = (value, name)
            buffer = io.BytesIO()
            np.save(buffer, value.astype(str) if strings else value, allow_pickle=False)
            self.members[name] = buffer.getvalue()
        return {_TAG: "ndarray", "file": name, "strings": strings}

    def _sklearn(self, value: Any, where: str) -> dict[str, Any]:
        params = value.get_params(deep=False)
        state = {k: v for k, v in vars(value).items() if k not in params}
        return {
            _TAG: "sklearn",
            "class": _SKLEARN_NAMES[type(value)],
            "params": {k: self.encode(v, f"{where}.{k}") for k, v in params.items()},
            "state": {k: self.encode(v, f"{where}.{k}") for k, v in state.items()},
        }


def _encode_float(value: float) -> Any:
    """A float as JSON: finite ones as numbers, NaN and infinities tagged (strict JSON)."""
    if math.isfinite(value):
        return value
    return {_TAG: "float", "value": repr(value)}


class _Reader:
    """Decode tagged JSON, reading arrays and tensors from the archive without pickle."""

    def __init__(self, archive: zipfile.ZipFile, saved_sklearn: str | None) -> None:
        self.archive = archive
        self.saved_sklearn = saved_sklearn
        self._arrays: dict[str, np.ndarray] = {}
        self._tensors: dict[str, torch.Tensor] | None = None
        self._warned = False

    def read_member(self, name: str) -> bytes:
        try:
            return self.archive.read(name)
        except KeyError:
            raise ValueError(f"The file is incomplete: it has no member {name!r}.") from None

    def read_weights(self, name: str) -> dict[str, torch.Tensor]:
        buffer = io.BytesIO(self.read_member(name))
        try:
            weights = torch.load(buffer, weights_only=True, map_location="cpu")
        except Exception as exc:
            raise ValueError(f"Cannot read {name!r} as tensors: {exc}") from exc
        if not isinstance(weights, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()
        ):
            raise ValueError(f"{name!r} does not hold a dict of tensors.")
        return weights

    def decode(self, value: Any, where: str) -> Any:
        if isinstance(value, list):
            return [self.decode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict):
            return value
        tag = value.get(_TAG)
        if tag is None:
            return {k: self.decode(v, f"{where}[{k!r}]") for k, v in value.items()}
        if tag == "tuple":
            return tuple(self.decode(v, where) for v in value["items"])
        if tag == "dict":
            return {self.decode(k, where): self.decode(v, where) for k, v in value["items"]}
        if tag == "float":
            return float(value["value"])
        if tag == "numpy_scalar":
            dtype = np.dtype(value["dtype"])
            if dtype.kind not in "biuf":
                raise ValueError(f"{where}: unsupported numpy scalar dtype {dtype}.")
            return dtype.type(self.decode(value["value"], where))
        if tag == "ndarray":
            return self._array(value["file"], value.get("strings", False))
        if tag == "torch_device":
            return torch.device(value["value"])
        if tag == "torch_dtype":
            dtype = getattr(torch, str(value["value"]), None)
            if not isinstance(dtype, torch.dtype):
                raise ValueError(f"{where}: {value['value']!r} is not a torch dtype.")
            return dtype
        if tag == "tensor":
            if self._tensors is None:
                self._tensors = self.read_weights(_TENSORS_FILE)
            return self._tensors[value["key"]].requires_grad_(bool(value["requires_grad"]))
        if tag == "sklearn":
            return self._sklearn(value, where)
        raise ValueError(
            f"{where}: unknown entry type {tag!r}; the file was probably written by a newer "
            "deepcluster_sk."
        )

    def _array(self, name: str, strings: bool) -> np.ndarray:
        if name not in self._arrays:
            array = np.load(io.BytesIO(self.read_member(name)), allow_pickle=False)
            self._arrays[name] = array.astype(object) if strings else array
        return self._arrays[name]

    def _sklearn(self, value: dict[str, Any], where: str) -> Any:
        name = value["class"]
        cls = _SKLEARN_CLASSES.get(name)
        if cls is None:
            raise ValueError(
                f"{where}: {name!r} is not one of the scikit-learn classes load() rebuilds "
                f"({sorted(_SKLEARN_CLASSES)})."
            )
        if self.saved_sklearn != sklearn.__version__ and not self._warned:
            self._warned = True
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=name,
                    current_sklearn_version=sklearn.__version__,
                    original_sklearn_version=str(self.saved_sklearn),
                ),
                stacklevel=3,
            )
        head = cls()
        try:
            head.set_params(**self.decode(value["params"], where))
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{where}: cannot rebuild {name} saved with scikit-learn "
                f"{self.saved_sklearn} in scikit-learn {sklearn.__version__}: {exc}"
            ) from exc
        for key, item in self.decode(value["state"], where).items():
            setattr(head, _attribute_name(key), item)
        return head


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
            f"for other objects (pipelines included), {_USE_PICKLE}."
        )
    class_name = _class_name(type(estimator))
    check_is_fitted(estimator)
    params = estimator.get_params(deep=False)
    writer = _Writer()
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
        writer.members[_TENSORS_FILE] = buffer.getvalue()

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


def _encode_param(writer: _Writer, name: str, value: Any) -> Any:
    if isinstance(value, torch.nn.Module):
        raise TypeError(
            f"Cannot save parameter {name}={type(value).__name__}(...): a torch.nn.Module of "
            "your own is code, which save() does not store. Use a built-in network name, or "
            f"{_USE_PICKLE}."
        )
    if isinstance(value, (np.random.RandomState, np.random.Generator)):
        raise ValueError(
            f"Cannot save parameter {name}: it is a {type(value).__name__} instance, whose "
            "state save() does not store. Fit with an int seed (or None), or "
            f"{_USE_PICKLE}."
        )
    return writer.encode(value, f"parameter {name}")


def _module_bytes(module: torch.nn.Module) -> bytes:
    state = module.state_dict()
    extra = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if extra:
        raise TypeError(
            f"Cannot save module_: its state_dict holds non-tensor entries {extra}; {_USE_PICKLE}."
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
        reader = _Reader(archive, manifest.get("versions", {}).get("scikit-learn"))
        try:
            params = reader.decode(manifest["params"], "params")
            attributes = reader.decode(manifest["attributes"], "attributes")
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path!r} has a malformed {_MANIFEST}: {exc!r}") from exc
        if not isinstance(params, dict) or not isinstance(attributes, dict):
            raise ValueError(f"{path!r} has a malformed {_MANIFEST}.")
        estimator = cls(**_checked_params(cls, params, manifest))
        for key, value in attributes.items():
            setattr(estimator, _attribute_name(key), value)
        if manifest.get("fitted_device") is not None:
            estimator._device = target_device
        if manifest.get("module") is not None:
            estimator.module_ = _rebuild_module(estimator, reader, manifest["module"])
            estimator.module_.to(target_device)
    return estimator


def _attribute_name(key: Any) -> str:
    """``key`` if it is a plain attribute name (no dunder such as ``__dict__``)."""
    if not isinstance(key, str) or not key.isidentifier() or key.startswith("__"):
        raise ValueError(f"The file sets an invalid attribute name {key!r}.")
    return key


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
    estimator: BaseDeepClusterer, reader: _Reader, entry: dict[str, Any]
) -> torch.nn.Module:
    """Build the network from the estimator's parameters and load the saved weights."""
    n_rows = max(2, int(getattr(estimator, "n_clusters", 2)))
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
