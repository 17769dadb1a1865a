"""Batched float32 inference: a function of a module over many rows, in fixed-size blocks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ._utils import as_tensor, rows_as_float

__all__ = ["map_batches", "require_finite"]


def map_batches(
    fn: Callable[[torch.Tensor], torch.Tensor],
    X: np.ndarray | torch.Tensor,
    module: torch.nn.Module,
    device: torch.device,
    batch_size: int,
) -> np.ndarray:
    """Apply ``fn`` to ``X`` in batches on ``device`` (module in eval mode); gather on the CPU.

    Runs outside the training engine's autocast region, so in float32. Every block has
    exactly ``batch_size`` rows (the last is padded with zeros), so the matrix kernels,
    whose summation order depends on the batch size, see one shape: a row's output does not
    depend on how many other rows came with it (subset and order invariance). Each block's
    result is copied into one float64 array allocated at the first block (float64 for the
    scikit-learn heads, which accumulate in double): a small array kept per block would pin
    the heap between the blocks' large freed activations, so that glibc could not reuse them
    and peak memory would grow by one block of activations per block.
    """
    module.to(device).eval()
    out = None
    n, bs = X.shape[0], batch_size
    with torch.no_grad():
        for start in range(0, n, bs):
            chunk = X[start : start + bs]
            if not torch.is_tensor(chunk):
                chunk = as_tensor(chunk, torch.device("cpu"))
            xb = rows_as_float(chunk, device)
            rows = xb.shape[0]
            if rows < bs:
                xb = torch.cat([xb, xb.new_zeros((bs - rows, *xb.shape[1:]))])
            yb = fn(xb)[:rows].cpu().numpy()
            if out is None:
                out = np.empty((n, *yb.shape[1:]), dtype=np.float64)
            out[start : start + yb.shape[0]] = yb
            del xb, yb
    return out


def require_finite(values: np.ndarray, X: np.ndarray, what: str, name: str) -> np.ndarray:
    """Return ``values`` computed from ``X``; raise a ValueError if any is NaN or infinite.

    ``X`` itself is finite (validation refuses NaN and infinities), so a non-finite
    result means float32 overflowed in the network: the input is far outside the scale
    the model was trained on. Saying so beats returning NaN, or a head's message that
    blames missing values in the user's data.
    """
    finite = np.isfinite(values)
    if not finite.all():
        n_bad = int((~finite.reshape(finite.shape[0], -1).all(axis=1)).sum())
        raise ValueError(
            f"{name}: {what} is NaN or infinite for {n_bad} of the "
            f"{X.shape[0]} rows of X. X ranges over [{X.min():.3g}, {X.max():.3g}]; float32 "
            "arithmetic in the network overflows for inputs this far outside the scale "
            "of the training data. Scale X as the training data were scaled."
        )
    return values
