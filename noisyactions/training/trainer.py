"""The training loop every table uses (Sec. 5), in the shape of torchvision's video reference:
`train_one_epoch`, `evaluate`, and `fit`, which checkpoints every epoch and resumes from the last one.

SGD with Nesterov momentum, a per-iteration cosine schedule, mixed precision on GPU (step.py: bf16 by
default, channels_last_3d, fused SGD, optionally torch.compile). Clips arrive as uint8 and are
normalised on the training device; one loader serves all epochs (EpochBatches). Everything random
is drawn from (seed, epoch, item), so a run killed mid-way and resumed from its checkpoint ends, on a
CPU, with the same metrics as one that was never stopped. With several GPUs under torchrun it wraps
the model in DistributedDataParallel and shards each epoch with a DistributedSampler; the configured
batch size stays the global batch (each of N processes takes batch_size / N), so the batch, the
learning rate and the steps per epoch are the same on one GPU or eight.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import math
import os
import pickle
from pathlib import Path
from typing import Callable, Iterator

import torch
from torch.utils.data import BatchSampler, DataLoader, DistributedSampler, RandomSampler, Sampler
from tqdm import tqdm

from noisyactions.atomic import atomic_write_bytes, atomic_write_text, remove_orphaned_temp_files
from noisyactions.evaluation import top1_accuracy, video_prediction
from noisyactions.training.evaluation_epochs import evaluation_epochs
from noisyactions.training.step import StepPrecision, backward_and_step, compiled, device_clips, load_sgd_state, move_to_device, sgd, step_precision
from noisyactions.video.dataset import collate_clips

log = logging.getLogger(__name__)


class CheckpointError(RuntimeError):
    pass


VALIDATION_METRICS = ("top1", "videos", "failed_videos")  # what evaluate() returns, as val_<name> columns


def device_for_run() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def processes() -> int:
    """How many processes train together (torchrun's WORLD_SIZE; 1 without torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def distributed() -> bool:
    return processes() > 1


def batch_per_process(batch_size: int, world: int) -> int:
    """training.batch_size is the global batch: each of `world` processes takes an equal part of it."""
    if batch_size % world:
        raise ValueError(f"training.batch_size = {batch_size} is the global batch and does not divide among {world} processes "
                         f"(one per GPU); use a multiple of {world}")
    return batch_size // world


def train_one_epoch(model, criterion: Callable, optimizer, scheduler, loader, device, precision: StepPrecision, scaler, epoch: int,
                    channels_last: bool = False, steps: int | None = None) -> dict:
    """One pass over `loader`, this epoch's batches (`steps` of them, when it cannot tell); `model` is what
    the steps call (compiled, wrapped in DDP or not)."""
    model.train()
    total, batches, seen, failed = torch.zeros((), dtype=torch.float64, device=device), 0, 0, 0
    parts: dict[str, torch.Tensor] = {}  # the loss and a criterion's terms (PCL's) summed on the device: no sync per step
    for batch in tqdm(loader, desc=f"epoch {epoch}", unit="batch", leave=False, total=steps):
        failed += len(batch["failures"])
        if not _every_process_has_clips("clip" in batch, device):
            continue
        seen += len(batch["target"])
        clips, targets = device_clips(batch["clip"], device, channels_last), batch["target"].to(device, non_blocking=True)
        with precision.autocast():
            logits = model(clips)
        loss = criterion(logits, targets, batch["index"])
        backward_and_step(loss, optimizer, scaler)
        scheduler.step()
        total += loss.detach()
        batches += 1
        for name, value in getattr(criterion, "parts", {}).items():
            parts[name] = parts.get(name, 0) + value
    if distributed():  # this process's loss, every process's clips and failures
        counts = torch.tensor([seen, failed], device=device)
        torch.distributed.all_reduce(counts)
        seen, failed = (int(n) for n in counts.tolist())
    return {"loss": float(total) / max(batches, 1), **{name: float(value) / batches for name, value in parts.items()},
            "steps": batches, "clips": seen, "failed_samples": failed}


def _every_process_has_clips(has_clips: bool, device: torch.device) -> bool:
    """Whether every process has a sample to train on this step. A batch whose every file failed must be
    skipped by all processes together: one process leaving out a step would leave the others waiting
    in DDP's gradient all-reduce and the memory bank's gathers."""
    if not distributed():
        return has_clips
    flag = torch.tensor([int(has_clips)], device=device)
    torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MIN)
    return bool(flag.item())


