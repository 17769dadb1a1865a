"""Device resolution, seeding, shapes, tensor conversion and input checks of every estimator.

Over 400 lines because these small helpers (each a few lines of code under a docstring that
says why) are shared by the base, the engine and the networks.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

__all__ = [
    "as_tensor",
    "cpu_capability",
    "cpu_has_fast_bfloat16",
    "data_device",
    "draw_seed",
    "import_optional",
    "make_generator",
    "random_affine",
    "resolve_batch_size",
    "resolve_device",
    "resolve_image_shape",
    "resolve_latent_dim",
    "resolve_n_epochs",
    "resolve_precision",
    "rows_as_float",
    "seeded_torch",
]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Turn the ``device`` parameter into a :class:`torch.device`.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}, str, torch.device or None
        ``"auto"`` (or None) picks CUDA when a GPU is visible and the CPU otherwise. A
        string or :class:`torch.device` naming the CPU or a CUDA device (``"cuda:1"``) is
        accepted; other device types (``"mps"``, ...) are not supported.

    Returns
    -------
    torch.device
        The resolved device.

    Raises
    ------
    ValueError
        If the string is not a device torch knows, or CUDA is requested without a GPU.
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, torch.device):
        resolved = device
    elif isinstance(device, str):
        try:
            resolved = torch.device(device)
        except RuntimeError as exc:
            raise ValueError(
                f"device={device!r} is not a valid device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
            ) from exc
    else:
        raise TypeError(
            f"device must be 'auto', a string or a torch.device, got {type(device).__name__}."
        )
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but no CUDA GPU is available; "
                "use device='cpu' or device='auto'."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} but only {torch.cuda.device_count()} CUDA device(s) exist."
            )
    elif resolved.type != "cpu":
        raise ValueError(
            f"device={device!r}: device type {resolved.type!r} is not supported; "
            "use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        )
    return resolved


def inference_device(device: torch.device | None) -> torch.device:
    """Device to run inference on: the fitted one, or the CPU when it is gone.

    A model fitted on a GPU and unpickled on a CPU-only machine predicts on the CPU.
    """
    if device is None:
        return torch.device("cpu")
    if device.type == "cuda" and not torch.cuda.is_available():
        return torch.device("cpu")
    return device


def draw_seed(rng: np.random.RandomState) -> int:
    """Draw a 31-bit integer seed from a numpy ``RandomState``."""
    return int(rng.randint(0, 2**31 - 1))


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A local :class:`torch.Generator` on ``device`` seeded with ``seed``.

    The global torch random state is never touched.
    """
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen


