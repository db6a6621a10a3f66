"""PCL wired into the trainer and the tables: tuples read from the right frames, a resumed PCL run equal to
an uninterrupted one (memory bank included), pretraining names, Tables 3-5 from result files, and the
schema's SSL defaults being the paper's."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from noisyactions.config import ConfigError, load_config
from noisyactions.training.inits import SCRATCH, Init, every_init, parse_init
from noisyactions.training.pcl import PCLLoss, PCLModel
from noisyactions.training.pcl_data import PretextTupleDataset
from noisyactions.training.pretext import NONE, REMOTE_CLIP, ROTATION, draw_pretext
from noisyactions.training.result_tables import TABLES, build_table, table_spec
from noisyactions.training.trainer import fit
from conftest import GPU_DEFAULTS, REPO

PAPER_CONFIG = REPO / "config" / "paper.yaml"
FRAMES, SIDE = 40, 16
GEOMETRY = {"clip_length": 4, "short_side": SIDE, "crop": SIDE, "test_clips": "windows", "test_clip_count": 2, "decode_threads": 1,
            "max_skip": 1, "cache": {"use_partial": True}}
PCL = {"gap": 2, "tuple_length": 3, "remote_distance": 2}


def _frame_caches(tmp_path, videos: int = 6) -> pd.DataFrame:
    """Frame caches whose frame t is a flat grey of value 5 t: a clip's pixels name the frames read."""
    rows = []
    for k in range(videos):
        path = tmp_path / f"video{k}.npy"
        np.save(path, np.repeat(np.arange(FRAMES, dtype=np.uint8)[:, None, None, None] * 5, SIDE * SIDE * 3).reshape(FRAMES, SIDE, SIDE, 3))
        rows.append({"path": f"source{k}.mp4", "cached": str(path), "frames": FRAMES, "status": "ok"})
    return pd.DataFrame(rows)


def _frames_read(clip: torch.Tensor) -> list[int]:
    """The frame numbers of a uint8 (C, T, H, W) clip of flat frames."""
    return [round(float(v) / 5) for v in clip[0].float().mean(dim=(1, 2))]


def test_tuples_hold_the_drawn_windows_and_the_task_label(tmp_path):
    dataset = PretextTupleDataset(_frame_caches(tmp_path), GEOMETRY, PCL, seed=3)
    seen = set()
    for epoch in range(6):
        for item in range(len(dataset)):
            sample = dataset[epoch, item]
            draw = draw_pretext(FRAMES, np.random.default_rng([3, epoch, item]), 4, 2, 3, 1, 2)
            assert sample["clip"].shape == (3, 3, 4, SIDE, SIDE) and int(sample["target"]) == draw.task
            assert _frames_read(sample["clip"][0]) == draw.clips[0].tolist() and _frames_read(sample["clip"][2]) == draw.clips[2].tolist()
            middle = _frames_read(sample["clip"][1])
            if draw.task in (NONE, ROTATION):  # a rotated flat frame is the same flat frame
                assert middle == draw.clips[1].tolist()
            if draw.task == REMOTE_CLIP:
                assert middle == draw.remote.tolist() and abs(middle[0] - int(draw.clips[1][0])) >= 4
            seen.add(draw.task)
    assert seen == set(range(5)), "every pretext task, the remote clip included, is drawn on 40-frame videos"
    assert torch.equal(dataset[1]["clip"], dataset[0, 1]["clip"]), "a sample is a function of (seed, epoch, item); a bare item is epoch 0"
    assert torch.equal(dataset[4, 1]["clip"], dataset[4, 1]["clip"]) and not torch.equal(dataset[4, 1]["clip"], dataset[5, 1]["clip"])


def test_an_unreadable_video_is_a_failure_not_a_crash(tmp_path):
    videos = _frame_caches(tmp_path, 2)
    (tmp_path / "video1.npy").write_bytes(b"not numpy")
    dataset = PretextTupleDataset(videos, GEOMETRY, PCL)
    assert "clip" in dataset[0] and "failure" in dataset[1]


def _pcl_fit(tmp_path, out_dir, stop_before_epoch=None):
    videos = _frame_caches(tmp_path)
    dataset = PretextTupleDataset(videos, GEOMETRY, PCL, seed=2)
    torch.manual_seed(2)
    model = PCLModel("r3d", width=1 / 8, projection_dim=8, residual=True)
    criterion = PCLLoss(len(videos), 8, negatives=4, temperature=0.2, seed=2)

    def interrupt(epoch):
        if epoch == stop_before_epoch:
            raise KeyboardInterrupt("killed")

    train = {"epochs": 3, "batch_size": 3, "lr": 0.01, "weight_decay": 0.0, "precision": "bf16", "gpu": GPU_DEFAULTS, "workers": 0, "seed": 2}
    summary = fit(model, criterion, dataset, out_dir, train, on_epoch_start=interrupt)
    return summary, criterion


