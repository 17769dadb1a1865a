"""The tagged-JSON codec of :func:`deepcluster_sk.save`: values to JSON, arrays and tensors.

:class:`Writer` encodes numbers, strings, containers, numpy arrays (no object dtype except
strings), tensors and a whitelist of scikit-learn and package heads into JSON with tagged
objects, collecting arrays and tensors as archive members; :class:`Reader` decodes them from
the archive without pickle (``np.load(allow_pickle=False)``, ``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import io
import math
import warnings
import zipfile
from typing import Any

import numpy as np
import sklearn
import torch
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.mixture import BayesianGaussianMixture, GaussianMixture
from sklearn.preprocessing import StandardScaler

from ._heads import GaussianMixtureHead, KMeansHead, ManifoldHead, SpectralHead
from ._manifold import NeighbourExtension

__all__ = ["TENSORS_FILE", "USE_PICKLE", "Reader", "Writer", "attribute_name"]

_TAG = "$type"
#: The archive member holding the tensors other than the network's weights.
TENSORS_FILE = "tensors.pt"

#: scikit-learn heads (and the manifold map) stored as constructor parameters plus fitted
#: attributes.
_SKLEARN_CLASSES: dict[str, type] = {
    "deepcluster_sk.GaussianMixtureHead": GaussianMixtureHead,
    "deepcluster_sk.KMeansHead": KMeansHead,
    "deepcluster_sk.ManifoldHead": ManifoldHead,
    "deepcluster_sk.NeighbourExtension": NeighbourExtension,
    "deepcluster_sk.SpectralHead": SpectralHead,
    "sklearn.cluster.KMeans": KMeans,
    "sklearn.cluster.MiniBatchKMeans": MiniBatchKMeans,
    "sklearn.decomposition.PCA": PCA,
    "sklearn.mixture.BayesianGaussianMixture": BayesianGaussianMixture,
    "sklearn.mixture.GaussianMixture": GaussianMixture,
    "sklearn.preprocessing.StandardScaler": StandardScaler,
}
_SKLEARN_NAMES = {cls: name for name, cls in _SKLEARN_CLASSES.items()}

USE_PICKLE = (
    "use pickle or joblib instead, which store any Python object but must only be loaded "
    "from trusted files"
)


def attribute_name(key: Any) -> str:
    """``key`` if it is a plain attribute name (no dunder such as ``__dict__``)."""
    if not isinstance(key, str) or not key.isidentifier() or key.startswith("__"):
        raise ValueError(f"The file sets an invalid attribute name {key!r}.")
    return key


# ------------------------------------------------------------------------- encoding
class Writer:
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
                f"the estimator's own network module_ is stored (as weights); {USE_PICKLE}."
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
                f"stored by save(). Pass an int seed, or {USE_PICKLE}."
            )
        kind = f"{type(value).__module__}.{type(value).__qualname__}"
        raise TypeError(
            f"Cannot save {where} of type {kind}: save() stores numbers, strings, lists, "
            "tuples, dicts, numpy arrays (no object dtype), tensors, the estimator's network "
            f"and the scikit-learn heads {sorted(_SKLEARN_CLASSES)}. For this estimator, "
            f"{USE_PICKLE}."
        )

    def _numpy_scalar(self, value: np.generic, where: str) -> dict[str, Any]:
        if value.dtype.kind not in "biuf":
            raise TypeError(
                f"Cannot save {where}: numpy scalars of dtype {value.dtype} are not "
                f"supported; {USE_PICKLE}."
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
                    f"objects other than strings; {USE_PICKLE}."
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


class Reader:
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
                self._tensors = self.read_weights(TENSORS_FILE)
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
        try:
            head = cls(**self.decode(value["params"], where))
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{where}: cannot rebuild {name} saved with scikit-learn "
                f"{self.saved_sklearn} in scikit-learn {sklearn.__version__}: {exc}"
            ) from exc
        for key, item in self.decode(value["state"], where).items():
            setattr(head, attribute_name(key), item)
        return head
