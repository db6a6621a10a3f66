"""The cost estimate (noisyactions.cost, `snakemake cost`): its arithmetic checked by hand, its counts against
the list formats, and the rule on the tiny world and at paper scale."""

from __future__ import annotations

import csv
import math
import re
import shutil

import pytest
import yaml

from conftest import REPO, SHARED, TINY_CONFIG, snakemake
from noisyactions import cost
from noisyactions.config import load_config
from noisyactions.cost import CostError, Rates, Run
from noisyactions.training import result_tables
from noisyactions.training.flops import TRAINING_STEP_FORWARDS
from noisyactions.video.clips import evaluation_clips

RATES = Rates("a GPU", supervised={"r3d": 100.0, "r2plus1d": 50.0}, pcl={"r3d": 150.0, "r2plus1d": 75.0})


def run(folder: str = "results/r3d/seed0/finetune/ucf101/scratch", **fields) -> Run:
    values = dict(kind="finetune", model="r3d", trains_on="ucf101", training_videos=100, epochs=1, evaluated_epochs=1, batch_size=100, cache="ucf101")
    return Run(folder, **{**values, **fields})


# -- arithmetic ---------------------------------------------------------------------------------------
def test_an_epoch_is_whole_batches_and_a_pcl_tuple_counts_its_clips():
    assert run(training_videos=130, batch_size=64, epochs=2).clip_steps == 2 * 128  # the partial batch of 2 is dropped
    assert run(training_videos=10, batch_size=64, epochs=3).clip_steps == 30  # fewer than a batch: one short batch
    assert run(kind="pretrain_ssl", training_videos=130, batch_size=64, epochs=2, clips_per_item=3).clip_steps == 3 * 2 * 128


def test_evaluation_costs_a_third_of_a_training_clip_step():
    assert cost.EVALUATION_SHARE == 1 / TRAINING_STEP_FORWARDS
    finetune = run(test_videos=50, test_clips_per_video=6)  # 100 clip-steps: 1 s; 300 evaluation clips: 300 / 3 / 100 = 1 s
    assert finetune.evaluation_clips == 300
    assert RATES.gpu_hours(finetune) == pytest.approx(2 / 3600)
    assert RATES.evaluation_hours(finetune) == pytest.approx(1 / 3600)
    pcl = run("results/r3d/seed0/pretrain/ssl_ucf101", kind="pretrain_ssl", clips_per_item=3)  # 300 clip-steps at PCL's 150/s
    assert RATES.gpu_hours(pcl) == pytest.approx(2 / 3600)
    assert RATES.gpu_hours(run(model="r2plus1d")) == pytest.approx(2 / 3600)  # each model at its own rate


def test_a_run_evaluated_every_tenth_epoch_costs_a_tenth_of_the_evaluation(tmp_path):
    config = load_config(TINY_CONFIG)
    config["training"]["finetune"].update(epochs=100, evaluate_every=10)
    config["cost"]["videos"] = {"ucf101": {"train": 64, "test": 5}}
    job = {"folder": "results/r3d/seed0/finetune/ucf101/scratch", "kind": "finetune", "model": "r3d", "trains_on": "ucf101", "cache": "ucf101"}
    sparse = cost._run(job, config, cost.counted_videos(["ucf101"], config), {"ucf101": 64}, {"r3d": 1})
    assert sparse.evaluated_epochs == 10 and sparse.evaluation_clips == 5 * sparse.test_clips_per_video * 10


def test_a_clip_takes_as_long_as_the_slower_of_the_loader_and_the_gpu():
    finetune = run(test_videos=50, test_clips_per_video=6)  # 100 clip-steps, 300 evaluation clips
    loader_bound = Rates("a GPU", RATES.supervised, RATES.pcl, loader=60.0)
    # training at the loader's 60 clips/s (the GPU takes 100); evaluation too (the GPU would take 300 forward)
    assert loader_bound.gpu_hours(finetune) == pytest.approx((100 / 60 + 300 / 60) / 3600)
    assert loader_bound.evaluation_hours(finetune) == pytest.approx(300 / 60 / 3600)
    between = Rates("a GPU", RATES.supervised, RATES.pcl, loader=200.0)  # keeps up with training, not with evaluation
    assert between.gpu_hours(finetune) == pytest.approx((100 / 100 + 300 / 200) / 3600)
    assert Rates("a GPU", RATES.supervised, RATES.pcl, loader=1e9).gpu_hours(finetune) == pytest.approx(RATES.gpu_hours(finetune))