def test_a_resumed_pcl_run_ends_with_the_same_metrics_and_memory_bank(tmp_path):
    straight, straight_bank = _pcl_fit(tmp_path, tmp_path / "straight")
    with pytest.raises(KeyboardInterrupt):
        _pcl_fit(tmp_path, tmp_path / "resumed", stop_before_epoch=2)
    resumed, resumed_bank = _pcl_fit(tmp_path, tmp_path / "resumed")
    assert resumed == straight
    assert all(torch.equal(a, b) for a, b in zip(straight_bank.state_dict().values(), resumed_bank.state_dict().values()))
    metrics = pd.read_csv(tmp_path / "straight" / "metrics.csv")
    assert {"pretext", "contrast_1", "contrast_2", "pretext_accuracy"} <= set(metrics.columns)
    assert np.allclose(metrics["loss"], metrics["pretext"] + 0.5 * (metrics["contrast_1"] + metrics["contrast_2"]), atol=1e-5)
    best = torch.load(tmp_path / "straight" / "best.pt", weights_only=False)
    assert best["architecture"] == {"kind": "r3d", "width": 1 / 8, "residual": True}


def test_pretraining_names_round_trip():
    splits = ["25k", "100k"]
    names = [init.name for init in every_init(splits)]
    assert len(names) == len(set(names)) == 2 + 2 * 2 * 5 + 4  # scratch on frames and on residual clips
    assert all(parse_init(name, splits).name == name for name in names)
    assert parse_init("ssl_25k_then_balanced_focal", splits) == Init("25k", "25k", "balanced_focal")
    assert parse_init("25k_cce_mask", splits) == Init(None, "25k", "cce_mask") and parse_init(SCRATCH, splits) == Init()
    assert parse_init("ssl_curated", splits) == Init("curated")
    assert parse_init("scratch_residual", splits) == Init(residual_input=True) and not Init(residual_input=True).pretrained
    with pytest.raises(ValueError, match="ssl_kinetics.*expected scratch"):
        parse_init("ssl_kinetics", splits)


def _results(tmp_path, name, split, top1):
    results = {}
    for dataset, init in TABLES[name].runs(split):
        path = tmp_path / dataset / init / "result.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"val_top1": top1[(dataset, init)]}))
        results[(dataset, init)] = {0: path}
    return results


def test_table5_puts_each_run_in_its_cell(tmp_path):
    top1 = {("ucf101", "scratch"): 0.1, ("hmdb51", "scratch"): 0.2, ("ucf101", "ssl_100k"): 0.3, ("hmdb51", "ssl_100k"): 0.45678}
    outputs = {kind: tmp_path / f"table5.{kind}" for kind in ("csv", "md", "tex", "html")}
    stamp = "Ours: embedded synthetic world; config 0123456789ab, code v1."
    frame = build_table(TABLES["table5"], _results(tmp_path, "table5", "100k", top1), "r2plus1d", "100k", stamp, outputs)
    assert list(frame.columns) == ["Pretraining", "Paper (UCF101)", "Paper (HMDB51)", "Ours (UCF101)", "Ours (HMDB51)"]
    assert frame.values.tolist() == [["None", 44.81, 18.24, "10.00", "20.00"], ["SSL-100k", 61.7, 29.15, "30.00", "45.68"]]
    caption = outputs["md"].read_text().splitlines()[0]
    assert "R(2+1)D-18" in caption and "100k split" in caption and caption.endswith(f" {stamp}**")


def test_table4_rows_follow_the_configured_split_and_a_missing_run_is_named(tmp_path):
    runs = TABLES["table4"].runs("25k")
    assert runs == [("ucf101", "scratch"), ("ucf101", "scratch_residual"), ("ucf101", "ssl_ucf101"), ("ucf101", "ssl_curated"),
                    ("ucf101", "ssl_25k"), ("ucf101", "ssl_25k_then_balanced_focal")]
    results = _results(tmp_path, "table4", "25k", {run: 0.5 for run in runs})
    outputs = {kind: tmp_path / f"table4.{kind}" for kind in ("csv", "md", "tex", "html")}
    frame = build_table(TABLES["table4"], results, "r3d", "25k", "x", outputs)
    assert list(frame["Pretraining strategy"]) == ["None", "None on residual clips", "SSL-UCF", "SSL-Kinetics", "SSL-25k", "SSL-25k + MLP-BF"]
    del results[("ucf101", "ssl_curated")]
    with pytest.raises(ValueError, match="no result for ucf101/ssl_curated"):
        build_table(TABLES["table4"], results, "r3d", "25k", "x", outputs)


