"""The training engine: loss decreases, reproducibility, NaN guard, schedule, verbosity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepcluster_sk._training as training
from deepcluster_sk._training import (
    FitConfig,
    TrainingDivergedError,
    run_training,
    zero_tiny_moments,
)
from deepcluster_sk._utils import make_generator, seeded_torch


def _toy(seed: int = 0):
    rng = np.random.RandomState(seed)
    X = torch.from_numpy(rng.randn(300, 5).astype(np.float32))
    w = torch.from_numpy(rng.randn(5, 1).astype(np.float32))
    y = X @ w + 0.01 * torch.from_numpy(rng.randn(300, 1).astype(np.float32))
    return X, y


def _fit(seed=0, n_epochs=20, **cfg):
    X, y = _toy()
    with seeded_torch(seed):
        model = torch.nn.Linear(5, 1)

    def loss_fn(batch, epoch):
        xb, yb = batch
        loss = torch.nn.functional.mse_loss(model(xb), yb)
        return loss, {"mse": loss.detach()}

    config = FitConfig(n_epochs=n_epochs, batch_size=32, lr=cfg.pop("lr", 0.05), **cfg)
    hist = run_training(model, loss_fn, (X, y), config, generator=make_generator(seed))
    return model, hist


def test_loss_decreases_and_history_records():
    _, hist = _fit()
    assert len(hist) == 20
    assert hist[-1]["loss"] < 0.05 * hist[0]["loss"]
    assert {"phase", "epoch", "loss", "mse", "lr", "seconds"} <= set(hist[0])
    assert hist[0]["mse"] == pytest.approx(hist[0]["loss"])


def test_same_seed_same_result_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.random.get_rng_state().clone()
    m1, h1 = _fit(seed=3)
    m2, h2 = _fit(seed=3)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert torch.equal(m1.weight, m2.weight)
    assert [r["loss"] for r in h1] == [r["loss"] for r in h2]
    m3, _ = _fit(seed=4)
    assert not torch.equal(m1.weight, m3.weight)


def test_nan_loss_raises_clear_error():
    X, _ = _toy()
    model = torch.nn.Linear(5, 1)

    def loss_fn(batch, epoch):
        out = model(batch[0]).sum()
        return out * (float("nan") if epoch == 2 else 1.0), {}

    config = FitConfig(n_epochs=5, batch_size=64, lr=1e-3, hint="lr")
    with pytest.raises(TrainingDivergedError, match=r"epoch 2.*'lr'"):
        run_training(model, loss_fn, X, config, generator=make_generator(0))
    assert issubclass(TrainingDivergedError, ValueError)


def test_step_schedule_and_floor():
    config = FitConfig(
        n_epochs=1, batch_size=1, lr=0.002, lr_decay_step=10, lr_decay_gamma=0.9, lr_min=2e-4
    )
    assert config.lr_at(0) == pytest.approx(0.002)
    assert config.lr_at(9) == pytest.approx(0.002)
    assert config.lr_at(10) == pytest.approx(0.0018)
    assert config.lr_at(1000) == pytest.approx(2e-4)
    _, hist = _fit(n_epochs=12, lr_decay_step=5, lr_decay_gamma=0.5)
    assert [r["lr"] for r in hist][::5] == pytest.approx([0.05, 0.025, 0.0125])
    # The floor never raises a rate the user set below it.
    low = FitConfig(n_epochs=1, batch_size=1, lr=5e-5, lr_decay_step=10, lr_min=2e-4)
    assert low.lr_at(0) == pytest.approx(5e-5)
    assert low.lr_at(50, base_lr=1e-5) == pytest.approx(1e-5)


def test_linear_warmup_ramps_the_rate_per_step(monkeypatch):
    # 300 rows in batches of 100: three steps an epoch; the record holds the last step's rate.
    X, y = _toy()
    model = torch.nn.Linear(5, 1)

    def loss_fn(batch, epoch):
        xb, yb = batch
        return torch.nn.functional.mse_loss(model(xb), yb), {}

    step_lrs = []
    original = torch.optim.Adam.step

    def spy(self, *args, **kwargs):
        step_lrs.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", spy)
    config = FitConfig(n_epochs=3, batch_size=100, lr=0.01, warmup_steps=5)
    hist = run_training(model, loss_fn, (X, y), config, generator=make_generator(0))
    assert step_lrs == pytest.approx([0.002, 0.004, 0.006, 0.008] + [0.01] * 5)
    seen = [r["lr"] for r in hist]
    assert seen == pytest.approx([0.006, 0.01, 0.01])


def test_early_stopping_on_tolerance():
    _, hist = _fit(n_epochs=200, tol=0.5, n_iter_no_change=2)
    assert len(hist) < 200


def _verbose_run(verbose, n_epochs=3):
    X, y = _toy()
    model = torch.nn.Linear(5, 1)

    def loss_fn(batch, epoch):
        return torch.nn.functional.mse_loss(model(batch[0]), batch[1]), {}

    config = FitConfig(n_epochs=n_epochs, batch_size=50, lr=0.01, phase="pretrain")
    return run_training(
        model, loss_fn, (X, y), config, generator=make_generator(0), verbose=verbose
    )


def test_verbose_zero_prints_nothing(capsys):
    _verbose_run(0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_one_draws_one_tqdm_bar_per_phase(capsys):
    hist = _verbose_run(1)
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    # tqdm's layout: "[pretrain]: 100%|####| 3/3 [00:00<00:00, ...epoch/s, loss ..., ... s/epoch]"
    assert "[pretrain]: 100%|##########| 3/3" in err
    assert f"loss {hist[-1]['loss']:.5g}" in err and "s/epoch" in err
    assert err.rstrip("\n").count("\n") == 0  # one bar, redrawn in place, closed once


def test_verbose_two_prints_one_line_per_epoch(capsys):
    hist = _verbose_run(2, n_epochs=4)
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("[pretrain] epoch    1/4")
    assert f"loss {hist[2]['loss']:.5g}" in lines[2] and lines[2].endswith("s/epoch")
    assert "%" not in captured.err  # no bar


def test_bar_is_closed_when_training_diverges(capsys, monkeypatch):
    import tqdm.auto

    bars = []
    original = tqdm.auto.tqdm

    def recording_tqdm(*args, **kwargs):
        bars.append(original(*args, **kwargs))
        return bars[-1]

    monkeypatch.setattr(tqdm.auto, "tqdm", recording_tqdm)
    X, _ = _toy()
    model = torch.nn.Linear(5, 1)

    def loss_fn(batch, epoch):
        return model(batch[0]).sum() * float("nan"), {}

    config = FitConfig(n_epochs=5, batch_size=64, lr=1e-3)
    with pytest.raises(TrainingDivergedError, match="the loss became NaN or infinite"):
        run_training(model, loss_fn, X, config, generator=make_generator(0), verbose=1)
    assert len(bars) == 1 and bars[0].disable  # tqdm marks a closed bar as disabled
    capsys.readouterr()


def test_verbose_fit_of_an_estimator_pickles_without_the_bar(digits, capsys):
    import pickle

    from deepcluster_sk import AEGMM

    X, _ = digits
    est = AEGMM(
        3, hidden_dims=(16,), latent_dim=2, n_epochs=2, batch_size=256, random_state=0, verbose=1
    ).fit(X[:300])
    err = capsys.readouterr().err
    assert "[train]: 100%" in err and "2/2" in err
    assert not any("tqdm" in type(v).__module__ for v in vars(est).values())
    clone = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(clone.predict(X[:50]), est.predict(X[:50]))


def test_trailing_singleton_batch_is_dropped():
    """n % batch_size == 1 would give BatchNorm a batch of one: the engine drops it."""
    X = torch.randn(65, 4)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))

    def loss_fn(batch, epoch):
        return model(batch[0]).square().mean(), {}

    config = FitConfig(n_epochs=2, batch_size=32, lr=1e-3)
    hist = run_training(model, loss_fn, X, config, generator=make_generator(0))
    assert len(hist) == 2


def test_unknown_optimizer():
    X, _ = _toy()
    model = torch.nn.Linear(5, 1)
    config = FitConfig(n_epochs=1, batch_size=10, lr=1e-3, optimizer="rmsprop")
    with pytest.raises(ValueError, match="optimizer"):
        run_training(
            model, lambda b, e: (model(b[0]).sum(), {}), X, config, generator=make_generator(0)
        )


def _subnormal(t: torch.Tensor) -> int:
    tiny = torch.finfo(t.dtype).tiny
    return int(((t != 0) & (t.abs() < tiny)).sum())


def test_zero_tiny_moments_zeroes_only_small_adam_moments():
    w = torch.nn.Parameter(torch.zeros(4))
    opt = torch.optim.Adam([w])
    opt.state[w] = {
        "step": torch.tensor(3.0),
        "exp_avg": torch.tensor([1e-31, -1e-31, 1e-29, 0.5]),
        "exp_avg_sq": torch.tensor([1e-40, 1e-20, 2e-30, 1e-31]),
    }
    zero_tiny_moments(opt)
    state = opt.state[w]
    assert state["exp_avg"].tolist() == pytest.approx([0.0, 0.0, 1e-29, 0.5], rel=1e-6)
    assert state["exp_avg_sq"].tolist() == pytest.approx([0.0, 1e-20, 2e-30, 0.0], rel=1e-6)
    assert state["step"].item() == 3.0


def _fit_with_a_dead_weight(monkeypatch, flush_steps):
    """Train a linear model plus a weight whose gradient is exactly zero after epoch 0."""
    monkeypatch.setattr(training, "_MOMENT_FLUSH_STEPS", flush_steps)
    X, y = _toy()
    with seeded_torch(0):
        model = torch.nn.Linear(5, 1)
    dead = torch.nn.Parameter(torch.ones(3))
    seen = []
    original = torch.optim.Adam.step

    def spy(self, *args, **kwargs):
        seen.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", spy)

    def loss_fn(batch, epoch):
        xb, yb = batch
        # In the graph, but times 0 after the first epoch: a gradient of exactly zero.
        extra = (dead**2).sum() * float(epoch == 0)
        return torch.nn.functional.mse_loss(model(xb), yb) + extra, {}

    # 300 rows in batches of 32: 10 steps an epoch, 1,200 in all; the dead weight's first
    # moment decays by 0.9 a step and reaches the subnormal range after about 850.
    config = FitConfig(n_epochs=120, batch_size=32, lr=0.01)
    params = [*model.parameters(), dead]
    run_training(model, loss_fn, (X, y), config, generator=make_generator(0), params=params)
    return model, dead, seen[-1].state[dead]


def test_engine_keeps_adam_moments_out_of_the_subnormal_range(monkeypatch):
    # Without the periodic zeroing the dead weight's first moment gets stuck in the
    # subnormal range (0.9 times the smallest subnormal rounds back to it) ...
    model_off, dead_off, state_off = _fit_with_a_dead_weight(monkeypatch, 10**9)
    assert _subnormal(state_off["exp_avg"]) == 3
    # ... with it (the engine's default, every 100 steps on the CPU) it is zero ...
    model_on, dead_on, state_on = _fit_with_a_dead_weight(monkeypatch, 100)
    assert _subnormal(state_on["exp_avg"]) == 0
    assert _subnormal(state_on["exp_avg_sq"]) == 0
    assert torch.equal(state_on["exp_avg"], torch.zeros(3))
    # ... and the weights come out bit for bit the same.
    assert torch.equal(model_on.weight, model_off.weight)
    assert torch.equal(model_on.bias, model_off.bias)
    assert torch.equal(dead_on, dead_off)


def test_batch_transform_and_autocast_are_the_engines():
    """The engine applies the batch transform before the loss and runs the loss under
    autocast in ``autocast_dtype``; ``full_precision`` marks float32 regions inside it."""
    from deepcluster_sk._training import full_precision

    X = torch.arange(12, dtype=torch.float32).reshape(6, 2)
    module = torch.nn.Linear(2, 2)
    seen = []

    def loss_fn(batch, epoch):
        (xb,) = batch
        low = module(xb)
        with full_precision(xb):
            high = module(xb)
        seen.append((float(xb.min()), low.dtype, high.dtype))
        return low.float().pow(2).mean() + high.pow(2).mean(), {}

    def shift(batch):
        return (batch[0] + 100.0,)

    config = FitConfig(n_epochs=1, batch_size=6, lr=1e-3, autocast_dtype=torch.bfloat16)
    run_training(module, loss_fn, X, config, generator=make_generator(0), batch_transform=shift)
    assert seen == [(100.0, torch.bfloat16, torch.float32)]
    seen.clear()
    run_training(module, loss_fn, X, FitConfig(1, 6, 1e-3), generator=make_generator(0))
    assert seen == [(0.0, torch.float32, torch.float32)]


def test_label_change_stopping():
    """Labels are checked every ``interval`` epochs from ``start``; training stops at the
    first check that finds fewer than ``tol`` changed, which the record shows."""
    from deepcluster_sk._training import LabelChangeStopping

    sequence = iter([np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), np.array([0, 1, 1, 1])])
    calls = []

    def labels():
        calls.append(1)
        return next(sequence)

    stop = LabelChangeStopping(labels, tol=0.1, interval=2, start=3)
    results = [stop(epoch, record := {}) or record for epoch in range(8)]
    # Epochs 0-1 precede the start; epoch 2 takes the first labels, epoch 4 sees a quarter
    # changed, epoch 6 none: it stops there.
    assert len(calls) == 3
    assert results[4] == {"label_change": 0.25}
    assert results[6] is True
    assert not LabelChangeStopping(labels, tol=0.0)(0, {})

    module = torch.nn.Linear(1, 1)
    n_epochs = []

    def loss_fn(batch, epoch):
        n_epochs.append(epoch)
        return module(batch[0]).pow(2).mean(), {}

    constant = LabelChangeStopping(lambda: np.zeros(3), tol=0.01, interval=1)
    records = run_training(
        module,
        loss_fn,
        torch.ones(3, 1),
        FitConfig(20, 3, 1e-3),
        generator=make_generator(0),
        on_epoch_end=[constant],
    )
    assert len(records) == 2 and records[-1]["label_change"] == 0.0


# -------------------------------------------------- the divergence guard, the data device
def _train_on(losses, **config):
    """Run the engine on a loss that follows ``losses`` batch by batch (one batch/epoch)."""
    weight = torch.nn.Parameter(torch.ones(()))
    module = torch.nn.Module()
    module.weight = weight
    values = iter(losses)

    def loss_fn(batch, epoch):
        return weight * 0.0 + next(values), {}

    settings = {"n_epochs": len(losses), "batch_size": 4, "lr": 1e-3, "hint": "my_lr", **config}
    return run_training(
        module, loss_fn, torch.zeros(4, 1), FitConfig(**settings), generator=make_generator(0)
    )


def test_guard_is_relative_to_the_phase_start_with_a_floor():
    # A loss that starts large (unscaled data) and falls is fine.
    assert len(_train_on([1e9, 1e8, 1e7])) == 3
    # A loss that starts near zero may grow below the floor times the ratio.
    assert len(_train_on([1e-6, 1e-3, 10.0, 500.0])) == 4
    # A thousandfold explosion over the start raises, naming the hint and the epoch.
    with pytest.raises(TrainingDivergedError, match=r"epoch 2: .*'my_lr'"):
        _train_on([2.0, 30.0, 2.1e3])
    with pytest.raises(TrainingDivergedError, match="epoch 1"):
        _train_on([-5.0, -1e5])  # the magnitude counts: a loss falling to -1e5 diverged too
    # The check can be switched off; NaN still raises.
    assert len(_train_on([1.0, 1e9], max_loss_ratio=None)) == 2
    with pytest.raises(TrainingDivergedError, match="NaN or infinite"):
        _train_on([1.0, float("nan")], max_loss_ratio=None)


def test_training_moves_host_batches_to_the_training_device():
    """``device`` separates where rows are gathered from where the module trains."""
    X = torch.as_tensor(np.random.RandomState(0).randint(0, 256, (64, 4)).astype(np.uint8))
    module = torch.nn.Linear(4, 1)
    seen = []

    def loss_fn(batch, epoch):
        (xb,) = batch
        seen.append((xb.dtype, xb.device, float(xb.max())))
        return module(xb).pow(2).mean(), {}

    config = FitConfig(n_epochs=1, batch_size=16, lr=1e-3)
    run_training(
        module, loss_fn, X, config, generator=make_generator(0), device=torch.device("cpu")
    )
    assert len(seen) == 4
    assert all(
        dtype == torch.float32 and device.type == "cpu" and top <= 1.0
        for dtype, device, top in seen
    )
