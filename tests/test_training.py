"""The trainer: resumes to the same metrics, refuses bad checkpoints and mismatched classes; Table 3
builds end to end on the tiny world."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from noisyactions.training.models import VideoResNet18
from noisyactions.training.run import finetune
from noisyactions.training.trainer import CheckpointError, fit, load_backbone
from noisyactions.video.dataset import ClipDataset
from noisyactions.video.indexes import ucf_style_index

GEOMETRY = {"clip_length": 4, "short_side": 20, "crop": 16, "test_clips": "windows", "test_clip_count": 2, "decode_threads": 1, "max_skip": 1}
TRAIN = {"epochs": 3, "batch_size": 4, "lr": 0.03, "weight_decay": 0.0, "amp": False, "workers": 0, "seed": 5}


def _ucf(tiny_world):
    root = tiny_world.downstream("ucf101")
    return ucf_style_index(root / "UCF-101", root / "ucfTrainTestlist")


def _run(tiny_world, out_dir, stop_before_epoch=None):
    index = _ucf(tiny_world)
    train = ClipDataset(index.split("train"), len(index.classes), GEOMETRY, train=True, seed=5)
    val = ClipDataset(index.split("test"), len(index.classes), GEOMETRY, train=False, seed=5)

    def interrupt(epoch):
        if epoch == stop_before_epoch:
            raise KeyboardInterrupt("killed")

    torch.manual_seed(5)
    model = VideoResNet18("r3d", len(index.classes), 0.125)
    return fit(model, lambda logits, target, _: F.cross_entropy(logits, target), train, out_dir, TRAIN, val_set=val, on_epoch_start=interrupt)


def test_a_resumed_run_ends_with_the_same_metrics(tiny_world, tmp_path):
    straight = _run(tiny_world, tmp_path / "straight")
    with pytest.raises(KeyboardInterrupt):
        _run(tiny_world, tmp_path / "resumed", stop_before_epoch=2)
    assert (tmp_path / "resumed" / "checkpoint.pt").exists()
    resumed = _run(tiny_world, tmp_path / "resumed")
    assert resumed == straight
    straight_csv = pd.read_csv(tmp_path / "straight" / "metrics.csv")
    assert straight_csv.equals(pd.read_csv(tmp_path / "resumed" / "metrics.csv"))
    assert list(straight_csv["epoch"]) == [0, 1, 2]


def test_a_corrupt_checkpoint_is_a_clear_error(tiny_world, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="checkpoint.pt cannot be resumed"):
        _run(tiny_world, tmp_path / "run")


def test_backbone_loading_fails_loudly_on_a_mismatch(tmp_path):
    torch.save({"model": VideoResNet18("r3d", 5, 0.25).state_dict()}, tmp_path / "wide.pt")
    with pytest.raises(CheckpointError, match=r"0 of \d+ backbone tensors"):
        load_backbone(VideoResNet18("r3d", 3, 0.125), tmp_path / "wide.pt")
    torch.save({"model": VideoResNet18("r3d", 5, 0.125).state_dict()}, tmp_path / "same.pt")
    model = VideoResNet18("r3d", 3, 0.125)
    loaded = load_backbone(model, tmp_path / "same.pt")
    assert loaded == len([k for k in model.state_dict() if not k.startswith("fc.")])
    (tmp_path / "broken.pt").write_bytes(b"\x00" * 10)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_backbone(model, tmp_path / "broken.pt")


def test_dataset_and_model_class_counts_must_agree(tiny_world, tmp_path):
    index = _ucf(tiny_world).videos.assign(target=lambda f: f["target"].map(lambda t: [int(t)]), cached=None, frames=0, status="ok")
    index.to_parquet(tmp_path / "index.parquet")
    (tmp_path / "classes.txt").write_text("only_one_class\n")
    training = {**TRAIN, "model": "r3d", "width": 0.125, "input": {}, "finetune": {"epochs": 1}}
    with pytest.raises(ValueError, match="classes.txt has 1 classes"):
        finetune(None, tmp_path / "index.parquet", tmp_path / "classes.txt", GEOMETRY, training, tmp_path / "run", tmp_path / "result.json")


def test_distributed_training_under_torchrun_on_two_cpu_processes(tiny_world, tmp_path):
    """The DistributedDataParallel path `fit` takes under torchrun (gloo on CPU here, NCCL on GPUs)."""
    import json
    import os
    import subprocess

    from noisyactions.training.launch import REPO_ROOT, torchrun_command

    index = _ucf(tiny_world).videos.assign(target=lambda f: f["target"].map(lambda t: [int(t)]), cached=None, frames=0, status="ok")
    index.to_parquet(tmp_path / "index.parquet")
    (tmp_path / "classes.txt").write_text("".join(f"{c}\n" for c in _ucf(tiny_world).classes))
    training = {**TRAIN, "epochs": 2, "model": "r3d", "width": 0.125, "input": {}, "finetune": {"epochs": 2}}
    job = {"function": "finetune", "paths": ["cache_index", "classes_file", "out_dir", "result"], "arguments": {
        "pretrained": None, "cache_index": str(tmp_path / "index.parquet"), "classes_file": str(tmp_path / "classes.txt"),
        "video": GEOMETRY, "training": training, "out_dir": str(tmp_path / "run"), "result": str(tmp_path / "result.json")}}
    (tmp_path / "job.json").write_text(json.dumps(job))
    env = {**os.environ, "PYTHONPATH": REPO_ROOT, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(torchrun_command(tmp_path / "job.json", 2), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["best_epoch"] in (0, 1) and 0 <= result["val_top1"] <= 1
    assert list(pd.read_csv(tmp_path / "run" / "metrics.csv")["epoch"]) == [0, 1]
