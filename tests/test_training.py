"""The trainer: resumes to the same metrics, refuses bad checkpoints and mismatched classes, keeps the
configured batch global under torchrun, and measures accuracy over the whole test list."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from noisyactions.training import run
from noisyactions.training.evaluation_epochs import evaluation_epochs
from noisyactions.training.models import VideoResNet18
from noisyactions.training.run import finetune
from noisyactions.training.trainer import CheckpointError, EpochBatches, batch_per_process, evaluate, fit, load_backbone, training_loader
from noisyactions.video.dataset import ClipDataset
from noisyactions.video.indexes import ucf_style_index
from conftest import GPU_DEFAULTS

GEOMETRY = {"clip_length": 4, "short_side": 20, "crop": 16, "test_clips": "windows", "test_clip_count": 2, "decode_threads": 1, "max_skip": 1,
            "cache": {"use_partial": True}}
TRAIN = {"epochs": 3, "batch_size": 4, "lr": 0.03, "weight_decay": 0.0, "precision": "bf16", "gpu": GPU_DEFAULTS, "workers": 0, "seed": 5}


def _ucf(tiny_world):
    root = tiny_world.downstream("ucf101")
    return ucf_style_index(root / "UCF-101", root / "ucfTrainTestlist")


def _cached_index(tiny_world) -> pd.DataFrame:
    """UCF101 as a cache index whose rows point at the source files (every status ok)."""
    return _ucf(tiny_world).videos.assign(target=lambda f: f["target"].map(lambda t: [int(t)]), cached=None, frames=0, status="ok")


def _run(tiny_world, out_dir, stop_before_epoch=None, train_settings=TRAIN):
    index = _ucf(tiny_world)
    train = ClipDataset(index.split("train"), len(index.classes), GEOMETRY, train=True, seed=5)
    val = ClipDataset(index.split("test"), len(index.classes), GEOMETRY, train=False, seed=5)

    def interrupt(epoch):
        if epoch == stop_before_epoch:
            raise KeyboardInterrupt("killed")

    torch.manual_seed(5)
    model = VideoResNet18("r3d", len(index.classes), 0.125)
    return fit(model, lambda logits, target, _: F.cross_entropy(logits, target), train, out_dir, train_settings, val_set=val, on_epoch_start=interrupt)


def test_a_resumed_run_ends_with_the_same_metrics(tiny_world, tmp_path):
    straight = _run(tiny_world, tmp_path / "straight")
    with pytest.raises(KeyboardInterrupt):
        _run(tiny_world, tmp_path / "resumed", stop_before_epoch=2)
    assert (tmp_path / "resumed" / "checkpoint.pt").exists()
    assert not (tmp_path / "resumed" / "best.pt").exists(), "best.pt is written when the run ends"
    # what Snakemake does before it runs the job again (a retry, a requeue, a rerun): delete its outputs;
    # and what a kill in the middle of an atomic write leaves
    (tmp_path / "resumed" / "metrics.csv").unlink()
    leftovers = [tmp_path / "resumed" / name for name in (".checkpoint.pt.k1ll3d.tmp", ".best_so_far.pt.k1ll3d.tmp")]
    for leftover in leftovers:
        leftover.write_bytes(b"half a file")
    resumed = _run(tiny_world, tmp_path / "resumed")
    assert resumed == straight
    straight_csv = pd.read_csv(tmp_path / "straight" / "metrics.csv")
    assert straight_csv.equals(pd.read_csv(tmp_path / "resumed" / "metrics.csv"))
    assert list(straight_csv["epoch"]) == [0, 1, 2]
    best = [torch.load(tmp_path / name / "best.pt", weights_only=False) for name in ("straight", "resumed")]
    assert best[0]["epoch"] == best[1]["epoch"]
    assert all(torch.equal(best[0]["model"][k], best[1]["model"][k]) for k in best[0]["model"])
    assert not (tmp_path / "resumed" / "best_so_far.pt").exists()
    assert not any(leftover.exists() for leftover in leftovers)


def test_a_checkpoint_resumes_across_loader_and_gpu_settings(tiny_world, tmp_path, caplog):
    """training.workers and training.gpu change how fast a run goes, not what it learns: a run stopped and
    resumed with others resumes (it does not start over) and ends as one that was never stopped."""
    straight = _run(tiny_world, tmp_path / "straight")
    with pytest.raises(KeyboardInterrupt):
        _run(tiny_world, tmp_path / "resumed", stop_before_epoch=2)
    other = {**TRAIN, "workers": 1, "gpu": {**GPU_DEFAULTS, "fused_sgd": not GPU_DEFAULTS["fused_sgd"], "compile": True}}
    with caplog.at_level("INFO", logger="noisyactions.training.trainer"):
        assert _run(tiny_world, tmp_path / "resumed", train_settings=other) == straight
    assert "at epoch 2" in caplog.text and "starting over" not in caplog.text
    assert list(pd.read_csv(tmp_path / "resumed" / "metrics.csv")["epoch"]) == [0, 1, 2]


def test_epoch_batches_shuffle_each_epoch_apart_and_resume_where_a_run_stopped():
    whole = list(EpochBatches(range(10), 4, seed=5, epochs=range(3)))
    assert [len(batch) for batch in whole] == [4, 4] * 3  # each epoch's last 2 samples dropped: no batch spans epochs
    for epoch in range(3):
        keys = [key for batch in whole[2 * epoch:2 * epoch + 2] for key in batch]
        assert {e for e, _ in keys} == {epoch} and len({item for _, item in keys}) == 8
    assert [item for _, item in whole[0] + whole[1]] != [item for _, item in whole[2] + whole[3]]  # shuffled anew
    assert list(EpochBatches(range(10), 4, seed=5, epochs=range(1, 3))) == whole[2:]  # a resumed run draws what the whole run would
    assert [len(batch) for batch in EpochBatches(range(3), 4, seed=5, epochs=range(2))] == [3, 3]  # fewer samples than a batch: one batch
    assert len(EpochBatches(range(10), 4, seed=5, epochs=range(3))) == 6


class _WorkerIds(torch.utils.data.Dataset):
    """Samples that say which process read them."""

    def __len__(self):
        return 8

    def __getitem__(self, key):
        epoch, item = key
        return {"clip": torch.zeros(1), "target": torch.tensor([os.getpid(), epoch]), "index": item}


def test_one_loader_serves_every_epoch_its_workers_start_once():
    loader = training_loader(_WorkerIds(), 2, workers=2, seed=0, epochs=range(3), device=torch.device("cpu"))
    targets = torch.cat([batch["target"] for batch in loader])
    assert targets[:, 1].tolist() == [0] * 8 + [1] * 8 + [2] * 8  # epoch after epoch
    assert len(set(targets[:, 0].tolist())) == 2 and os.getpid() not in targets[:, 0].tolist()  # the same 2 workers throughout


def test_a_run_with_loader_workers_learns_what_one_without_learns(tiny_world, tmp_path):
    """Workers read ahead across epochs (and through evaluation): the samples, and so the run, are the same."""
    assert _run(tiny_world, tmp_path / "workers", train_settings={**TRAIN, "workers": 2}) == _run(tiny_world, tmp_path / "inline")


def test_evaluating_every_other_epoch_tests_those_and_the_last_and_picks_the_best_among_them(tiny_world, tmp_path):
    every_epoch = _run(tiny_world, tmp_path / "every")
    sparse = _run(tiny_world, tmp_path / "sparse", train_settings={**TRAIN, "epochs": 4, "evaluate_every": 2})
    metrics = pd.read_csv(tmp_path / "sparse" / "metrics.csv")
    assert list(metrics["val_top1"].notna()) == [False, True, False, True]  # epochs 1 and 3 (the last)
    assert metrics["val_videos"].dropna().tolist() == [len(_ucf(tiny_world).split("test"))] * 2
    tested = metrics.dropna(subset=["val_top1"])
    assert sparse["best_epoch"] in (1, 3) and sparse["val_top1"] == tested["val_top1"].max()
    assert sparse["best_epoch"] == tested.loc[tested["val_top1"] == tested["val_top1"].max(), "epoch"].iloc[-1]  # ties: the later
    assert torch.load(tmp_path / "sparse" / "best.pt", weights_only=False)["epoch"] == sparse["best_epoch"]
    assert pd.read_csv(tmp_path / "every" / "metrics.csv")["val_top1"].notna().all() and every_epoch["best_epoch"] >= 0


def test_evaluation_reads_through_loader_workers_to_the_same_result(tiny_world):
    """Loader processes read the test videos in order: the same predictions, video by video, as reading
    them in the training process."""
    index = _ucf(tiny_world)
    test = ClipDataset(index.split("test"), len(index.classes), GEOMETRY, train=False, seed=5)
    torch.manual_seed(5)
    model = VideoResNet18("r3d", len(index.classes), 0.125)
    by_process = {workers: evaluate(model, test, torch.device("cpu"), workers=workers, batch_clips=3) for workers in (0, 2)}
    assert by_process[0] == by_process[2] and by_process[0]["videos"] == len(index.split("test"))
    pixels = {workers: _FirstPixelsAsLogits() for workers in (0, 2)}  # predictions set by each window's own pixels
    assert evaluate(pixels[0], test, torch.device("cpu"), batch_clips=3) == evaluate(pixels[2], test, torch.device("cpu"), workers=2, batch_clips=3)
    assert pixels[0].batches == pixels[2].batches and sum(pixels[0].batches) > len(index.split("test"))  # several windows a video


def test_evaluation_epochs_are_every_nth_and_the_last():
    assert evaluation_epochs(4, 1) == [0, 1, 2, 3]
    assert evaluation_epochs(10, 3) == [2, 5, 8, 9]
    assert len(evaluation_epochs(100, 10)) == 10 and evaluation_epochs(100, 10)[-1] == 99
    assert evaluation_epochs(3, 5) == [2]
    with pytest.raises(ValueError, match="evaluate_every = 0: must be at least 1"):
        evaluation_epochs(3, 0)


def test_a_run_killed_after_its_last_checkpoint_only_writes_its_outputs(tiny_world, tmp_path, monkeypatch):
    straight = _run(tiny_world, tmp_path / "straight")
    replace = os.replace

    def killed_before_best(source, target):
        if Path(target).name == "best.pt":
            raise KeyboardInterrupt("killed")
        replace(source, target)

    with monkeypatch.context() as patch:
        patch.setattr("os.replace", killed_before_best)
        with pytest.raises(KeyboardInterrupt):
            _run(tiny_world, tmp_path / "run")
    (tmp_path / "run" / "metrics.csv").unlink()
    stopped = tmp_path / "run" / "checkpoint.pt"
    before = stopped.stat().st_mtime_ns
    assert _run(tiny_world, tmp_path / "run") == straight
    assert stopped.stat().st_mtime_ns == before, "no epoch was trained again"
    assert (tmp_path / "run" / "best.pt").exists() and (tmp_path / "run" / "metrics.csv").read_bytes() == (tmp_path / "straight" / "metrics.csv").read_bytes()


def test_a_checkpoint_without_its_best_weights_is_not_resumed(tiny_world, tmp_path, caplog):
    """Resuming would end without best.pt when no later epoch beats the lost one."""
    with pytest.raises(KeyboardInterrupt):
        _run(tiny_world, tmp_path / "run", stop_before_epoch=2)
    (tmp_path / "run" / "best_so_far.pt").unlink()
    with caplog.at_level("WARNING", logger="noisyactions.training.trainer"):
        _run(tiny_world, tmp_path / "run")
    assert "best_so_far.pt is missing" in caplog.text and (tmp_path / "run" / "best.pt").exists()


def test_a_checkpoint_of_a_finished_run_or_of_other_settings_is_not_resumed(tiny_world, tmp_path, caplog, monkeypatch):
    """Snakemake reruns a job whose settings or inputs changed and leaves checkpoint.pt in place: resuming
    a finished run would write nothing, resuming other settings would mix two runs."""
    first = _run(tiny_world, tmp_path / "run")
    with caplog.at_level("WARNING", logger="noisyactions.training.trainer"):
        again = _run(tiny_world, tmp_path / "run")
    assert again == first and "is a finished run: starting over" in caplog.text
    with pytest.raises(KeyboardInterrupt):
        _run(tiny_world, tmp_path / "other", stop_before_epoch=2)
    monkeypatch.setitem(TRAIN, "lr", 0.01)
    with caplog.at_level("WARNING", logger="noisyactions.training.trainer"):
        _run(tiny_world, tmp_path / "other")
    assert "written with other settings (train differ): starting over" in caplog.text
    assert list(pd.read_csv(tmp_path / "other" / "metrics.csv")["epoch"]) == [0, 1, 2]


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
    index = _cached_index(tiny_world)
    index.to_parquet(tmp_path / "index.parquet")
    (tmp_path / "classes.txt").write_text("only_one_class\n")
    training = {**TRAIN, "width": 0.125, "input": {}, "finetune": {"epochs": 1}}
    with pytest.raises(ValueError, match="classes.txt has 1 classes"):
        finetune("r3d", None, tmp_path / "index.parquet", tmp_path / "classes.txt", GEOMETRY, training, tmp_path / "run", tmp_path / "result.json")


def test_distributed_training_under_torchrun_on_two_cpu_processes(tiny_world, tmp_path):
    """The DistributedDataParallel path `fit` takes under torchrun (gloo on CPU here, NCCL on GPUs):
    training.batch_size is the global batch, split between the processes, so the optimiser takes as many
    steps over as many clips as in a single process."""
    import json
    import os
    import subprocess

    from noisyactions.training.launch import REPO_ROOT, run_job, torchrun_command

    index = _cached_index(tiny_world)
    index.to_parquet(tmp_path / "index.parquet")
    (tmp_path / "classes.txt").write_text("".join(f"{c}\n" for c in _ucf(tiny_world).classes))
    training = {**TRAIN, "epochs": 2, "width": 0.125, "input": {}, "finetune": {"epochs": 2}}
    job = {"function": "finetune", "paths": ["cache_index", "classes_file", "out_dir", "result"], "arguments": {
        "model": "r3d", "pretrained": None, "cache_index": str(tmp_path / "index.parquet"), "classes_file": str(tmp_path / "classes.txt"),
        "video": GEOMETRY, "training": training, "out_dir": str(tmp_path / "run"), "result": str(tmp_path / "result.json")}}
    (tmp_path / "job.json").write_text(json.dumps(job))
    env = {**os.environ, "PYTHONPATH": REPO_ROOT, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(torchrun_command(tmp_path / "job.json", 2), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["best_epoch"] in (0, 1) and 0 <= result["val_top1"] <= 1
    two = pd.read_csv(tmp_path / "run" / "metrics.csv")
    assert list(two["epoch"]) == [0, 1]

    single = {**job["arguments"], "out_dir": str(tmp_path / "single"), "result": str(tmp_path / "single.json")}
    run_job({**job, "arguments": single})
    one = pd.read_csv(tmp_path / "single" / "metrics.csv")
    scheduler_steps = [torch.load(tmp_path / name / "checkpoint.pt", weights_only=False)["scheduler"]["last_epoch"] for name in ("single", "run")]
    assert scheduler_steps[1] == scheduler_steps[0] == 2 * (9 // TRAIN["batch_size"]), "9 training videos, global batch 4, 2 epochs"
    assert list(two["steps"]) == list(one["steps"]) == [2, 2]
    assert list(two["clips"]) == list(one["clips"]) == [8, 8], "clips per epoch over every process: steps x the global batch"
    assert list(one["batch_per_process"]) == [4, 4] and list(two["batch_per_process"]) == [2, 2]


def test_the_global_batch_must_divide_among_the_processes(monkeypatch, tmp_path):
    from noisyactions.training.launch import launch

    assert batch_per_process(64, 1) == 64 and batch_per_process(64, 8) == 8
    with pytest.raises(ValueError, match="training.batch_size = 6 is the global batch and does not divide among 4 processes"):
        batch_per_process(6, 4)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)  # a job on 4 GPUs stops before torchrun starts
    with pytest.raises(ValueError, match="does not divide among 4 processes"):
        launch("finetune", {"training": {**TRAIN, "batch_size": 6}}, [], tmp_path / "job.json")
    assert not (tmp_path / "job.json").exists()


class AlwaysClassZero(torch.nn.Module):
    """A model that predicts class 0 whatever it sees: accuracy is then the share of readable videos."""

    def __init__(self, kind: str, classes: int, width: float, residual: bool = False):
        super().__init__()
        self.classes, self.weight = classes, torch.nn.Parameter(torch.zeros(1))
        self.architecture = {"kind": kind, "width": width, "residual": residual}

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(len(clips), self.classes)
        logits[:, 0] = 1.0
        return logits + 0 * self.weight


@pytest.mark.parametrize("use_partial, correct, unreadable", [(True, 4, 2), (False, 3, 3)])
def test_the_test_denominator_is_the_whole_test_list(tiny_world, tmp_path, monkeypatch, caplog, use_partial, correct, unreadable):
    """Six test videos of class 0: three decodable, one decoded part-way, one the cache could not decode
    and one whose file fails at read time. Every one is in the denominator."""
    videos = _cached_index(tiny_world).assign(error="")
    train = videos[videos["split"] == "train"]
    (tmp_path / "broken.avi").write_bytes(b"not a video")
    test = pd.concat([
        videos[videos["split"] == "test"],
        train.iloc[[0]].assign(status="partial", frames=6, error="decoded 6 of 8 frames"),
        train.iloc[[1]].assign(status="undecodable", error="moov atom not found"),
        train.iloc[[2]].assign(path=str(tmp_path / "broken.avi")),
    ]).assign(split="test", target=lambda f: f["target"].map(lambda _: [0]))
    undecodable_train = train.iloc[[3]].assign(status="undecodable", error="moov atom not found")
    pd.concat([train.drop(train.index[3]), undecodable_train, test]).reset_index(drop=True).to_parquet(tmp_path / "index.parquet")
    (tmp_path / "classes.txt").write_text("".join(f"{c}\n" for c in _ucf(tiny_world).classes))
    monkeypatch.setattr(run, "VideoResNet18", AlwaysClassZero)
    training = {**TRAIN, "width": 0.125, "input": {}, "finetune": {"epochs": 1}}
    geometry = {**GEOMETRY, "cache": {"use_partial": use_partial}}
    with caplog.at_level("WARNING", logger="noisyactions.training.usable"):
        result = finetune("r3d", None, tmp_path / "index.parquet", tmp_path / "classes.txt", geometry, training, tmp_path / "run",
                          tmp_path / "result.json")
    assert result["val_top1"] == pytest.approx(correct / 6)
    assert (result["test_videos"], result["test_unreadable"], result["test_unusable_in_cache"]) == (6, unreadable, unreadable - 1)
    assert result["test_decodable_fraction"] == pytest.approx(1 - unreadable / 6) and result["test_partial"] == 1
    assert "training: 1 of 9 videos not usable (1 undecodable)" in caplog.text


class _FirstPixelsAsLogits(torch.nn.Module):
    """A 'model' whose logits are a clip's first pixels, so each prediction is set by its own clip; it
    records the size of every batch it is given."""

    def __init__(self):
        super().__init__()
        self.batches: list[int] = []

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        self.batches.append(len(clips))
        return clips.flatten(1)[:, :4] * 10


@pytest.mark.parametrize("batch_clips", [1, 2, 5, 64])
def test_evaluation_batches_clips_across_videos_and_keeps_each_video_its_own(batch_clips):
    """Windows of several videos go through the model together; each video's prediction must still
    average exactly its own windows (videos of 1, 3 and 2 windows; a failure between them counts wrong)."""

    def video(target: int, windows: int, decoy: int, item: int) -> dict:
        clips = torch.zeros(windows, 3, 2, 2, 2, dtype=torch.uint8)  # as the loader hands them over
        clips.view(windows, -1)[:, target] = 100
        clips.view(windows, -1)[0, decoy] = 150  # one window leans elsewhere: only the average is right
        return {"clip": clips, "target": torch.tensor(target), "index": item}

    dataset = [video(0, 1, 0, 0), video(2, 3, 1, 1), {"failure": "unreadable", "index": 2}, video(3, 2, 3, 3), video(1, 3, 0, 4)]
    model = _FirstPixelsAsLogits()
    result = evaluate(model, dataset, torch.device("cpu"), batch_clips=batch_clips)
    assert result == {"top1": 4 / 5, "videos": 5, "failed_videos": 1}
    # batches of exactly batch_clips windows (one shape for cuDNN and compiled models), the last smaller: 9 windows in all
    assert model.batches == {1: [1] * 9, 2: [2, 2, 2, 2, 1], 5: [5, 4], 64: [9]}[batch_clips]


def test_the_residual_control_starts_from_scratch_on_frame_differences(tmp_path):
    """Table 4's control row: a model from scratch that sees what SSL checkpoints see (frame
    differences); combining it with pretrained weights is refused, since those carry their own input."""
    model, loaded = run._model("r3d", 5, 0.125, None, seed=0, residual_input=True)
    assert model.architecture["residual"] is True and loaded == 0
    clip = torch.rand(1, 3, 4, 16, 16)
    frames_model, _ = run._model("r3d", 5, 0.125, None, seed=0)
    assert frames_model.architecture["residual"] is False
    assert not torch.equal(model.eval()(clip), frames_model.eval()(clip)), "same weights (seed), another input"
    checkpoint = tmp_path / "best.pt"
    torch.save({"model": model.state_dict(), "architecture": model.architecture}, checkpoint)
    with pytest.raises(ValueError, match="residual_input is for models from scratch"):
        run._model("r3d", 5, 0.125, checkpoint, seed=0, residual_input=True)