def random_affine(
    rows: torch.Tensor,
    shape: Sequence[int],
    shift: float,
    rotation: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Move each flattened image by its own random rotation and translation.

    Parameters
    ----------
    rows : torch.Tensor of shape (n, C*H*W)
        Flattened images, row-major.
    shape : sequence of int
        ``(C, H, W)``.
    shift : float
        Largest translation, as a fraction of the height and of the width (uniform in
        ``[-shift, shift]`` on each axis).
    rotation : float
        Largest rotation in degrees (uniform in ``[-rotation, rotation]``).
    generator : torch.Generator
        Source of the draws (on the rows' device).

    Returns
    -------
    torch.Tensor of shape (n, C*H*W)
        The moved images (bilinear interpolation, zeros outside), flattened.
    """
    n = rows.shape[0]
    images = rows.reshape(n, *shape).float()
    draws = torch.rand((n, 3), generator=generator, device=rows.device) * 2 - 1
    angle = draws[:, 0] * math.radians(rotation)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # affine_grid works in [-1, 1] coordinates: a shift of a fraction f of the width is 2f.
    theta = torch.stack(
        [
            torch.stack([cos, -sin, draws[:, 1] * 2 * shift], dim=1),
            torch.stack([sin, cos, draws[:, 2] * 2 * shift], dim=1),
        ],
        dim=1,
    )
    grid = torch.nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    moved = torch.nn.functional.grid_sample(images, grid, align_corners=False)
    return moved.reshape(n, -1).to(rows.dtype)


@contextlib.contextmanager
def seeded_torch(seed: int) -> Iterator[None]:
    """Run a block with torch's CPU RNG seeded, restoring the caller's RNG state afterwards.

    Used only around module construction, where ``torch.nn`` initialisers draw from the
    default generator; the user's global state is left exactly as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield


def as_tensor(X: np.ndarray, device: torch.device) -> torch.Tensor:
    """Convert an array to a contiguous tensor on ``device`` (no copy on CPU).

    float32 and uint8 arrays keep their type (uint8 rows are 8-bit intensities, scaled
    to [0, 1] batch by batch by :func:`rows_as_float`); anything else becomes float32.
    A read-only array (a memmap opened with ``mmap_mode="r"``) is shared, not copied, so
    fitting on a memmap larger than memory reads only the mini-batches it gathers. torch
    warns that it cannot stop writes to such an array; the library never writes to its
    input, so that warning is silenced here.
    """
    dtype = np.uint8 if X.dtype == np.uint8 else np.float32
    X = np.ascontiguousarray(X, dtype=dtype)
    if X.flags.writeable:
        return torch.as_tensor(X, device=device)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not writable", category=UserWarning)
        return torch.as_tensor(X, device=device)


def rows_as_float(rows: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Move a block of rows to ``device`` as float32; uint8 rows are divided by 255.

    uint8 data (8-bit images, e.g. a ``numpy.memmap`` of pixels) travel and are stored
    at a quarter of float32's size and become intensities in [0, 1] only here, one batch
    at a time. Rows of any other type are moved unchanged (labels stay integers).
    """
    rows = rows.to(device, non_blocking=True)
    if rows.dtype == torch.uint8:
        rows = rows.to(torch.float32).div_(255.0)
    return rows


#: Share of the free GPU memory the training data may take when they are placed on it.
DEVICE_DATA_FRACTION = 0.5


def data_device(nbytes: int, device: torch.device) -> torch.device:
    """Where the training data live: on ``device`` when they fit, else in host memory.

    On the CPU they are always shared with the caller's array (a memmap stays a memmap).
    On a GPU the data are copied there once when they take at most
    :data:`DEVICE_DATA_FRACTION` of its free memory, the fast path; otherwise they stay
    in host memory and each mini-batch is gathered there and moved to the GPU.
    """
    if device.type != "cuda":
        return torch.device("cpu") if device.type == "cpu" else device
    free, _ = torch.cuda.mem_get_info(device)
    return device if nbytes <= DEVICE_DATA_FRACTION * free else torch.device("cpu")


def resolve_image_shape(
    input_shape: Sequence[int] | str | None, n_features: int, *, param: str = "input_shape"
) -> tuple[int, int, int]:
    """Check or infer the ``(channels, height, width)`` shape of flattened image rows.

    Parameters
    ----------
    input_shape : sequence of int, "1d" or None
        ``(C, H, W)``, ``(H, W)`` (one channel), ``"1d"`` to treat each row as a
        one-channel 1-D signal ``(1, 1, n_features)``, or None to infer a square
        single-channel image from ``n_features``.
    n_features : int
        Number of columns of ``X``.
    param : str, default="input_shape"
        Parameter name used in error messages.

    Returns
    -------
    tuple of int
        ``(C, H, W)`` with ``C * H * W == n_features``.

    Raises
    ------
    ValueError
        When the shape cannot be inferred or does not match ``n_features``.
    """
    if input_shape is None:
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(
                f"Cannot infer a square single-channel image from n_features={n_features}; "
                f"pass {param}=(channels, height, width) whose product is {n_features}."
            )
        return (1, side, side)
    if isinstance(input_shape, str):
        if input_shape != "1d":
            raise ValueError(f"{param} must be a shape tuple, '1d' or None, got {input_shape!r}.")
        return (1, 1, n_features)
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or any(s < 1 for s in shape):
        raise ValueError(
            f"{param} must be (channels, height, width) of positive ints, got {input_shape!r}."
        )
    if math.prod(shape) != n_features:
        raise ValueError(
            f"{param}={shape} holds {math.prod(shape)} values per sample but X has "
            f"n_features={n_features}."
        )
    return shape  # type: ignore[return-value]


def cpu_capability() -> dict[str, Any]:
    """torch's own reading of the CPU: instruction sets (``{"avx512_bf16": True, ...}``),
    name and cache sizes.

    Empty where this torch build does not report it.
    """
    try:
        return dict(torch._C._cpu._get_cpu_capability())
    except AttributeError:  # an older or different torch build
        return {}


def cpu_has_fast_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 matrix products natively (AMX-BF16 or AVX-512-BF16).

    On such CPUs bfloat16 matrix products run faster than float32 ones, and so does the
    autoencoders' training (``benchmarks/throughput.py`` measures both; the user guide's
    speed page shows its results). CPUs without either instruction set emulate bfloat16
    and gain nothing.
    """
    capability = cpu_capability()
    return bool(capability.get("amx_bf16", False) or capability.get("avx512_bf16", False))


#: ``batch_size="auto"``: the largest and smallest batch, and the fewest batches an epoch has
#: unless the estimator asks for more (``_auto_min_batches``).
_AUTO_BATCH_MAX, _AUTO_BATCH_MIN, _AUTO_MIN_BATCHES = 256, 32, 10
#: An ``"auto"`` epoch count is the full count up to this many training rows; above, it
#: passes as many rows through the network as the full count of epochs of this many rows.
_AUTO_EPOCH_ROWS = 12_800


def resolve_batch_size(
    batch_size: int | str, n_samples: int, min_batches: int = _AUTO_MIN_BATCHES
) -> int:
    """The training batch size for ``n_samples`` rows.

    ``"auto"`` is 256, halved (down to 32) while an epoch would hold fewer than
    ``min_batches`` mini-batches: small data sets then get enough optimizer steps per epoch
    (1,797 digits with the default 10: 128, 15 steps an epoch instead of 8) at the same
    cost in samples.

    Parameters
    ----------
    batch_size : int or "auto"
    n_samples : int
    min_batches : int, default=10
        The fewest mini-batches an ``"auto"`` epoch aims for.

    Returns
    -------
    int
    """
    if batch_size != "auto":
        return int(batch_size)
    size = _AUTO_BATCH_MAX
    while size > _AUTO_BATCH_MIN and n_samples < min_batches * size:
        size //= 2
    return size


def resolve_n_epochs(n_epochs: int | str, n_samples: int, full: int) -> int:
    """The number of training epochs for ``n_samples`` rows.

    ``"auto"`` is ``full`` up to 12,800 rows. Above, it is the count of epochs that passes
    as many rows through the network as ``full`` epochs of 12,800 rows (rounded up, at
    least one): the training then costs about the same on a large set as on a set of
    12,800 rows, and takes as many optimizer steps at the same batch size. With ``full=50``
    that is 50 epochs for 10,000 rows, 10 for 70,000 and 1 from 640,000 rows up.

    Parameters
    ----------
    n_epochs : int or "auto"
    n_samples : int
    full : int
        The count for sets of at most 12,800 rows.

    Returns
    -------
    int
    """
    if n_epochs != "auto":
        return int(n_epochs)
    return max(1, min(full, math.ceil(full * _AUTO_EPOCH_ROWS / n_samples)))


def resolve_precision(precision: str, device: torch.device) -> str:
    """Turn the ``precision`` parameter into ``"float32"`` or ``"bfloat16"``.

    Parameters
    ----------
    precision : {"auto", "float32", "bfloat16"}
        ``"auto"`` is bfloat16 where the device computes it fast (a CUDA GPU that supports
        bfloat16, a CPU with AMX or AVX-512-BF16) and float32 elsewhere. An explicit
        ``"bfloat16"`` runs on any device (emulated, possibly slower, on CPUs without
        bfloat16 units).
    device : torch.device
        The training device.

    Returns
    -------
    str
        ``"float32"`` or ``"bfloat16"``.
    """
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    if device.type == "cpu" and cpu_has_fast_bfloat16():
        return "bfloat16"
    return "float32"


def import_optional(module: str, *, extra: str, feature: str) -> Any:
    """Import an optional dependency, or raise an ImportError naming the extra to install.

    Parameters
    ----------
    module : str
        Module name, e.g. ``"umap"``.
    extra : str
        The package extra that installs it, e.g. ``"umap"``.
    feature : str
        What needs it, for the message.

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    ImportError
        When the module is not installed.
    """
    try:
        with warnings.catch_warnings():
            # umap-learn announces that its optional TensorFlow part is unavailable.
            warnings.simplefilter("ignore", ImportWarning)
            return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{feature} needs the optional package {module!r}, which is not installed. "
            f'Install it with: pip install "deepcluster_sk[{extra}]"'
        ) from exc


def _looks_like_8bit(X: np.ndarray, block: int = 4096) -> bool:
    """Whether ``X`` (finite, float) holds only integers in [0, 255], the largest above 1.

    Checked ``block`` rows at a time, so no copy of ``X`` is made and typical float data
    are rejected at the first block.
    """
    if not (X.min() >= 0.0 and 1.0 < X.max() <= 255.0):
        return False
    return all(np.array_equal(c, np.floor(c)) for c in np.array_split(X, -(-len(X) // block)))


#: ``latent_dim="auto"``: codes of this many dimensions, or ``n_clusters`` when larger.
_MIN_LATENT_DIM = 10


def resolve_latent_dim(latent_dim: int | str | None, n_clusters: int) -> int | None:
    """The code size: ``latent_dim``, or for ``"auto"`` ``max(10, n_clusters)``.

    Ten dimensions hold ten digit classes; 40 faces need room for 40 directions.
    """
    if latent_dim == "auto":
        return max(_MIN_LATENT_DIM, int(n_clusters))
    return latent_dim


def resolve_likelihood(likelihood: str, X: np.ndarray, name: str) -> str:
    """Resolve the ``likelihood`` parameter for ``X``; check the value range it needs."""
    # uint8 rows are 8-bit intensities, divided by 255 as they are used.
    in_unit = X.dtype == np.uint8 or bool(X.min() >= 0.0 and X.max() <= 1.0)
    if likelihood == "bernoulli" and not in_unit:
        raise ValueError(
            f"{name} with likelihood='bernoulli' needs X in [0, 1], but X "
            f"ranges over [{X.min():.4g}, {X.max():.4g}]. Scale the data first (e.g. "
            "sklearn.preprocessing.MinMaxScaler, or divide images by 255) or use "
            "likelihood='gaussian'."
        )
    if likelihood == "auto":
        resolved = "bernoulli" if in_unit else "gaussian"
        if not in_unit and _looks_like_8bit(X):
            warnings.warn(
                f"X holds integers in [0, 255] (max {X.max():.0f}), like 8-bit images, so "
                f"likelihood='auto' chose the Gaussian likelihood for "
                f"{name}. If these are images, divide X by 255 (or by its "
                "maximum) to get the Bernoulli likelihood on pixel intensities in [0, 1]; "
                "otherwise pass likelihood='gaussian' to silence this warning.",
                UserWarning,
                stacklevel=5,  # here < _fit < fit < _fit_context < the caller
            )
        return resolved
    return likelihood