def test_a_run_two_tables_share_is_counted_once_in_the_total():
    scratch = run(cache="ucf101")
    pretraining = run("results/r3d/seed0/pretrain/25k_bce", kind="pretrain_supervised", trains_on="25k", training_videos=200, cache="noisyactions",
                      checkpoint_bytes=7)
    finetuned = run("results/r3d/seed0/finetune/ucf101/25k_bce", test_videos=10, test_clips_per_video=3, checkpoint_bytes=5)
    residual = run("results/r3d/seed0/finetune/ucf101/scratch_residual", checkpoint_bytes=11)
    costs = cost.costs({"table3": [scratch, pretraining, finetuned], "table4": [scratch, residual]}, {"ucf101": 1000, "noisyactions": 20000}, RATES)
    assert costs["table3"].clip_steps == 100 + 200 + 100 and costs["table4"].clip_steps == 200
    total = costs[cost.TOTAL]
    assert total.runs == {"pretrain_supervised": 1, "pretrain_ssl": 0, "finetune": 3}
    assert total.clip_steps == 500  # not 600: the scratch run once
    assert total.evaluation_clips == 30
    assert total.gpu_hours == pytest.approx((500 / 100 + 30 / 3 / 100) / 3600)
    assert total.cache_bytes == 21000 and costs["table4"].cache_bytes == 1000  # each cache once
    assert total.checkpoint_bytes == 23 and total.disk_bytes == 21023


def test_two_different_runs_in_one_folder_are_refused():
    with pytest.raises(CostError, match="results/r3d/seed0/finetune/ucf101/scratch: two different runs"):
        cost.costs({"table3": [run()], "table4": [run(epochs=2)]}, {"ucf101": 0}, RATES)


def test_cache_and_checkpoint_sizes():
    assert cost.cache_bytes(10, 64, 63.75, 128, 128) == 10 * 64 * 128 * 170 * 3  # uint8 frames of 128x170: the README's 4,080 KiB a video
    assert cost.cache_bytes(10, 64, 63.75, 64, 128) == 10 * 64 * 128 * 170 * 3 // 4  # half the short side, a quarter of the area
    assert cost.checkpoint_bytes(1000) == 4 * 3000  # best.pt's weights, checkpoint.pt's weights and momentum
    assert cost.checkpoint_bytes(1000, memory_bank_values=200) == 4 * 3200


@pytest.mark.parametrize("frames", [1, 5, 15, 16, 17, 32, 180, 250])
def test_test_clips_are_the_windows_evaluation_takes(frames):
    assert cost.clips_per_test_video(frames, 16, "windows", 10) == len(evaluation_clips(frames, 16, "windows"))
    assert cost.clips_per_test_video(frames, 16, "uniform", 10) == len(evaluation_clips(frames, 16, "uniform", 10)) == 10


# -- counts -------------------------------------------------------------------------------------------
def write_lines(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))


def test_counts_read_each_list_format(tmp_path):
    write_lines(tmp_path / "ucf" / "trainlist01.txt", ["A/v_a.avi 1", "A/v_b.avi 1", "", "B/v_c.avi 2"])
    write_lines(tmp_path / "ucf" / "testlist01.txt", ["A/v_d.avi"])
    write_lines(tmp_path / "hmdb" / "run_test_split1.txt", ["a.avi 1", "b.avi 2", "c.avi 0"])
    write_lines(tmp_path / "hmdb" / "walk_test_split1.txt", ["d.avi 1", "e.avi 1"])
    write_lines(tmp_path / "hmdb" / "walk_test_split2.txt", ["d.avi 2"])
    write_lines(tmp_path / "curated" / "train.csv", ["path,label", "a.mp4,x", "b.mp4,y"])
    write_lines(tmp_path / "curated" / "val.csv", ["path,label", "c.mp4,x"])
    write_lines(tmp_path / "lists" / "trainlist25k.txt", ["123 1|2", "456 3"])
    datasets = {"ucf101": {"lists": str(tmp_path / "ucf"), "split": 1},
                "hmdb51": {"lists": str(tmp_path / "hmdb"), "format": "official", "split": 1}, "curated": {"root": str(tmp_path / "curated")}}
    official = {"source": "official", "sizes": {"25k": 25000}, "official": {"root": str(tmp_path / "lists")}}
    counted = {name: cost.count_videos(name, datasets, official) for name in ("ucf101", "hmdb51", "curated", "25k")}
    assert {name: (c.train, c.test) for name, c in counted.items()} == {"ucf101": (3, 1), "hmdb51": (3, 1), "curated": (2, 1), "25k": (2, 0)}
    assert str(tmp_path / "lists" / "trainlist25k.txt") in counted["25k"].source
    computed = cost.count_videos("25k", datasets, {"source": "richness", "sizes": {"25k": 300}})
    assert (computed.train, computed.source) == (300, "dataset.splits.sizes.25k (a computed split takes that many)")
    with pytest.raises(CostError, match="trainlist02.txt does not exist"):
        cost.count_videos("ucf101", {**datasets, "ucf101": {"lists": str(tmp_path / "ucf"), "split": 2}}, official)