def test_ssl_defaults_are_the_papers_and_a_table_split_must_exist(tmp_path):
    """Sec. 4.2 and Tao et al. 2020: 3 clips of 16 frames 8 apart, remote clip 16 frames away, K = 1024,
    temperature 0.07, momentum 0.5, 128-d projection, CE + 0.5 (L1 + L2), residual clips; Sec. 5: 50 epochs."""
    config = load_config(PAPER_CONFIG)
    assert config["training"]["ssl"] == {"epochs": 50, "clip_length": 16, "gap": 8, "tuple_length": 3, "remote_distance": 16, "negatives": 1024,
                                         "temperature": 0.07, "memory_momentum": 0.5, "projection_dim": 128, "contrast_weight": 0.5,
                                         "pretext_weight": 1.0, "residual": True}
    assert config["training"]["tables"] == {"table3": {"model": "r3d", "split": "25k"}, "table4": {"model": "r3d", "split": "25k"},
                                            "table5": {"model": "r2plus1d", "split": "100k"}, "table6": {"model": "r2plus1d", "split": "100k"},
                                            "table7": {"model": "r2plus1d", "split": "100k"}}
    with pytest.raises(ConfigError, match=r"training.tables.table5.split: '200k' is not a split of dataset.splits.sizes \(25k, 100k\)"):
        load_config(PAPER_CONFIG, {"training": {"tables": {"table5": {"model": "r2plus1d", "split": "200k"}}}})
    with pytest.raises(ConfigError, match="training.tables.table4: 'split' is a required property"):
        load_config(PAPER_CONFIG, {"training": {"tables": {"table4": {"model": "r3d"}}}})
    with pytest.raises(ConfigError, match="key training.input.crop: 33 is odd"):
        load_config(PAPER_CONFIG, {"training": {"input": {"crop": 33}}})
    with pytest.raises(ConfigError, match="key training.ssl.clip_length: null takes the training clip length, 2"):
        load_config(PAPER_CONFIG, {"training": {"input": {"clip_length": 2}, "ssl": {"clip_length": None}}})


