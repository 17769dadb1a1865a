"""The one training engine used by every estimator.

The engine owns the epoch loop, the mini-batch step, the optimizer, the learning-rate
schedule, early stopping, the NaN guard, the history and the progress display. An estimator
only supplies a *batch loss*: a function ``loss_fn(batch, epoch) -> (loss, terms)``.

Speed notes: the data stay on the training device as tensors; mini-batches are taken by
indexing with a shuffled index tensor (no ``DataLoader``, no per-sample Python work); loss
terms are accumulated on the device and read back once per epoch (no ``.item()`` per step);
Adam uses the fused kernel where torch offers it, and on the CPU its moment estimates are
kept out of the subnormal range (:func:`zero_tiny_moments`).

Over 400 lines because the loop, its settings (``FitConfig``, documented field by field),
its callbacks (``LabelChangeStopping``) and the description of a joint phase
(``JointPhase``) are one engine, read together.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from ._utils import rows_as_float

__all__ = [
    "FitConfig",
    "JointPhase",
    "LabelChangeStopping",
    "TrainingDivergedError",
    "full_precision",
    "run_training",
    "zero_tiny_moments",
]

BatchLoss = Callable[[tuple[torch.Tensor, ...], int], tuple[torch.Tensor, dict[str, torch.Tensor]]]
EpochEnd = Callable[[int, dict[str, Any]], bool | None]


def full_precision(x: torch.Tensor) -> torch.autocast:
    """A region of a batch loss that runs in float32 under the engine's autocast.

    Parameters
    ----------
    x : torch.Tensor
        A tensor on the device the loss runs on.

    Returns
    -------
    torch.autocast
        Autocast disabled on ``x``'s device type (clustering heads, mixture terms,
        similarity losses: small products whose rounding would move the labels).
    """
    return torch.autocast(x.device.type, enabled=False)


class LabelChangeStopping:
    """Early stopping on the share of training labels that changed (an ``on_epoch_end``).

    From epoch ``start - 1`` on (0-based, counted like the engine's epochs), the labels are
    computed every ``interval`` epochs; training stops at the first check where fewer than
    ``tol`` of them changed since the previous check, which is recorded as
    ``label_change``. ``tol=0`` never stops.

    Parameters
    ----------
    labels : callable
        ``labels()`` returns the current training labels (it may run inference).
    tol : float
    interval : int, default=5
    start : int, default=0
    """

    def __init__(self, labels: Callable[[], Any], tol: float, interval: int = 5, start: int = 0):
        self.labels = labels
        self.tol = tol
        self.interval = interval
        self.start = start
        self._previous = None
        self._since = 0

    def __call__(self, epoch: int, record: dict[str, Any]) -> bool:
        if self.tol <= 0 or epoch + 1 < self.start:
            return False
        self._since += 1
        if self._previous is not None and self._since < self.interval:
            return False
        labels = self.labels()
        previous, self._previous, self._since = self._previous, labels, 0
        if previous is None:
            return False
        record["label_change"] = float((labels != previous).mean())
        return record["label_change"] < self.tol


@dataclass
class JointPhase:
    """The training that follows the head's first fit: one engine run, described.

    Parameters
    ----------
    loss : callable
        The batch loss ``loss(batch, epoch) -> (loss, terms)`` (see ``run_training``).
    data : tuple of torch.Tensor
        The tensors the batches are drawn from (the rows first).
    params : list
        Parameters or parameter groups to optimise.
    config : dict
        Overrides of the estimator's training settings (``FitConfig`` fields).
    transform : callable or None
        Batch transform (random augmentation of the rows).
    callbacks : list of callable
        ``on_epoch_end`` callbacks: records, label-change stopping.
    refit_head : bool
        Refit the head on the codes after the phase (False when the phase trains the
        head itself, as the DVAE's classifier and IDEC's centres).
    """

    loss: BatchLoss
    data: tuple[torch.Tensor, ...]
    params: list
    config: dict[str, Any] = field(default_factory=dict)
    transform: Callable | None = None
    callbacks: list[EpochEnd] = field(default_factory=list)
    refit_head: bool = True


class TrainingDivergedError(FloatingPointError, ValueError):
    """Raised when the training loss becomes NaN or infinite, or explodes while finite.

    Exploding means a mini-batch loss more than 1000 times the first one of its training
    phase (losses under 1 count as 1); see ``max_loss_ratio`` of the engine's ``FitConfig``.
    The message names the parameter to change, usually the learning rate.
    """


#: Losses below this magnitude count as this magnitude when the divergence guard takes the
#: first batch's loss as its reference (a loss that starts near zero may grow a little).
_LOSS_FLOOR = 1.0


@dataclass(frozen=True)
class FitConfig:
    """Settings of one training phase.

    Parameters
    ----------
    n_epochs : int
        Number of passes over the data.
    batch_size : int
        Mini-batch size (capped by the number of samples).
    lr : float
        Initial learning rate.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        Optimizer; SGD uses Nesterov-free momentum 0.9.
    weight_decay : float, default=0.0
        L2 penalty (decoupled for AdamW).
    adam_eps : float, default=1e-8
        Adam's epsilon.
    lr_decay_step : int or None, default=None
        Multiply the learning rate by ``lr_decay_gamma`` every this many epochs.
    lr_decay_gamma : float, default=1.0
        Decay factor of the step schedule.
    lr_min : float, default=0.0
        Floor of the scheduled learning rate (a smaller initial rate is never raised).
    warmup_steps : int, default=0
        Linear learning-rate warm-up: optimizer step ``t`` (counted from 0 in each call)
        uses ``(t + 1) / warmup_steps`` times the scheduled rate until ``t`` reaches
        ``warmup_steps``. Adam's first steps move every weight by about the full rate
        whatever its gradient's size; the warm-up keeps them small.
    tol : float or None, default=None
        Stop when the relative decrease of the epoch loss stays below ``tol`` for
        ``n_iter_no_change`` epochs. None disables early stopping.
    n_iter_no_change : int, default=5
        Patience of early stopping.
    drop_last : bool, default=False
        Drop the last incomplete batch (when at least one full batch exists).
    phase : str, default="train"
        Name shown in the progress bar, in ``history_`` and in error messages.
    hint : str, default="lr"
        Parameter named in the divergence error as the one to change.
    first_epoch : int, default=0
        Index of the first epoch: a continued training (``warm_start``) passes the number
        of epochs already run, so the learning-rate schedule, the epoch-dependent loss
        terms and the epochs recorded in the history carry on from there.
    autocast_dtype : torch.dtype or None, default=None
        Lower precision of the batch loss's matrix products and convolutions
        (``torch.autocast`` on the training device); None trains in float32. Losses,
        gradients, optimizer state and weights stay float32, and a loss marks the parts
        that must stay float32 with :func:`full_precision`. Inference runs outside the
        engine and so always in float32.
    channels_last : bool, default=False
        Put the module in ``channels_last`` memory format before training (the fast
        lower-precision convolution kernels of oneDNN and cuDNN use it). The module keeps
        that layout; it changes no result.
    max_loss_ratio : float or None, default=1e3
        The divergence guard for losses that explode while finite: training stops with
        :class:`TrainingDivergedError` when the magnitude of any mini-batch loss exceeds
        ``max_loss_ratio`` times that of the phase's first mini-batch (the loss of the
        untrained module), taken as at least ``1.0``. The reference is the phase's own
        starting loss, so a loss that legitimately starts large (unscaled data) is judged
        relative to its start; the floor of 1.0 lets a loss that starts near zero grow
        without tripping it. With the default lr, batch losses of the estimators stayed
        within 2 times the first one; with lr 1000 times too large they rose 3e3 to 4e6
        times (measured on digits and blobs). None disables this check; NaN and infinite
        losses always raise.
    """

    n_epochs: int
    batch_size: int
    lr: float
    optimizer: str = "adam"
    weight_decay: float = 0.0
    adam_eps: float = 1e-8
    lr_decay_step: int | None = None
    lr_decay_gamma: float = 1.0
    lr_min: float = 0.0
    warmup_steps: int = 0
    tol: float | None = None
    n_iter_no_change: int = 5
    drop_last: bool = False
    phase: str = "train"
    hint: str = "lr"
    max_loss_ratio: float | None = 1e3
    first_epoch: int = 0
    autocast_dtype: torch.dtype | None = None
    channels_last: bool = False

    def lr_at(self, epoch: int, base_lr: float | None = None) -> float:
        """Learning rate of ``epoch`` under the step schedule (floored at ``lr_min``)."""
        lr0 = self.lr if base_lr is None else base_lr
        if self.lr_decay_step:
            lr0 = lr0 * self.lr_decay_gamma ** (epoch // self.lr_decay_step)
        start = self.lr if base_lr is None else base_lr
        return max(lr0, min(self.lr_min, start))


#: Adam moments below this magnitude are set to zero (CPU only), every
#: ``_MOMENT_FLUSH_STEPS`` optimizer steps: see :func:`zero_tiny_moments`.
_TINY_MOMENT = 1e-30
_MOMENT_FLUSH_STEPS = 100


def zero_tiny_moments(optimizer: torch.optim.Optimizer, threshold: float = _TINY_MOMENT) -> None:
    """Set Adam's first and second moment estimates below ``threshold`` to zero, in place.

    A weight whose gradient has become exactly zero (one feeding a unit that no longer
    fires: on scikit-learn's digits, many of the weights into the papers' 2000-unit layer)
    keeps its first moment decaying by ``beta1`` every step, through the subnormal range of
    float32, where it stays for good (0.9 times the smallest subnormal rounds back to it).
    Arithmetic on subnormals is many times slower on x86 CPUs, and with many such moments
    the Adam step becomes a large share of a fit. A moment under 1e-30 moves
    its weight by under 1e-21 times the learning rate (the step divides it by at least
    Adam's ``eps``, 1e-8 or more in this package, after a bias correction of at most 10),
    below float32's resolution of any weight not already ~0, so zeroing it changes nothing
    but the speed. Called every 100 steps, a first moment that falls under the
    threshold is zeroed before it can decay to 1.2e-38 (that takes 175 steps at 0.9).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Its ``exp_avg`` and ``exp_avg_sq`` state tensors are edited; other state is left
        alone.
    threshold : float, default=1e-30
    """
    for state in optimizer.state.values():
        for key in ("exp_avg", "exp_avg_sq"):
            moment = state.get(key)
            if isinstance(moment, torch.Tensor) and moment.is_floating_point():
                moment.masked_fill_(moment.abs() < threshold, 0.0)


def make_optimizer(
    params: Iterable[torch.nn.Parameter] | Sequence[dict[str, Any]],
    config: FitConfig,
    device: torch.device,
) -> torch.optim.Optimizer:
    """Build the optimizer named by ``config`` (fused Adam where available)."""
    name = config.optimizer.lower()
    if name in ("adam", "adamw"):
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        kwargs: dict[str, Any] = {
            "lr": config.lr,
            "eps": config.adam_eps,
            "weight_decay": config.weight_decay,
        }
        if device.type in ("cpu", "cuda"):
            kwargs["fused"] = True
        return cls(params, **kwargs)
    if name == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=0.9, weight_decay=config.weight_decay)
    raise ValueError(f"optimizer must be 'adam', 'adamw' or 'sgd', got {config.optimizer!r}.")


class _Progress:
    """What ``verbose`` shows of one phase: nothing, a tqdm bar, or one line per epoch.

    ``verbose=1`` draws a :mod:`tqdm.auto` bar (a widget in notebooks) with the epoch loss
    and the time per epoch as postfix; ``verbose>=2`` writes one line per epoch to
    ``sys.stderr``. The object lives only for the duration of :func:`run_training`, so
    nothing of it ends up on the estimator (which therefore pickles).
    """

    def __init__(self, total: int, phase: str, verbose: int):
        self.phase = phase
        self.total = total
        self.verbose = int(verbose)
        self.bar = None
        if self.verbose == 1:
            from tqdm.auto import tqdm

            # "[phase]" as in the verbose=2 lines; an ASCII bar reads the same in any log
            self.bar = tqdm(total=total, desc=f"[{phase}]", unit="epoch", ascii=True)

    def update(self, epoch: int, loss: float, seconds: float) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"loss {loss:.5g}, {seconds:.2f} s/epoch", refresh=False)
            self.bar.update(1)
        elif self.verbose >= 2:
            print(
                f"[{self.phase}] epoch {epoch + 1:>4}/{self.total}  loss {loss:.5g}  "
                f"{seconds:.2f} s/epoch",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_training(
    module: torch.nn.Module,
    loss_fn: BatchLoss,
    data: torch.Tensor | Sequence[torch.Tensor],
    config: FitConfig,
    *,
    generator: torch.Generator,
    params: Iterable[torch.nn.Parameter] | Sequence[dict[str, Any]] | None = None,
    verbose: int = 0,
    on_epoch_start: Callable[[int], None] | None = None,
    on_epoch_end: EpochEnd | Sequence[EpochEnd] | None = None,
    batch_transform: Callable[[tuple[torch.Tensor, ...]], tuple[torch.Tensor, ...]] | None = None,
    device: torch.device | None = None,
) -> list[dict[str, float]]:
    """Train ``module`` by mini-batch gradient descent on ``loss_fn``.

    Parameters
    ----------
    module : torch.nn.Module
        The module being trained; put in train mode during the loop and eval mode after.
    loss_fn : callable
        ``loss_fn(batch, epoch) -> (loss, terms)`` where ``batch`` is a tuple holding the
        rows of each tensor in ``data`` for the current mini-batch, ``loss`` a scalar tensor
        and ``terms`` a dict of detached scalar tensors recorded in the history.
    data : torch.Tensor or sequence of torch.Tensor
        Tensors with the same first dimension, all on one device: the training device,
        or host memory when they do not fit there (each mini-batch is then gathered on
        the host and moved). uint8 tensors are 8-bit intensities: their batches reach
        ``loss_fn`` as float32 divided by 255 (:func:`~._utils.rows_as_float`).
    config : FitConfig
        Epochs, batch size, optimizer and schedule.
    generator : torch.Generator
        CPU generator used to shuffle the data each epoch.
    params : iterable of parameters or parameter groups, optional
        What to optimise; defaults to ``module.parameters()``. Groups may set their own
        ``lr``; the schedule scales every group relative to its initial rate.
    verbose : int, default=0
        0 silent; 1 a tqdm progress bar per phase (loss and seconds per epoch as
        postfix); 2 or more one line per epoch on ``sys.stderr``.
    on_epoch_start : callable, optional
        Called with the epoch index before the epoch.
    on_epoch_end : callable or sequence of callables, optional
        Called in order with the epoch index and its history record, which they may extend
        (and, like :class:`LabelChangeStopping`, run inference: the module is back in
        training mode at the next epoch). Training stops when any of them returns True.
    batch_transform : callable, optional
        ``batch_transform(batch) -> batch`` applied to every mini-batch before
        ``loss_fn`` (random augmentation: it draws from its own generator).
    device : torch.device, optional
        Where the module trains and the batches go; defaults to the data's device.

    Returns
    -------
    list of dict
        One record per epoch: ``phase``, ``epoch``, ``loss`` (sample-weighted mean over the
        epoch), each term of ``terms``, ``lr`` and ``seconds``.

    Raises
    ------
    TrainingDivergedError
        If the loss of an epoch is NaN or infinite, or a mini-batch loss exceeds
        ``config.max_loss_ratio`` times the phase's first one (see :class:`FitConfig`).
        Both are checked once per epoch, from statistics kept on the device.
    """
    tensors = (data,) if isinstance(data, torch.Tensor) else tuple(data)
    n = int(tensors[0].shape[0])
    home = tensors[0].device  # where the rows are gathered
    device = home if device is None else device
    batch_size = min(int(config.batch_size), n)
    # A trailing batch of one sample breaks BatchNorm and carries little signal: drop it.
    drop_last = config.drop_last or (n % batch_size == 1 and n > batch_size)
    n_batches = max(n // batch_size if drop_last else -(-n // batch_size), 1)
    if params is None:
        params = [p for p in module.parameters() if p.requires_grad]
    if on_epoch_end is None:
        callbacks: list[EpochEnd] = []
    elif callable(on_epoch_end):
        callbacks = [on_epoch_end]
    else:
        callbacks = list(on_epoch_end)
    if config.channels_last:
        module.to(memory_format=torch.channels_last)
    dtype = config.autocast_dtype
    optimizer = make_optimizer(params, config, device)
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    history: list[dict[str, float]] = []
    progress = _Progress(config.n_epochs, config.phase, verbose)
    best = float("inf")
    stall = 0
    # Divergence guard: |loss| of the phase's first batch, and the largest |loss| per epoch.
    first: torch.Tensor | None = None
    reference = None
    step = 0  # optimizer steps taken in this phase (the warm-up, the moment zeroing)

    try:
        for epoch in range(config.first_epoch, config.first_epoch + config.n_epochs):
            module.train()
            t0 = time.perf_counter()
            for group, lr0 in zip(optimizer.param_groups, base_lrs, strict=True):
                group["lr"] = config.lr_at(epoch, lr0)
            if on_epoch_start is not None:
                on_epoch_start(epoch)
            perm = torch.randperm(n, generator=generator).to(home, non_blocking=True)
            loss_sum = torch.zeros((), device=device)
            peak = torch.zeros((), device=device)
            term_sums: dict[str, torch.Tensor] = {}
            seen = 0
            scheduled = [group["lr"] for group in optimizer.param_groups]
            for b in range(n_batches):
                step += 1
                if step <= config.warmup_steps:
                    for group, lr in zip(optimizer.param_groups, scheduled, strict=True):
                        group["lr"] = lr * step / config.warmup_steps
                idx = perm[b * batch_size : (b + 1) * batch_size]
                batch = tuple(rows_as_float(t.index_select(0, idx), device) for t in tensors)
                if batch_transform is not None:
                    batch = batch_transform(batch)
                with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                    loss, terms = loss_fn(batch, epoch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if device.type == "cpu" and step % _MOMENT_FLUSH_STEPS == 0:
                    zero_tiny_moments(optimizer)
                size = idx.shape[0]
                seen += size
                loss_sum += loss.detach() * size
                magnitude = loss.detach().abs().float()
                peak = torch.maximum(peak, magnitude)
                if first is None:
                    first = magnitude
                for key, value in terms.items():
                    term_sums[key] = term_sums.get(key, 0.0) + value.detach() * size
            keys = list(term_sums)
            means = torch.stack([loss_sum, *(term_sums[k] for k in keys)]).div_(seen)
            # One read-back per epoch: the means, the epoch's largest |loss| and the first.
            *values, peak_value, first_value = torch.cat(
                [means, torch.stack([peak, first]).to(means.dtype)]
            ).tolist()
            record: dict[str, Any] = {"phase": config.phase, "epoch": epoch, "loss": values[0]}
            record.update(zip(keys, values[1:], strict=True))
            record["lr"] = optimizer.param_groups[0]["lr"]
            if not all(map(_finite, values)):
                bad = [k for k, v in zip(["loss", *keys], values, strict=True) if not _finite(v)]
                raise TrainingDivergedError(
                    f"Training diverged in phase {config.phase!r} at epoch {epoch}: the "
                    f"{', '.join(bad)} became NaN or infinite. Lower the learning rate "
                    f"(parameter {config.hint!r}, now {config.lr:g}), check the input scaling, "
                    "or change the random_state."
                )
            if reference is None:
                reference = max(first_value, _LOSS_FLOOR)
            ratio = config.max_loss_ratio
            if ratio is not None and peak_value > ratio * reference:
                raise TrainingDivergedError(
                    f"Training diverged in phase {config.phase!r} at epoch {epoch}: a "
                    f"mini-batch loss reached {peak_value:.3g}, more than {ratio:g} times "
                    f"the phase's first one ({first_value:.3g}; losses under {_LOSS_FLOOR:g} "
                    f"count as {_LOSS_FLOOR:g}). Lower the learning rate (parameter "
                    f"{config.hint!r}, now {config.lr:g}), check the input scaling, or change "
                    "the random_state."
                )
            record["seconds"] = time.perf_counter() - t0
            stop = False
            for callback in callbacks:
                stop = bool(callback(epoch, record)) or stop
            history.append(record)
            progress.update(epoch - config.first_epoch, record["loss"], record["seconds"])
            if stop:
                break
            if config.tol is not None:
                if record["loss"] < best - config.tol * abs(best):
                    stall = 0
                else:
                    stall += 1
                best = min(best, record["loss"])
                if stall >= config.n_iter_no_change:
                    break
    finally:
        module.eval()
        progress.close()
    return history


def _finite(value: float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))