def test_a_count_given_in_the_config_replaces_the_lists_and_an_unknown_name_is_refused(tmp_path):
    config = load_config(TINY_CONFIG)
    config["cost"]["videos"] = {"curated": {"train": 7, "test": 1}}
    config["datasets"]["curated"]["root"] = str(tmp_path / "missing")
    assert cost.counted_videos(["curated"], config)["curated"] == cost.VideoCount(7, 1, "cost.videos.curated in the config")
    config["cost"]["videos"] = {"kinetics": {"train": 7, "test": 1}}
    with pytest.raises(CostError, match="cost.videos.kinetics: expected one of ucf101, hmdb51, curated, 25k, 100k"):
        cost.counted_videos(["curated"], config)


def test_the_defaults_are_the_readme_measurements():
    """The schema's rates and cache sizes are the README's Performance figures: re-measured there, change them here."""
    defaults = load_config(TINY_CONFIG)["cost"]
    readme = (REPO / "README.md").read_text()
    supervised = re.search(r"batch 64, AMP, one NVIDIA H200 .*?\| ([\d,]+) / ([\d,]+) clips/s", readme)
    pcl = re.search(r"PCL step, width 1, 16x112x112, AMP.*?R\(2\+1\)D-18 at 16 / 64 tuples \| [\d,]+ / ([\d,]+) clips/s; [\d,]+ / ([\d,]+) clips/s", readme)
    frames_kib = re.search(r"uint8 frames, memory-mapped \(([\d,]+) KiB/video\)", readme)
    video_kib = re.search(r"short-GOP H.264 \(([\d,]+) KiB/video\)", readme)
    number = lambda text: float(text.replace(",", ""))  # noqa: E731
    assert defaults["gpu"] in supervised.group(0)
    assert (defaults["training_clips_per_second"]["r3d"], defaults["training_clips_per_second"]["r2plus1d"]) == tuple(map(number, supervised.groups()))
    assert (defaults["pcl_clips_per_second"]["r3d"], defaults["pcl_clips_per_second"]["r2plus1d"]) == tuple(map(number, pcl.groups()))
    assert "64 frames" in readme and defaults["cache"]["short_side"] == 128
    assert defaults["cache"]["kib_per_frame"]["frames"] * 64 == number(frames_kib.group(1))
    assert defaults["cache"]["kib_per_frame"]["video"] * 64 == number(video_kib.group(1))
    camera = re.search(r"the same on camera footage .*?clips/s/core; KiB/video; PSNR \| ([\d,]+) / [\d,]+ / ([\d,]+) / ([\d,]+) / ([\d,]+) /", readme)
    per_worker = defaults["loader_clips_per_second_per_worker"]
    assert (per_worker["frames"], per_worker["jpeg"], per_worker["webp"], per_worker["video"]) == tuple(map(number, camera.groups()))
    for fmt, name in (("jpeg", "JPEG"), ("webp", "WebP")):
        kib = re.search(rf"one {name} per frame, quality 90, one file per video \(([\d,]+) KiB/video", readme)
        assert defaults["cache"]["kib_per_frame"][fmt] * 64 == number(kib.group(1)), fmt


# -- the rule -----------------------------------------------------------------------------------------
def runs_table(markdown: str) -> dict[str, dict[str, str]]:
    """The printed Runs table: run -> its columns."""
    section = markdown[markdown.index("## Runs"):markdown.index("## Videos and caches")]
    rows = [line.strip("|").split(" | ") for line in section.splitlines() if line.startswith("| ")]
    header, *body = [[cell.strip() for cell in row] for row in rows]
    return {row[0]: dict(zip(header, row)) for row in body}


def test_the_rule_names_every_run_of_every_table_on_the_tiny_world(tmp_path):
    config = load_config(TINY_CONFIG)
    out = snakemake("cost", "--cores", "1", "--configfile", str(TINY_CONFIG), workdir=tmp_path).stdout
    assert "# Cost estimate: embedded synthetic world (test)" in out
    assert "estimates for that config" in out and "width 0.125, 8x16x16 clips, batch 4" in out
    runs = runs_table(out)
    for name in result_tables.RESULT_TABLES:
        setup = config["training"]["tables"][name]
        for dataset, init in result_tables.table_spec(name, config["robustness"]["label_noise"]).runs(setup["split"]):
            folder = f"{setup['model']}/seed0/finetune/{dataset}/{init}"
            assert name in runs[folder]["tables"].split(", "), (name, folder)
    assert runs["r3d/seed0/finetune/ucf101/scratch"]["tables"] == "table3, table4"
    assert runs["r2plus1d/seed0/pretrain/ssl_100k"]["tables"] == "table5, table6, table7"
    assert runs["r3d/seed0/pretrain/ssl_25k_then_balanced_focal"]["kind"] == "pretrain_supervised"
    assert runs["r3d/seed0/pretrain/ssl_25k"]["tables"] == "table4"  # what SSL-25K + MLP-BF starts from, found through its input function
    assert (tmp_path / "results" / "cost" / "cost.md").read_text() in out
    with open(tmp_path / "results" / "cost" / "cost.csv", newline="") as handle:
        rows = {row["table"]: row for row in csv.DictReader(handle)}
    assert list(rows) == [*result_tables.RESULT_TABLES, "total"]
    assert int(rows["total"]["training_clip_steps"]) == sum(int(run["clip-steps"].replace(",", "")) for run in runs.values())
    assert int(rows["total"]["training_clip_steps"]) < sum(int(rows[name]["training_clip_steps"]) for name in result_tables.RESULT_TABLES)
    assert (tmp_path / "logs" / "cost.log").read_text().count("## Runs") == 1


