"""The training jobs behind Tables 3-5: supervised pretraining with each loss of Sec. 4.1, PCL
self-supervised pretraining (Sec. 4.2), and fine-tuning on UCF101 or HMDB51. One trainer (trainer.fit),
one dataset class and one model family serve them all; what differs is the config."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import torch
import torch.nn.functional as F

from noisyactions.atomic import atomic_write_text
from noisyactions.robustness.relabel import relabel_training_videos
from noisyactions.training import losses
from noisyactions.training.geometry import clip_geometry
from noisyactions.training.models import VideoResNet18
from noisyactions.training.pcl import PCLLoss, PCLModel
from noisyactions.training.pcl_data import PretextTupleDataset
from noisyactions.training.trainer import checkpoint_architecture, fit, load_backbone, read_checkpoint
from noisyactions.training.usable import log_skipped, usable_rows, usable_training_videos
from noisyactions.video.dataset import ClipDataset
from noisyactions.video.indexes import noisyactions_index

log = logging.getLogger(__name__)
CACHE_COLUMNS = ("path", "cached", "frames", "status", "error", "timing")  # what a cache index adds to a split's index


def _split_videos(table: Path, split_list: Path, class_index: Path, cache_index: Path, use_partial: bool) -> tuple[pd.DataFrame, int]:
    """(the usable videos of a NoisyActions split, read through its cache; the number of classes)."""
    frame = pq.read_table(table, columns=["photo_id", "video_path"]).to_pandas()
    index = noisyactions_index(frame, split_list, class_index)
    return _cached(index.videos, cache_index, use_partial), len(index.classes)


def _cached(index: pd.DataFrame, cache_index: Path, use_partial: bool) -> pd.DataFrame:
    """Point an index at the cache (the cache index lists source path -> cached file, frames, status)
    and keep the videos training can read (see usable.py)."""
    columns = [c for c in CACHE_COLUMNS if c in pq.read_schema(cache_index).names]  # `timing` is new: older caches lack it
    cache = pd.read_parquet(cache_index, columns=columns)
    merged = index.merge(cache, on="path", how="left")
    missing = merged["cached"].isna() & merged["status"].isna()
    if missing.any():
        raise FileNotFoundError(f"{cache_index} has no entry for {merged.loc[missing, 'path'].iloc[0]} ({int(missing.sum())} missing)")
    return usable_training_videos(merged, use_partial, f"{cache_index}: pretraining")


class PretrainCriterion:
    """One of the five losses; the single-label ones re-draw each video's label every epoch."""

    def __init__(self, name: str, labels: list[list[int]], classes: int, config: dict, seed: int):
        self.name, self.labels, self.classes, self.seed = name, labels, classes, seed
        empty = next((video for video, row in enumerate(labels) if not row), None)
        if empty is not None:
            raise ValueError(f"video {empty} of the pretraining split has no label")
        counts = losses.label_counts(labels, classes)
        self.label_order = config["cce_mask"]["label_order"]
        self.thresholds = losses.cce_mask_thresholds(counts, len(labels), config["cce_mask"]["threshold"])
        db = config["balanced_focal"]
        self.balanced = losses.DistributionBalancedFocal(counts, len(labels), db["alpha"], db["beta"], db["mu"], db["lambda"], db["kappa"], db["gamma"])
        self.single = self.partial = None

    def start_epoch(self, epoch: int) -> None:
        rng = np.random.default_rng([self.seed, epoch, 7])
        if self.name == "cce":
            self.single = torch.as_tensor(losses.random_single_labels(self.labels, rng))
        elif self.name == "cce_mask":
            single, partial = losses.cce_mask_assignment(self.labels, self.thresholds, rng, self.label_order)
            self.single = torch.as_tensor(single)
            self.partial = torch.zeros(len(self.labels), self.classes, dtype=torch.bool)
            for video, row in enumerate(partial):
                self.partial[video, row] = True

    def __call__(self, logits: torch.Tensor, multi_hot: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        if self.name == "cce":
            return losses.cce_loss(logits, self.single[index].to(logits.device))
        if self.name == "cce_mask":
            return losses.cce_mask_loss(logits, self.single[index].to(logits.device), self.partial[index].to(logits.device))
        if self.name == "bce":
            return losses.bce_loss(logits, multi_hot)
        if self.name == "focal":
            return losses.focal_loss(logits, multi_hot)
        return self.balanced.to(logits.device)(logits, multi_hot)


def _model(kind: str, classes: int, width: float, initial: Path | None, seed: int, residual_input: bool = False) -> tuple[VideoResNet18, int]:
    """(a classifier, the number of backbone tensors loaded): from scratch (on frame differences with
    `residual_input`), or with `initial`'s backbone (all of it, or an error), taking the input those
    weights were learnt on (residual clips or frames). The initial weights come from `seed`, so reruns
    and resumes start alike."""
    torch.manual_seed(seed)
    if initial is None:
        return VideoResNet18(kind, classes, width, residual=residual_input), 0
    if residual_input:
        raise ValueError(f"residual_input is for models from scratch; {initial} brings its own input")
    saved = read_checkpoint(initial)
    model = VideoResNet18(kind, classes, width, residual=checkpoint_architecture(saved)["residual"])
    return model, load_backbone(model, initial, saved)


def pretrain(loss: str, model: str, table: Path, split_list: Path, class_index: Path, cache_index: Path, video: dict, training: dict,
             out_dir: Path, initial: Path | None = None) -> dict:
    """Multi- or single-label pretraining on a NoisyActions split, from scratch or from `initial` (SSL)."""
    videos, classes = _split_videos(table, split_list, class_index, cache_index, video["cache"]["use_partial"])
    dataset = ClipDataset(videos, classes, clip_geometry(video, training), train=True, max_skip=video["max_skip"], multi_label=True, seed=training["seed"])
    criterion = PretrainCriterion(loss, [list(t) for t in videos["target"]], classes, training, training["seed"])
    network, loaded = _model(model, classes, training["width"], initial, training["seed"])
    summary = fit(network, criterion, dataset, out_dir, {**training, **training["pretrain"]}, on_epoch_start=criterion.start_epoch)
    summary.update(initial=str(initial) if initial else None, backbone_tensors_loaded=loaded)
    log.info("pretrained with %s: %s", loss, summary)
    return summary


def ssl_videos(cache_index: Path, use_partial: bool, table: Path | None = None, split_list: Path | None = None,
               class_index: Path | None = None) -> pd.DataFrame:
    """The videos PCL learns from: a NoisyActions split (with `table`), or a downstream set's training
    split only, never its test videos."""
    if table is not None:
        return _split_videos(table, split_list, class_index, cache_index, use_partial)[0]
    index = pd.read_parquet(cache_index)
    return usable_training_videos(index[index["split"] == "train"], use_partial, f"{cache_index}: self-supervised pretraining")


def pretrain_ssl(model: str, cache_index: Path, video: dict, training: dict, out_dir: Path, table: Path | None = None,
                 split_list: Path | None = None, class_index: Path | None = None) -> dict:
    """PCL on one source's videos; best.pt is the last epoch's weights (there is no validation)."""
    ssl = training["ssl"]
    videos = ssl_videos(cache_index, video["cache"]["use_partial"], table, split_list, class_index)
    geometry = {**clip_geometry(video, training), **({"clip_length": ssl["clip_length"]} if ssl["clip_length"] else {})}
    dataset = PretextTupleDataset(videos, geometry, ssl, max_skip=video["max_skip"], seed=training["seed"])
    criterion = PCLLoss(len(videos), ssl["projection_dim"], ssl["negatives"], ssl["temperature"], ssl["memory_momentum"],
                        ssl["contrast_weight"], ssl["pretext_weight"], seed=training["seed"])
    torch.manual_seed(training["seed"])
    network = PCLModel(model, training["width"], ssl["tuple_length"], ssl["projection_dim"], ssl["residual"])
    summary = fit(network, criterion, dataset, out_dir, {**training, **ssl})
    log.info("self-supervised pretraining on %d videos: %s", len(videos), summary)
    return summary


def finetune(model: str, pretrained: Path | None, cache_index: Path, classes_file: Path, video: dict, training: dict, out_dir: Path, result: Path,
             train_labels: Path | None = None, class_index: Path | None = None, residual_input: bool = False) -> dict:
    """Fine-tune (or train from scratch) on a downstream set's usable training videos; best validation
    top-1 over its whole test list (unusable and unreadable videos counted wrong) goes to `result`.
    `train_labels` (with its `class_index`): a training list in UCF101's format whose labels replace the
    training videos' (Table 6's noisy labels); test labels are never replaced."""
    index = pd.read_parquet(cache_index).assign(target=lambda f: f["target"].map(lambda t: int(t[0])))
    if train_labels is not None:
        index = relabel_training_videos(index, train_labels, class_index)
    classes = len(classes_file.read_text().splitlines())
    if int(index["target"].max()) >= classes:
        raise ValueError(f"{cache_index}: target {int(index['target'].max())} but {classes_file} has {classes} classes")
    test = index[index["split"] == "test"]
    if test.empty:
        raise ValueError(f"{cache_index}: no test videos; fine-tuning reports accuracy on the test list")
    train_videos = usable_training_videos(index[index["split"] == "train"], video["cache"]["use_partial"], f"{cache_index}: training")
    unusable_tests = log_skipped(test, usable_rows(test, video["cache"]["use_partial"]), f"{cache_index}: testing (counted as wrong)")
    geometry = clip_geometry(video, training)
    train_set = ClipDataset(train_videos, classes, geometry, train=True, max_skip=1, seed=training["seed"])
    val_set = ClipDataset(test, classes, geometry, train=False, seed=training["seed"])  # unusable videos come back as failures
    network, loaded = _model(model, classes, training["width"], pretrained, training["seed"], residual_input)
    summary = fit(network, lambda logits, target, _: F.cross_entropy(logits.float(), target), train_set, out_dir,
                  {**training, **training["finetune"]}, val_set=val_set)
    summary.update(train_labels=str(train_labels) if train_labels else None, model=model, residual=network.architecture["residual"], pretrained=str(pretrained) if pretrained else None, backbone_tensors_loaded=loaded,
                   **_test_counts(summary, test, unusable_tests))
    if int(os.environ.get("RANK", 0)) == 0:
        atomic_write_text(result, json.dumps(summary, indent=2) + "\n")
    return summary


def _test_counts(summary: dict, test: pd.DataFrame, unusable: int) -> dict:
    """What the best epoch's top-1 was measured over: the whole test list, and how much of it was read."""
    videos, unreadable = len(test), int(summary.get("val_failed_videos", 0))
    return {"test_videos": videos, "test_unreadable": unreadable, "test_unusable_in_cache": unusable,
            "test_partial": int((test["status"] == "partial").sum()), "test_decodable_fraction": (videos - unreadable) / videos}