def test_pcl_under_torchrun_on_two_cpu_processes_matches_one_process_steps(tmp_path):
    """PCL through `fit`'s DistributedDataParallel path (gloo here, NCCL on GPUs): the memory bank gathers
    every process's embeddings, and the global batch gives the same steps and tuples as one process."""
    import os
    import subprocess

    from noisyactions.training.launch import REPO_ROOT, run_job, torchrun_command

    _frame_caches(tmp_path, 8).assign(target=[[0]] * 8, split="train").to_parquet(tmp_path / "index.parquet")
    training = {"epochs": 1, "batch_size": 4, "lr": 0.01, "weight_decay": 0.0, "precision": "bf16", "gpu": GPU_DEFAULTS, "workers": 0, "seed": 2, "width": 0.125,
                "input": {}, "ssl": {"epochs": 2, "clip_length": None, **PCL, "negatives": 4, "temperature": 0.2, "memory_momentum": 0.5,
                                     "projection_dim": 8, "contrast_weight": 0.5, "pretext_weight": 1.0, "residual": True}}
    arguments = {"model": "r2plus1d", "cache_index": str(tmp_path / "index.parquet"), "video": GEOMETRY, "training": training}
    job = {"function": "pretrain_ssl", "paths": ["cache_index", "out_dir"], "arguments": {**arguments, "out_dir": str(tmp_path / "two")}}
    (tmp_path / "job.json").write_text(json.dumps(job))
    env = {**os.environ, "PYTHONPATH": REPO_ROOT, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(torchrun_command(tmp_path / "job.json", 2), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    run_job({**job, "arguments": {**arguments, "out_dir": str(tmp_path / "one")}})
    two, one = (pd.read_csv(tmp_path / name / "metrics.csv") for name in ("two", "one"))
    assert list(two["steps"]) == list(one["steps"]) == [2, 2] and list(two["clips"]) == list(one["clips"]) == [8, 8]
    assert list(two["batch_per_process"]) == [2, 2] and np.isfinite(two["contrast_1"]).all()
    # rank 0 trained on half the videos; its bank holds every video's update, gathered from both
    bank, initial = torch.load(tmp_path / "two" / "checkpoint.pt", weights_only=False)["criterion"], PCLLoss(8, 8, seed=2).state_dict()
    for view in ("bank.view1", "bank.view2"):
        assert not torch.isclose(bank[view], initial[view]).all(dim=1).any(), f"{view}: a row was never updated on rank 0"


@pytest.mark.parametrize("name", ["table6", "table7"])
def test_robustness_tables_put_each_run_in_its_cell(tmp_path, name):
    """Rows are UCF101's noisy or corrupted copies, columns scratch and SSL: each run lands in its own cell."""
    table = table_spec(name, {"rates": [0.4, 0.8, 0.1], "mode": "per_class_uniform", "seed": 0})
    top1 = {run: (k + 1) / 100 for k, run in enumerate(table.runs("100k"))}
    results = {}
    for (dataset, init), value in top1.items():
        path = tmp_path / dataset / init / "result.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"val_top1": value, "test_decodable_fraction": 0.5 + value}))
        results[(dataset, init)] = {3: path}
    outputs = {kind: tmp_path / f"{name}.{kind}" for kind in ("csv", "md", "tex", "html")}
    frame = build_table(table, results, "r2plus1d", "100k", "x", outputs)
    ours = frame[["Ours (W/o Pretraining)", "Ours (With Pretraining)"]].astype(float).values.tolist()
    if name == "table6":
        assert list(frame["Label Noise Percentage"]) == ["Asymmetric 40%", "Asymmetric 80%", "Asymmetric 10%"]
        assert table.runs("100k")[:2] == [("ucf101_noise40", "scratch"), ("ucf101_noise40", "ssl_100k")]
        assert ours == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
        assert frame["Paper (W/o Pretraining)"].tolist() == [29.32, 12.74, ""] and frame["Paper (With Pretraining)"].tolist() == [45.49, 21.91, ""]
    else:
        assert list(frame["Corruption"]) == ["Random Corruption", "Contiguous Corruption"]
        assert table.runs("100k") == [("ucf101_random", "scratch"), ("ucf101_random", "ssl_100k"),
                                      ("ucf101_contiguous", "scratch"), ("ucf101_contiguous", "ssl_100k")]
        assert ours == [[1.0, 2.0], [3.0, 4.0]] and frame["Ours: test videos decoded (%)"].tolist() == ["51.0", "53.0"]
        assert frame["Paper (W/o Pretraining)"].tolist() == [35.16, 42.69] and frame["Paper (With Pretraining)"].tolist() == [45.28, 56.46]


def test_repeats_give_mean_and_std_in_the_printed_table_and_every_repeat_in_the_csv(tmp_path):
    from noisyactions.training.result_tables import collect_runs, result_path

    paths = []
    for seed, (scratch, ssl) in zip((4, 5, 6), ((0.10, 0.30), (0.20, 0.40), (0.30, 0.62))):
        for dataset in ("ucf101", "hmdb51"):
            for init, value in (("scratch", scratch), ("ssl_100k", ssl)):
                path = tmp_path / result_path("r2plus1d", seed, dataset, init)
                path.parent.mkdir(parents=True)
                path.write_text(json.dumps({"val_top1": value}))
                paths.append(path)
    runs = collect_runs(list(reversed(paths)))
    assert runs[("hmdb51", "ssl_100k")] == {seed: tmp_path / result_path("r2plus1d", seed, "hmdb51", "ssl_100k") for seed in (4, 5, 6)}
    outputs = {kind: tmp_path / f"table5.{kind}" for kind in ("csv", "md", "tex", "html")}
    frame = build_table(TABLES["table5"], runs, "r2plus1d", "100k", "x", outputs)
    assert frame["Ours (UCF101)"].tolist() == ["20.00 ± 10.00 (n=3)", "44.00 ± 16.37 (n=3)"]
    csv = pd.read_csv(outputs["csv"], keep_default_na=False)
    assert csv["Ours (HMDB51)"].tolist() == [20.0, 44.0] and csv["Ours (HMDB51) n"].tolist() == [3, 3]
    assert csv["Ours (UCF101) per repeat"].tolist() == ["10.00;20.00;30.00", "30.00;40.00;62.00"]
    assert "± 16.37 (n=3)" in outputs["md"].read_text()