@pytest.mark.skipif(not (SHARED / "data" / "noisyactions2m_official").is_dir(), reason="needs the published split lists")
def test_paper_scale_counts_the_published_lists_and_trains_nothing(tmp_path):
    """config/paper.yaml with the published lists in place of downloads and the user's datasets, the curated
    set's size given (the paper's 26,392): no crawl, no cache, no training; the numbers by hand. The lists are
    copied: they are the outputs of the download rule, which Snakemake would delete before running it again.
    They are copied as a download writes them, dated now: a copy that kept an original's older date would be
    older than scripts/download_file.py, and Snakemake reruns a rule whose outputs are older than its script."""
    lists = shutil.copytree(SHARED / "data" / "noisyactions2m_official", tmp_path / "published", copy_function=shutil.copyfile)
    overrides = tmp_path / "lists.yaml"
    overrides.write_text(yaml.safe_dump({
        "dataset": {"splits": {"official": {"root": str(lists / "multilabel")}}},
        "datasets": {"ucf101": {"lists": str(lists / "ucf101_splits")}, "hmdb51": {"lists": str(lists / "hmdb51_splits"), "format": "ucf_style"}},
        "cost": {"videos": {"curated": {"train": 26392, "test": 0}}}}))
    result = snakemake("cost", "--cores", "1", "--configfile", str(REPO / "config" / "paper.yaml"), str(overrides), workdir=tmp_path)
    assert re.findall(r"rule (\w+):", result.stdout + result.stderr) == ["cost"]
    runs = runs_table(result.stdout)
    bce = runs["r3d/seed0/pretrain/25k_bce"]
    assert (bce["training videos"], bce["clip-steps"]) == ("27,568", f"{27568 // 64 * 64 * 50:,}")  # the authors' 25K list, 50 epochs
    pcl = runs["r2plus1d/seed0/pretrain/ssl_100k"]
    assert pcl["clip-steps"] == f"{99356 // 64 * 64 * 3 * 50:,}"  # 100K's tuples of 3 clips
    ucf = runs["r2plus1d/seed0/finetune/ucf101_random/ssl_100k"]
    assert ucf["training videos"] == "9,537" and ucf["evaluation clips"] == f"{3783 * math.ceil(180 / 16) * 100:,}"
    assert "paced by the slower of it and the loader" in result.stdout and "14 loader processes" in result.stdout and "measured at width" not in result.stdout  # paper scale trains what was measured
    with open(tmp_path / "results" / "cost" / "cost.csv", newline="") as handle:
        total = {row["table"]: row for row in csv.DictReader(handle)}["total"]
    assert (total["pretrain_supervised_runs"], total["pretrain_ssl_runs"], total["finetune_runs"]) == ("6", "4", "23")
    # the README's table is this estimate: its totals may not drift from what the code computes
    readme = (REPO / "README.md").read_text()
    row = next(line for line in readme[readme.index("## What paper scale costs"):].splitlines() if line.startswith("| **total** |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[5:9] == [f"{int(total['training_clip_steps']):,}", f"{int(total['evaluation_clips']):,}",
                          f"{float(total['gpu_hours']):.1f}", f"{float(total['evaluation_gpu_hours']):.1f}"], cells


def test_a_cache_format_without_a_measured_size_is_named():
    config = load_config(TINY_CONFIG)
    config["video"]["cache"]["format"] = "frames"
    del config["cost"]["cache"]["kib_per_frame"]["frames"]
    jobs = {"table3": [{"folder": "results/r3d/seed0/finetune/ucf101/scratch", "kind": "finetune", "model": "r3d", "trains_on": "ucf101", "cache": "ucf101"}]}
    config["cost"]["videos"] = {"ucf101": {"train": 10, "test": 2}}
    with pytest.raises(CostError, match="cost.cache.kib_per_frame.frames: no measured size"):
        cost.estimate_config(jobs, {"ucf101": "ucf101"}, config, {"r3d": 100, "r2plus1d": 100}, "stamp")