@torch.no_grad()
def evaluate(model, dataset, device, precision: StepPrecision | None = None, workers: int = 0, batch_clips: int = 64,
             channels_last: bool = False) -> dict:
    """Top-1 video accuracy over every video of `dataset`: each video's clips are averaged; a video that
    comes back as a failure counts as wrong. `workers` loader processes read the videos, in order, while
    the model runs; every test clip of every video goes through the model in batches of exactly
    `batch_clips` (the last smaller), windows of several videos together: one video's few windows make
    batches too small to keep a GPU busy, and one batch shape is what cuDNN's autotuner wants. Under the
    training step's autocast, on the model itself (never compiled: evaluation's last batch has a shape of
    its own, which would compile again)."""
    model.eval()
    precision = precision or step_precision("fp32", device)
    loader = DataLoader(dataset, batch_size=1, shuffle=False, num_workers=workers, collate_fn=collate_clips, pin_memory=device.type == "cuda")
    windows, targets, logits, failed = [], [], [], 0
    pending: list[torch.Tensor] = []  # uint8 windows on the device, not yet through the model

    def run(clips: torch.Tensor) -> None:
        with precision.autocast():
            logits.append(model(device_clips(clips, device, channels_last)).float().cpu())

    for batch in loader:
        failed += len(batch["failures"])
        for clips, target in zip(batch.get("clip", []), batch.get("target", [])):
            pending.append(clips.to(device, non_blocking=True))  # from pinned memory, while the model runs
            windows.append(len(clips))
            targets.append(int(target))
        waiting = torch.cat(pending) if pending else None
        while waiting is not None and len(waiting) >= batch_clips:
            run(waiting[:batch_clips])
            waiting = waiting[batch_clips:]
        pending = [waiting] if waiting is not None and len(waiting) else []
    if pending:
        run(torch.cat(pending))
    per_video = torch.cat(logits).split(windows) if logits else []
    predictions = [video_prediction(part) for part in per_video]
    return {"top1": top1_accuracy(predictions, targets, failed), "videos": len(dataset), "failed_videos": failed}


class EpochBatches(Sampler):
    """Every epoch's shuffled batches of `batch` samples for this process, epoch after epoch, as lists of
    (epoch, item) keys (ClipDataset draws a sample from them). One loader over them serves the whole
    run: its workers start once and read the next epoch's first batches while this epoch's last ones
    train, instead of starting again and filling their queues at every epoch, which at GPU rate is a
    noticeable part of a short UCF101 epoch. A batch never spans two epochs."""

    def __init__(self, train_set, batch: int, seed: int, epochs: range):
        self.train_set, self.batch, self.seed, self.epochs = train_set, batch, seed, epochs

    def _sampler(self, epoch: int) -> Sampler:
        if distributed():
            return DistributedSampler(self.train_set, seed=self.seed + epoch, drop_last=True)
        return RandomSampler(self.train_set, generator=torch.Generator().manual_seed(self.seed * 1000 + epoch))

    def epoch_batches(self, epoch: int) -> BatchSampler:
        sampler = self._sampler(epoch)
        return BatchSampler(sampler, self.batch, drop_last=len(sampler) >= self.batch)  # a last batch of one breaks BatchNorm on a 1x1x1 feature map

    def steps(self, epoch: int) -> int:
        return len(self.epoch_batches(epoch))

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        for epoch in self.epochs:
            for items in self.epoch_batches(epoch):
                yield [(epoch, item) for item in items]

    def __len__(self) -> int:
        return sum(self.steps(epoch) for epoch in self.epochs)


def training_loader(train_set, batch: int, workers: int, seed: int, epochs: range, device: torch.device) -> DataLoader:
    """The batches of `epochs` for this process (EpochBatches), read by `workers` processes."""
    return DataLoader(train_set, batch_sampler=EpochBatches(train_set, batch, seed, epochs), num_workers=workers, collate_fn=collate_clips,
                      pin_memory=device.type == "cuda")


def _save(path: Path, state: dict) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _write_metrics(path: Path, history: list[dict]) -> None:
    if not history:
        return
    fields = list(history[0])
    lines = io.StringIO()
    writer = csv.DictWriter(lines, fieldnames=fields)
    writer.writeheader()
    writer.writerows(history)
    atomic_write_text(path, lines.getvalue())


