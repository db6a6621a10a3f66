"""The training loop every table uses (Sec. 5), in the shape of torchvision's video reference:
`train_one_epoch`, `evaluate`, and `fit`, which checkpoints every epoch and resumes from the last one.

SGD with Nesterov momentum, a per-iteration cosine schedule, mixed precision on GPU. Everything random
is drawn from (seed, epoch, item), so a run killed mid-way and resumed from its checkpoint ends, on a
CPU, with the same metrics as one that was never stopped. With several GPUs under torchrun it wraps
the model in DistributedDataParallel and shards each epoch with a DistributedSampler; the configured
batch size stays the global batch (each of N processes takes batch_size / N), so the batch, the
learning rate and the steps per epoch are the same on one GPU or eight.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import pickle
from pathlib import Path
from typing import Callable

import torch
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler
from tqdm import tqdm

from noisyactions.atomic import atomic_write_bytes, atomic_write_text, remove_orphaned_temp_files
from noisyactions.evaluation import top1_accuracy, video_prediction
from noisyactions.training.step import backward_and_step
from noisyactions.video.dataset import collate_clips

log = logging.getLogger(__name__)


class CheckpointError(RuntimeError):
    pass


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


def train_one_epoch(model, criterion: Callable, optimizer, scheduler, loader, device, scaler, epoch: int) -> dict:
    model.train()
    total, batches, seen, failed = 0.0, 0, 0, 0
    parts: dict[str, torch.Tensor] = {}  # a criterion's terms (PCL's), summed on the device: no sync per step
    for batch in tqdm(loader, desc=f"epoch {epoch}", unit="batch", leave=False):
        failed += len(batch["failures"])
        if not _every_process_has_clips("clip" in batch, device):
            continue
        seen += len(batch["target"])
        clips, targets = batch["clip"].to(device, non_blocking=True), batch["target"].to(device, non_blocking=True)
        with torch.autocast(device.type, enabled=scaler is not None):
            logits = model(clips)
        loss = criterion(logits, targets, batch["index"])
        backward_and_step(loss, optimizer, scaler)
        scheduler.step()
        total += loss.item()
        batches += 1
        for name, value in getattr(criterion, "parts", {}).items():
            parts[name] = parts.get(name, 0) + value
    if distributed():  # this process's loss, every process's clips and failures
        counts = torch.tensor([seen, failed], device=device)
        torch.distributed.all_reduce(counts)
        seen, failed = (int(n) for n in counts.tolist())
    return {"loss": total / max(batches, 1), **{name: float(value) / batches for name, value in parts.items()},
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
def evaluate(model, dataset, device, batch_clips: int = 64) -> dict:
    """Top-1 video accuracy over every video of `dataset`: each video's clips are averaged; a video that
    comes back as a failure counts as wrong. Clips of several videos go through the model together
    (about `batch_clips` at a time): a video's few windows alone make batches too small to keep a
    CPU or GPU busy."""
    model.eval()
    predictions, targets, failed = [], [], 0
    pending: list[torch.Tensor] = []

    def run_pending() -> None:
        with torch.autocast(device.type, enabled=device.type == "cuda"):
            logits = model(torch.cat(pending).to(device))
        predictions.extend(video_prediction(part).cpu() for part in logits.split([len(clips) for clips in pending]))
        pending.clear()

    for item in range(len(dataset)):
        sample = dataset[item]
        if "failure" in sample:
            failed += 1
            continue
        pending.append(sample["clip"])
        targets.append(int(sample["target"]))
        if sum(len(clips) for clips in pending) >= batch_clips:
            run_pending()
    if pending:
        run_pending()
    return {"top1": top1_accuracy(predictions, targets, failed), "videos": len(dataset), "failed_videos": failed}


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

    Writes checkpoint.pt and metrics.csv every epoch, and best.pt (best validation top-1, or the last
    epoch without validation) when the run ends. Until then the best epoch's weights are in
    best_so_far.pt: Snakemake deletes a job's declared outputs (best.pt) before it runs it again, so
    a resumed run whose best epoch came before the interruption still has them. A criterion that is a
    Module (PCL's, with its memory bank) moves to the device and its state is checkpointed beside the model's. best.pt holds the model's architecture, so
    whoever loads the weights builds the same model. Returns the summary: best epoch and its metrics."""
    out_dir = Path(out_dir)
    batch = batch_per_process(train["batch_size"], processes())
    out_dir.mkdir(parents=True, exist_ok=True)
    device = device_for_run()
    torch.manual_seed(train["seed"])
    model.to(device)
    stateful_criterion = isinstance(criterion, torch.nn.Module)
    if stateful_criterion:
        criterion.to(device)
    if distributed():
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    main_process = int(os.environ.get("RANK", 0)) == 0
    optimizer = torch.optim.SGD(model.parameters(), lr=train["lr"], momentum=0.9, nesterov=True, weight_decay=train["weight_decay"])
    # each process gets len // N samples (the sampler drops the rest), hence len // batch_size steps
    steps_per_epoch = max(1, len(train_set) // train["batch_size"])
    total_steps = steps_per_epoch * train["epochs"]
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps)))
    scaler = torch.amp.GradScaler("cuda") if device.type == "cuda" and train["amp"] else None
    history, start, best = [], 0, {"epoch": -1, "top1": -1.0}
    checkpoint_path, best_so_far = out_dir / "checkpoint.pt", out_dir / "best_so_far.pt"
    if main_process:  # a run killed mid-write (cancelled, requeued) leaves its temporary file behind
        remove_orphaned_temp_files([checkpoint_path, best_so_far, out_dir / "best.pt", out_dir / "metrics.csv"])
    bare = model.module if distributed() else model
    # what makes a checkpoint this run's (the loader's worker count changes no result)
    setup = {"architecture": bare.architecture, "train": {k: v for k, v in train.items() if k != "workers"}, "videos": len(train_set)}
    state = _resumable_state(checkpoint_path, best_so_far, setup)
    if state is not None:
        try:
            (model.module if distributed() else model).load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            if scaler is not None and state.get("scaler"):
                scaler.load_state_dict(state["scaler"])
            if stateful_criterion:
                criterion.load_state_dict(state["criterion"])
        except (RuntimeError, KeyError, EOFError, ValueError, pickle.UnpicklingError) as error:
            raise CheckpointError(f"{checkpoint_path} cannot be resumed from ({type(error).__name__}: {error}); delete it to start over") from None
        history, start, best = state["history"], state["epoch"] + 1, state["best"]
        log.info("resuming from %s at epoch %d", checkpoint_path, start)
    for epoch in range(start, train["epochs"]):
        if on_epoch_start is not None:
            on_epoch_start(epoch)
        train_set.set_epoch(epoch)
        generator = torch.Generator().manual_seed(train["seed"] * 1000 + epoch)
        sampler = (DistributedSampler(train_set, seed=train["seed"] + epoch, drop_last=True) if distributed()
                   else RandomSampler(train_set, generator=generator))
        loader = DataLoader(train_set, batch_size=batch, sampler=sampler, num_workers=train["workers"],
                            collate_fn=collate_clips, pin_memory=device.type == "cuda",
                            # a last batch of one breaks BatchNorm on a 1x1x1 feature map
                            drop_last=len(sampler) >= batch)
        metrics = {"epoch": epoch, **train_one_epoch(model, criterion, optimizer, scheduler, loader, device, scaler, epoch),
                   "batch_per_process": batch, "lr": scheduler.get_last_lr()[0]}
        if val_set is not None:
            metrics.update({f"val_{k}": v for k, v in evaluate(model.module if distributed() else model, val_set, device).items()})
        history.append(metrics)
        score = metrics.get("val_top1", epoch)
        if main_process:
            if score >= best["top1"]:
                best = {"epoch": epoch, "top1": score}
                _save(best_so_far, {"model": bare.state_dict(), "architecture": bare.architecture, "epoch": epoch, "metrics": metrics})
            _save(checkpoint_path, {"model": bare.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                                    "scaler": scaler.state_dict() if scaler else None, "epoch": epoch, "history": history, "best": best,
                                    "criterion": criterion.state_dict() if stateful_criterion else None, "setup": setup})
            _write_metrics(out_dir / "metrics.csv", history)
        log.info("epoch %d: %s", epoch, metrics)
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

