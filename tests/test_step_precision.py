"""How a device runs the training step (training/step.py): bf16 autocast must learn what fp32 learns,
and the GPU-only settings must leave a CPU run alone. The GPU figures are benchmarks' business; this is
the code path, on a CPU, where autocast to bf16 runs too."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from noisyactions.training.models import VideoResNet18
from noisyactions.training.step import StepPrecision, compiled, load_sgd_state, model_input, move_to_device, sgd, step_precision
from noisyactions.training.trainer import evaluate, train_one_epoch
from noisyactions.video.transforms import normalise
from conftest import GPU_DEFAULTS

CLASSES, CLIPS, BATCH, EPOCHS, SEEDS = 4, 32, 8, 6, 4


def _batches(seed: int) -> list[dict]:
    """uint8 clips whose class is a brightness gradient's direction (plus noise), as the loader hands them over."""
    rng = np.random.default_rng(seed)
    targets = np.arange(CLIPS) % CLASSES
    ramp = np.linspace(0, 1, 16)
    patterns = [ramp[None, :], ramp[:, None], ramp[::-1][None, :], ramp[::-1][:, None]]
    clips = np.stack([np.broadcast_to(160 * patterns[t], (16, 16)) for t in targets])[:, None, None]  # (N, 1, 1, H, W)
    clips = np.clip(clips + rng.normal(0, 25, size=(CLIPS, 3, 4, 16, 16)), 0, 255).astype(np.uint8)
    order = rng.permutation(CLIPS)
    return [{"clip": torch.from_numpy(clips[part]), "target": torch.from_numpy(targets[part]), "index": torch.from_numpy(part), "failures": []}
            for part in np.split(order, CLIPS // BATCH)]


def _loss_curve(precision: StepPrecision, seed: int) -> list[float]:
    """Each epoch's mean loss of a small model learning _batches(seed) from its seed's initial weights."""
    torch.manual_seed(seed)
    model = VideoResNet18("r3d", CLASSES, 0.125)
    optimizer = sgd(model, 0.01, 0.0, torch.device("cpu"), GPU_DEFAULTS)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    criterion = lambda logits, target, _: F.cross_entropy(logits.float(), target)  # noqa: E731 (the trainer's fine-tuning loss)
    batches = _batches(seed)
    return [train_one_epoch(model, criterion, optimizer, scheduler, batches, torch.device("cpu"), precision, precision.scaler(), epoch)["loss"]
            for epoch in range(EPOCHS)]


def test_a_bf16_loss_curve_matches_fp32_within_seed_noise():
    """Over seeds, the area under bf16's loss curve differs from fp32's (same seed: same data and initial
    weights) by less than two standard deviations of fp32's own seed-to-seed spread (measured here:
    about one), and both learn the task. (Seed by seed the
    curves part after a few steps, as two fp32 runs on different machines do: that is why it is a
    comparison over seeds; a broken mixed-precision step, say one that never updates or one whose
    gradients are scaled and not unscaled, is many spreads off.)"""
    fp32, bf16 = StepPrecision(None, "cpu"), StepPrecision(torch.bfloat16, "cpu")
    reference, half = ([_loss_curve(precision, seed) for seed in range(SEEDS)] for precision in (fp32, bf16))
    assert all(curve[-1] < 0.1 * curve[0] for curve in reference + half), (reference, half)
    area = lambda curves: np.array([sum(curve) for curve in curves])  # noqa: E731
    gap, spread = float(np.mean(area(half) - area(reference))), float(np.std(area(reference), ddof=1))
    assert abs(gap) < 2 * spread, f"bf16 - fp32 area under the loss curve: {gap:.3f} on average; fp32's spread over seeds: {spread:.3f}"
    assert half != reference  # bf16 really ran: rounding shows in the curves


def test_autocast_runs_the_convolutions_in_the_precision_asked_for():
    model = VideoResNet18("r3d", CLASSES, 0.125)
    seen = []
    model.stem[0].register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    clips = torch.rand(2, 3, 4, 16, 16)
    for precision, dtype in ((StepPrecision(torch.bfloat16, "cpu"), torch.bfloat16), (StepPrecision(None, "cpu"), torch.float32)):
        with precision.autocast():
            model(clips)
        assert seen.pop() == dtype


def test_fp16_gets_a_loss_scaler_and_bf16_none():
    assert StepPrecision(torch.float16, "cuda").scaler() is not None
    assert StepPrecision(torch.bfloat16, "cuda").scaler() is None and StepPrecision(None, "cuda").scaler() is None


def test_a_cpu_trains_in_fp32_and_ignores_the_gpu_settings():
    cpu = torch.device("cpu")
    assert step_precision("bf16", cpu) == StepPrecision(None, "cpu")
    assert step_precision("fp16", torch.device("cuda")).dtype == torch.float16
    with pytest.raises(ValueError, match="training.precision 'half'"):
        step_precision("half", cpu)
    everything_on = {"channels_last_3d": True, "cudnn_benchmark": True, "fused_sgd": True, "compile": True}
    model = VideoResNet18("r3d", CLASSES, 0.125)
    assert move_to_device(model, cpu, everything_on) is False  # no channels-last input either
    assert compiled(model, cpu, everything_on) is model
    assert model.stem[0].weight.is_contiguous()  # not channels-last
    assert not sgd(model, 0.1, 0.0, cpu, everything_on).defaults["fused"]


def test_channels_last_input_keeps_values_and_takes_the_layout():
    clips = torch.randint(0, 256, (2, 3, 4, 8, 8), dtype=torch.uint8)
    moved = model_input(clips, channels_last=True)
    assert torch.equal(moved, clips) and moved.is_contiguous(memory_format=torch.channels_last_3d)
    assert normalise(moved).is_contiguous(memory_format=torch.channels_last_3d)  # the float passes keep it
    tuples = torch.rand(2, 3, 3, 4, 8, 8)  # PCL's (batch, tuple, C, T, H, W): its model reshapes it
    assert model_input(tuples, channels_last=True) is tuples


def test_evaluation_runs_under_the_step_precision_and_agrees_with_fp32():
    torch.manual_seed(0)
    model = VideoResNet18("r3d", CLASSES, 0.125)
    seen = []
    model.stem[0].register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    dataset = [{"clip": batch["clip"][:3], "target": batch["target"][0], "index": k} for k, batch in enumerate(_batches(0))]
    reference = evaluate(model, dataset, torch.device("cpu"), StepPrecision(None, "cpu"), batch_clips=5)
    assert set(seen) == {torch.float32}
    seen.clear()
    assert evaluate(model, dataset, torch.device("cpu"), StepPrecision(torch.bfloat16, "cpu"), batch_clips=5) == reference
    assert set(seen) == {torch.bfloat16}


def test_a_resumed_optimiser_steps_as_this_run_sets_it_up():
    """A checkpoint's SGD state carries its run's `fused` flag and momentum layout; a run resumed with
    other training.gpu settings must step its own way (fused here, momentum laid out as the weights)."""
    saved_model = VideoResNet18("r3d", CLASSES, 0.125)
    saved = torch.optim.SGD(saved_model.parameters(), lr=0.1, momentum=0.9, nesterov=True, fused=False)
    F.cross_entropy(saved_model(torch.rand(2, 3, 4, 16, 16)), torch.tensor([0, 1])).backward()
    saved.step()
    model = VideoResNet18("r3d", CLASSES, 0.125).to(memory_format=torch.channels_last_3d)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, fused=True)
    load_sgd_state(optimizer, saved.state_dict())
    assert all(group["fused"] for group in optimizer.param_groups)
    weight = model.stem[0].weight
    buffer = optimizer.state[weight]["momentum_buffer"]
    assert buffer.stride() == weight.stride() and torch.equal(buffer, saved.state[saved_model.stem[0].weight]["momentum_buffer"])
    F.cross_entropy(model(torch.rand(2, 3, 4, 16, 16)), torch.tensor([0, 1])).backward()
    optimizer.step()  # the fused kernel takes it