def fit(
    model: torch.nn.Module,
    criterion: Callable,
    train_set,
    out_dir: Path,
    train: dict,
    val_set=None,
    on_epoch_start: Callable[[int], None] | None = None,
) -> dict:
    """Train for train["epochs"], resuming from out_dir/checkpoint.pt when it exists.

    Writes checkpoint.pt and metrics.csv every epoch, and best.pt (best validation top-1 among the
    evaluated epochs, train["evaluate_every"] apart and the last, or the last epoch without validation)
    when the run ends. Until then the best epoch's weights are in
    best_so_far.pt: Snakemake deletes a job's declared outputs (best.pt) before it runs it again, so
    a resumed run whose best epoch came before the interruption still has them. A criterion that is a
    Module (PCL's, with its memory bank) moves to the device and its state is checkpointed beside the model's. best.pt holds the model's architecture, so
    whoever loads the weights builds the same model. Returns the summary: best epoch and its metrics."""
    out_dir = Path(out_dir)
    batch = batch_per_process(train["batch_size"], processes())
    out_dir.mkdir(parents=True, exist_ok=True)
    device = device_for_run()
    torch.manual_seed(train["seed"])
    gpu, precision = train["gpu"], step_precision(train["precision"], device)
    channels_last = move_to_device(model, device, gpu)
    bare = model
    stateful_criterion = isinstance(criterion, torch.nn.Module)
    if stateful_criterion:
        criterion.to(device)
    if distributed():
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    main_process = int(os.environ.get("RANK", 0)) == 0
    stepped = compiled(model, device, gpu)
    optimizer = sgd(bare, train["lr"], train["weight_decay"], device, gpu)
    # each process gets len // N samples (the sampler drops the rest), hence len // batch_size steps
    steps_per_epoch = max(1, len(train_set) // train["batch_size"])
    total_steps = steps_per_epoch * train["epochs"]
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps)))
    scaler = precision.scaler()
    history, start, best = [], 0, {"epoch": -1, "top1": -1.0}
    checkpoint_path, best_so_far = out_dir / "checkpoint.pt", out_dir / "best_so_far.pt"
    if main_process:  # a run killed mid-write (cancelled, requeued) leaves its temporary file behind
        remove_orphaned_temp_files([checkpoint_path, best_so_far, out_dir / "best.pt", out_dir / "metrics.csv"])
    # what makes a checkpoint this run's (the loader's workers and how the GPU runs the step change no result)
    setup = {"architecture": bare.architecture, "train": {k: v for k, v in train.items() if k not in ("workers", "gpu")}, "videos": len(train_set)}
    state = _resumable_state(checkpoint_path, best_so_far, setup)
    if state is not None:
        try:
            bare.load_state_dict(state["model"])
            load_sgd_state(optimizer, state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            if scaler is not None and state.get("scaler"):
                scaler.load_state_dict(state["scaler"])
            if stateful_criterion:
                criterion.load_state_dict(state["criterion"])
        except (RuntimeError, KeyError, EOFError, ValueError, pickle.UnpicklingError) as error:
            raise CheckpointError(f"{checkpoint_path} cannot be resumed from ({type(error).__name__}: {error}); delete it to start over") from None
        history, start, best = state["history"], state["epoch"] + 1, state["best"]
        log.info("resuming from %s at epoch %d", checkpoint_path, start)
    evaluated = set(evaluation_epochs(train["epochs"], train.get("evaluate_every", 1))) if val_set is not None else set()
    loader = training_loader(train_set, batch, train["workers"], train["seed"], range(start, train["epochs"]), device)
    batches = iter(loader)
    for epoch in range(start, train["epochs"]):
        if on_epoch_start is not None:
            on_epoch_start(epoch)
        steps = loader.batch_sampler.steps(epoch)
        metrics = {"epoch": epoch, **train_one_epoch(stepped, criterion, optimizer, scheduler, itertools.islice(batches, steps), device, precision, scaler,
                                                     epoch, channels_last, steps),
                   "batch_per_process": batch, "lr": scheduler.get_last_lr()[0]}
        if val_set is not None:  # an epoch not evaluated has empty val_ columns
            tested = evaluate(bare, val_set, device, precision, train["workers"], train["batch_size"], channels_last) if epoch in evaluated else {}
            metrics.update({f"val_{k}": tested.get(k) for k in VALIDATION_METRICS})
        history.append(metrics)
        score = metrics.get("val_top1", epoch)
        if main_process:
            if score is not None and score >= best["top1"]:
                best = {"epoch": epoch, "top1": score}
                _save(best_so_far, {"model": bare.state_dict(), "architecture": bare.architecture, "epoch": epoch, "metrics": metrics})
            _save(checkpoint_path, {"model": bare.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                                    "scaler": scaler.state_dict() if scaler else None, "epoch": epoch, "history": history, "best": best,
                                    "criterion": criterion.state_dict() if stateful_criterion else None, "setup": setup})
            _write_metrics(out_dir / "metrics.csv", history)
        log.info("epoch %d: %s", epoch, metrics)
    del batches  # its workers stop here, not whenever the iterator is collected
    if main_process:
        if start == train["epochs"]:  # killed after its last checkpoint: the epochs above wrote no metrics.csv
            _write_metrics(out_dir / "metrics.csv", history)
        if best_so_far.exists():
            os.replace(best_so_far, out_dir / "best.pt")
    best_metrics = history[best["epoch"]] if history and best["epoch"] >= 0 else {}
    return {"best_epoch": best["epoch"], **best_metrics}


def _resumable_state(checkpoint_path: Path, best_so_far: Path, setup: dict) -> dict | None:
    """The checkpoint left in the output folder when it is this run's, stopped before its last epoch.
    Snakemake keeps it across reruns (it is not a declared output), and reruns a job when its settings
    or inputs changed: a checkpoint of other settings, another number of videos or a finished run is
    then the wrong start, and the run starts over (and says so). So does one whose best epoch's weights
    are gone, which would end without a best.pt."""
    if not checkpoint_path.exists():
        return None
    try:
        saved = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
        saved_setup, epoch = saved.get("setup"), saved["epoch"]
    except (RuntimeError, KeyError, EOFError, ValueError, AttributeError, pickle.UnpicklingError) as error:
        raise CheckpointError(f"{checkpoint_path} cannot be resumed from ({type(error).__name__}: {error}); delete it to start over") from None
    if saved_setup != setup:
        differs = sorted(key for key in setup if (saved_setup or {}).get(key) != setup[key])
        log.warning("%s was written with other settings (%s differ): starting over", checkpoint_path, ", ".join(differs))
        return None
    if epoch + 1 >= setup["train"]["epochs"]:
        if best_so_far.exists():  # killed after its last checkpoint, before best.pt: only that is left to do
            return saved
        log.warning("%s is a finished run: starting over", checkpoint_path)
        return None
    if saved["best"]["epoch"] >= 0 and not best_so_far.exists():
        log.warning("%s is missing, so the best epoch's weights are lost: starting over", best_so_far)
        return None
    return saved


def read_checkpoint(checkpoint: Path) -> dict:
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        state["model"]
    except (OSError, RuntimeError, KeyError, TypeError, EOFError, pickle.UnpicklingError) as error:
        raise CheckpointError(f"{checkpoint}: not a readable checkpoint ({type(error).__name__}: {error})") from None
    return state


def checkpoint_architecture(saved: dict) -> dict:
    """The architecture (kind, width, residual) a checkpoint's weights were trained in; weights saved
    without one (by other code) count as a model on frames."""
    return saved.get("architecture") or {"residual": False}


def load_backbone(model: torch.nn.Module, checkpoint: Path, saved: dict | None = None) -> int:
    """Load a pretrained model's weights (`saved`, or read from `checkpoint`) into `model` except its
    heads (`fc.*`, PCL's `head.*`); fail loudly when not every backbone tensor loads (a silent zero-match
    load is the classic fine-tuning bug) or when the weights were learnt on another input (residual
    clips or frames)."""
    saved = saved if saved is not None else read_checkpoint(checkpoint)
    state, trained_on = saved["model"], checkpoint_architecture(saved)["residual"]
    if trained_on != model.architecture["residual"]:
        kind = {True: "residual clips", False: "frames"}
        raise CheckpointError(f"{checkpoint}: trained on {kind[trained_on]}, but the model takes {kind[model.architecture['residual']]}")
    own = {k: v for k, v in model.state_dict().items() if not k.startswith("fc.")}
    matched = {k: v for k, v in state.items() if k in own and v.shape == own[k].shape}
    if len(matched) != len(own):
        missing = sorted(set(own) - set(matched))
        raise CheckpointError(f"{checkpoint}: {len(matched)} of {len(own)} backbone tensors load into the model (first missing: {missing[:3]}); "
                              "were both trained with the same model and width?")
    model.load_state_dict(matched, strict=False)
    return len(matched)

