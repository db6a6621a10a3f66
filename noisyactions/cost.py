"""What Tables 3-7 cost before anything is trained: training clip-steps, evaluation clips, GPU-hours at a
measured step rate, and disk, per table and in total (`snakemake cost`, results/cost/cost.{md,csv}).

A dry run says which jobs a config makes, not what they take; a paper-scale config is tens of GPU-hours,
so a user should know that before submitting it. The jobs are found as Snakemake finds them: from each
table's result files through the training rules' own input functions (`training_jobs`, called by
workflow/rules/cost.smk), so they are the runs `snakemake <table>` trains. The rest is arithmetic:

- a run is its output folder (results/<model>/seed<seed>/...): a folder in two tables (Table 4's "None" row
  is Table 3's scratch run) is one run, counted once in the total;
- an epoch takes floor(videos / batch) full batches (the trainer drops the last partial one), or a single
  short batch when there are fewer videos than a batch;
- a PCL tuple is tuple_length clips through the backbone: that many clip-steps, at PCL's measured rate;
- fine-tuning evaluates its whole test list after every epoch, forward only: a clip costs a third of a
  training clip-step, whose forward and backward passes are three forwards' work (noisyactions.training.flops);
- disk: each cache the runs read (videos x frames per video x the cache format's size per frame), and each
  run's checkpoints in fp32 (best.pt: the weights; checkpoint.pt: weights, SGD momentum and PCL's memory banks).

Pure Python (no torch): the Snakefile imports it to find the jobs, and the tests check its arithmetic by hand.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Iterable

from noisyactions.atomic import atomic_write_text
from noisyactions.label_lists import label_list_paths
from noisyactions.training.evaluation_epochs import evaluation_epochs
from noisyactions.training.geometry import clip_geometry
from noisyactions.training.inits import parse_init
from noisyactions.training.model_names import MODEL_NAMES
from noisyactions.video.clips import evaluation_clips

KINDS = ("pretrain_supervised", "pretrain_ssl", "finetune")
DOWNSTREAM = ("ucf101", "hmdb51", "curated")  # the sets counted from their own lists; the rest are NoisyActions splits
EVALUATION_SHARE = 1 / 3  # a forward pass per clip, of the three a training step's work counts (flops.TRAINING_STEP_FORWARDS)
FLOAT32_BYTES = 4
CHECKPOINT_COPIES = 3  # best.pt's weights, and checkpoint.pt's weights and SGD momentum


class CostError(ValueError):
    pass


# -- the jobs, as the workflow's input functions find them ------------------------------------------
def cache_contents(cached_sets: Iterable[str], corrupted_sets: Iterable[str], largest_split: str) -> dict[str, str]:
    """Whose videos each cache holds (the cache rule's inputs): a corrupted copy of UCF101 holds UCF101's,
    the NoisyActions cache the largest split's (the smaller splits are its subsets)."""
    corrupted = set(corrupted_sets)
    return {name: largest_split if name == "noisyactions" else "ucf101" if name in corrupted else name for name in cached_sets}


def _cache_name(cache_index: str) -> str:
    return Path(cache_index).parent.name  # results/cache/<name>/index.parquet


def _finetuning(result: str, finetune_inputs: Callable, contents: dict[str, str]) -> tuple[dict, list[str]]:
    _, model, seed, _, dataset, init, _ = Path(result).parts  # results/<model>/seed<seed>/finetune/<set>/<init>/result.json
    inputs = finetune_inputs(SimpleNamespace(model=model, seed=seed.removeprefix("seed"), finetuned=dataset, init=init))
    cache = _cache_name(inputs["cache"])
    job = {"folder": str(Path(result).parent), "kind": "finetune", "model": model, "trains_on": contents[cache], "cache": cache}
    return job, list(inputs["pretrained"])


def _pretraining(weights: str, supervised_inputs: Callable, ssl_inputs: Callable, splits: list[str]) -> tuple[dict, list[str]]:
    _, model, seed, _, init, _ = Path(weights).parts  # results/<model>/seed<seed>/pretrain/<init>/best.pt
    wildcards = {"model": model, "seed": seed.removeprefix("seed")}
    parsed = parse_init(init, splits)
    if parsed.split:  # supervised, from scratch or from SSL's weights
        inputs = supervised_inputs(SimpleNamespace(**wildcards, supervised=init))
        kind, trains_on, starts_from = "pretrain_supervised", parsed.split, list(inputs["initial"])
    else:
        inputs = ssl_inputs(SimpleNamespace(**wildcards, source=parsed.ssl_source))  # a split, or a downstream set's training videos
        kind, trains_on, starts_from = "pretrain_ssl", parsed.ssl_source, []
    return {"folder": str(Path(weights).parent), "kind": kind, "model": model, "trains_on": trains_on, "cache": _cache_name(inputs["cache"])}, starts_from


def training_jobs(result_files: dict[str, list[str]], finetune_inputs: Callable, supervised_inputs: Callable, ssl_inputs: Callable,
                  splits: list[str], contents: dict[str, str]) -> dict[str, list[dict]]:
    """Per table (its result files, common.smk's table_results): every training job behind it, each once: its
    fine-tunings, the pretrainings they start from and theirs in turn (SSL before supervised), found through the
    training rules' input functions. A job: its output folder, kind, model, the dataset or split whose training
    videos it trains on (`trains_on`, a key of the video counts) and the cache it reads."""
    tables = {}
    for table, results in result_files.items():
        jobs, weights = {}, []
        for result in results:
            job, starts_from = _finetuning(result, finetune_inputs, contents)
            jobs.setdefault(job["folder"], job)
            weights += starts_from
        while weights:
            job, starts_from = _pretraining(weights.pop(0), supervised_inputs, ssl_inputs, splits)
            if job["folder"] not in jobs:
                jobs[job["folder"]] = job
                weights += starts_from
        tables[table] = list(jobs.values())
    return tables


# -- how many videos, read from the lists the caches will read --------------------------------------
@dataclass(frozen=True)
class VideoCount:
    train: int
    test: int
    source: str  # where the numbers come from, printed beside them


def _listing(path: Path) -> Path:
    """`path`, which a video count reads, or an error naming it."""
    if not path.is_file():
        raise CostError(f"{path} does not exist (the video count reads it; or give the count in cost.videos)")
    return path


def _non_empty_lines(path: Path) -> int:
    return sum(1 for line in _listing(path).read_text(encoding="utf-8", errors="replace").splitlines() if line.strip())


def _csv_rows(path: Path) -> int:
    with open(_listing(path), newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def _hmdb51_official_count(folder: Path, split: int) -> tuple[int, int]:
    files = sorted(folder.glob(f"*_test_split{split}.txt"))
    if not files:
        raise CostError(f"{folder} has no *_test_split{split}.txt files (datasets.hmdb51.lists; or give the count in cost.videos)")
    tags = [line.split()[-1] for path in files for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return tags.count("1"), tags.count("2")


def count_files(name: str, datasets: dict, splits: dict) -> list[str]:
    """The files a dataset's or split's count reads (the cost rule's inputs): UCF101's and HMDB51's split lists,
    the curated set's CSVs, the authors' list of a split (source official; downloaded when missing); none for a
    split computed here, whose size is the config's. HMDB51's official format is its folder of per-class files."""
    if name in ("ucf101", "hmdb51"):
        setup = datasets[name]
        if name == "hmdb51" and setup["format"] == "official":
            return [setup["lists"]]
        return [str(Path(setup["lists"]) / f"{kind}list0{setup['split']}.txt") for kind in ("train", "test")]
    if name == "curated":
        return [str(Path(datasets["curated"]["root"]) / f"{kind}.csv") for kind in ("train", "val")]
    if splits["source"] == "official":
        return [str(label_list_paths(splits["official"]["root"], name)[0])]
    return []


def count_videos(name: str, datasets: dict, splits: dict) -> VideoCount:
    """Training and test videos of a downstream set (its split lists) or a NoisyActions split (the authors' list,
    or the configured size of a computed one): what is listed, an upper bound on what trains (a vanished or
    undecodable video, a class under the label rule, train nothing)."""
    files = [Path(path) for path in count_files(name, datasets, splits)]
    if name == "hmdb51" and datasets["hmdb51"]["format"] == "official":
        return VideoCount(*_hmdb51_official_count(files[0], datasets["hmdb51"]["split"]), f"list sizes in {files[0]}/*_test_split{datasets['hmdb51']['split']}.txt")
    if name == "curated":
        return VideoCount(_csv_rows(files[0]), _csv_rows(files[1]), f"list sizes in {files[0]}, {files[1].name}")
    if name in DOWNSTREAM:
        return VideoCount(_non_empty_lines(files[0]), _non_empty_lines(files[1]), f"list sizes in {files[0]}, {files[1].name}")
    if name not in splits["sizes"]:
        raise CostError(f"split {name!r} is not in dataset.splits.sizes ({', '.join(splits['sizes'])})")
    if files:
        return VideoCount(_non_empty_lines(files[0]), 0, f"list size of {files[0]}")
    return VideoCount(splits["sizes"][name], 0, f"dataset.splits.sizes.{name} (a computed split takes that many)")


def counted_videos(names: Iterable[str], config: dict) -> dict[str, VideoCount]:
    """Each name's count: the one given in cost.videos, else its lists (count_videos)."""
    given = config["cost"]["videos"]
    known = (*DOWNSTREAM, *config["dataset"]["splits"]["sizes"])
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise CostError(f"cost.videos.{unknown[0]}: expected one of {', '.join(known)}")
    return {name: VideoCount(given[name]["train"], given[name]["test"], f"cost.videos.{name} in the config") if name in given
            else count_videos(name, config["datasets"], config["dataset"]["splits"]) for name in sorted(set(names))}


def counted_names(jobs: dict[str, list[dict]], contents: dict[str, str]) -> set[str]:
    """The datasets and splits whose videos the jobs train on or their caches hold."""
    every_job = [job for table in jobs.values() for job in table]
    return {job["trains_on"] for job in every_job} | {contents[job["cache"]] for job in every_job}


def count_inputs(jobs: dict[str, list[dict]], contents: dict[str, str], config: dict, world_folder: Callable[[str], list[str]]) -> list[str]:
    """The cost rule's inputs: the lists its video counts read (count_files) for every dataset and split the jobs
    and their caches hold, or, in the embedded world, the folder of a downstream set (its lists are inside);
    nothing for a count given in cost.videos."""
    files = []
    for name in sorted(counted_names(jobs, contents) - set(config["cost"]["videos"])):
        if name in DOWNSTREAM and config["world"]["enabled"]:
            files += world_folder(name)
        else:
            files += count_files(name, config["datasets"], config["dataset"]["splits"])
    return files


# -- the arithmetic -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    """One training job, named by its output folder: the same folder in two tables is one job."""

    folder: str
    kind: str  # one of KINDS
    model: str  # r3d | r2plus1d
    trains_on: str
    training_videos: int
    epochs: int
    batch_size: int
    clips_per_item: int = 1  # PCL trains on tuples of this many clips
    test_videos: int = 0  # fine-tuning evaluates them after some epochs ...
    test_clips_per_video: int = 0  # ... each as this many clips ...
    evaluated_epochs: int = 0  # ... this many times
    cache: str = ""
    checkpoint_bytes: int = 0

    @property
    def items_per_epoch(self) -> int:
        if self.training_videos < self.batch_size:
            return self.training_videos
        return self.training_videos // self.batch_size * self.batch_size

    @property
    def clip_steps(self) -> int:
        return self.items_per_epoch * self.clips_per_item * self.epochs

    @property
    def evaluation_clips(self) -> int:
        return self.test_videos * self.test_clips_per_video * self.evaluated_epochs


@dataclass(frozen=True)
class Rates:
    """Measured clips per second of one training step per model: the supervised step (pretraining and
    fine-tuning) and PCL's; and what the loader's workers deliver (None: not a limit), since a clip
    takes as long as the slower of the two."""

    gpu: str
    supervised: dict[str, float]
    pcl: dict[str, float]
    loader: float | None = None

    def _paced(self, rate: float) -> float:
        return rate if self.loader is None else min(rate, self.loader)

    def evaluation_hours(self, run: Run) -> float:
        """Forward only: a clip at a third of a training step's GPU time, unless the loader is slower."""
        return run.evaluation_clips / self._paced(self.supervised[run.model] / EVALUATION_SHARE) / 3600

    def gpu_hours(self, run: Run) -> float:
        """Training and evaluation."""
        training = run.clip_steps / self._paced((self.pcl if run.kind == "pretrain_ssl" else self.supervised)[run.model])
        return training / 3600 + self.evaluation_hours(run)


@dataclass(frozen=True)
class Cost:
    runs: dict[str, int]  # kind -> how many
    clip_steps: int
    evaluation_clips: int
    gpu_hours: float
    evaluation_hours: float  # of gpu_hours
    cache_bytes: int
    checkpoint_bytes: int

    @property
    def disk_bytes(self) -> int:
        return self.cache_bytes + self.checkpoint_bytes


def distinct(runs: Iterable[Run]) -> list[Run]:
    """Each run once, by folder; two different runs claiming one folder is a bug in whoever listed them."""
    seen: dict[str, Run] = {}
    for run in runs:
        if seen.setdefault(run.folder, run) != run:
            raise CostError(f"{run.folder}: two different runs write this folder ({seen[run.folder]} and {run})")
    return list(seen.values())


def cost_of(runs: Iterable[Run], cache_bytes: dict[str, int], rates: Rates) -> Cost:
    """What `runs` take together, each run and each cache they read once."""
    runs = distinct(runs)
    caches = {run.cache for run in runs if run.cache}
    if caches - cache_bytes.keys():
        raise CostError(f"no size for cache {sorted(caches - cache_bytes.keys())[0]!r}")
    return Cost({kind: sum(run.kind == kind for run in runs) for kind in KINDS}, sum(run.clip_steps for run in runs),
                sum(run.evaluation_clips for run in runs), sum(rates.gpu_hours(run) for run in runs), sum(rates.evaluation_hours(run) for run in runs),
                sum(cache_bytes[name] for name in caches), sum(run.checkpoint_bytes for run in runs))


TOTAL = "total"


def costs(tables: dict[str, list[Run]], cache_bytes: dict[str, int], rates: Rates) -> dict[str, Cost]:
    """Each table's cost and, under TOTAL, all tables' with a run (or cache) two tables share counted once."""
    return {**{name: cost_of(runs, cache_bytes, rates) for name, runs in tables.items()},
            TOTAL: cost_of([run for runs in tables.values() for run in runs], cache_bytes, rates)}


def clips_per_test_video(frames: int, clip_length: int, mode: str, count: int) -> int:
    """Clips of a test video of `frames` frames: what testing takes (video.clips.evaluation_clips)."""
    return len(evaluation_clips(frames, clip_length, mode, count))


def cache_bytes(videos: int, frames_per_video: int, kib_per_frame: float, short_side: int, measured_short_side: int) -> int:
    """The cache keeps every frame at `short_side`; a frame's size goes with its area."""
    return round(videos * frames_per_video * kib_per_frame * 1024 * (short_side / measured_short_side) ** 2)


def checkpoint_bytes(parameters: int, memory_bank_values: int = 0) -> int:
    """What a finished run leaves, in fp32: best.pt's weights, checkpoint.pt's weights and momentum (and banks)."""
    return FLOAT32_BYTES * (CHECKPOINT_COPIES * parameters + memory_bank_values)


# -- a config's estimate ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CacheSize:
    videos: int
    frames_per_video: int
    format: str
    bytes: int


@dataclass(frozen=True)
class Estimate:
    title: str
    stamp: str
    setups: dict[str, dict]  # table -> its model and split (training.tables)
    tables: dict[str, list[Run]]
    costs: dict[str, Cost]
    counts: dict[str, VideoCount]
    frames: dict[str, int]
    caches: dict[str, CacheSize]
    rates: Rates
    notes: list[str]


def frames_per_video(name: str, config: dict) -> int:
    """Every embedded-world video has world.video.frames; at paper scale cost.frames_per_video's mean (a split's
    is NoisyActions')."""
    if config["world"]["enabled"]:
        return config["world"]["video"]["frames"]
    return config["cost"]["frames_per_video"]["noisyactions" if name not in DOWNSTREAM else name]


def _run(job: dict, config: dict, counts: dict[str, VideoCount], frames: dict[str, int], parameters: dict[str, int]) -> Run:
    training, video = config["training"], config["video"]
    videos, kind = counts[job["trains_on"]], job["kind"]
    common = dict(folder=job["folder"], kind=kind, model=job["model"], trains_on=job["trains_on"], training_videos=videos.train,
                  batch_size=training["batch_size"], cache=job["cache"])
    if kind == "pretrain_ssl":
        ssl = training["ssl"]
        bank = 2 * videos.train * ssl["projection_dim"]  # a memory bank per view, a row per video
        return Run(**common, epochs=ssl["epochs"], clips_per_item=ssl["tuple_length"], checkpoint_bytes=checkpoint_bytes(parameters[job["model"]], bank))
    if kind == "pretrain_supervised":
        return Run(**common, epochs=training["pretrain"]["epochs"], checkpoint_bytes=checkpoint_bytes(parameters[job["model"]]))
    clip_length = clip_geometry(video, training)["clip_length"]
    finetune = training["finetune"]
    return Run(**common, epochs=finetune["epochs"], test_videos=videos.test, evaluated_epochs=len(evaluation_epochs(finetune["epochs"], finetune["evaluate_every"])),
               test_clips_per_video=clips_per_test_video(frames[job["trains_on"]], clip_length, video["test_clips"], video["test_clip_count"]),
               checkpoint_bytes=checkpoint_bytes(parameters[job["model"]]))


def _setting_note(config: dict) -> str | None:
    """Says so when this config trains another model or clip than the rates were measured on."""
    training, measured = config["training"], config["cost"]["measured_at"]
    geometry = clip_geometry(config["video"], training)
    ours = (training["width"], geometry["clip_length"], geometry["crop"], training["batch_size"])
    theirs = (measured["width"], measured["clip_length"], measured["crop"], measured["batch_size"])
    if ours == theirs:
        return None
    return (f"This config trains width {ours[0]:g}, {ours[1]}x{ours[2]}x{ours[2]} clips, batch {ours[3]}; the rates were measured at width "
            f"{theirs[0]:g}, {theirs[1]}x{theirs[2]}x{theirs[2]}, batch {theirs[3]}: its GPU-hours are its clip-steps at that step's cost, "
            "an estimate for this config, not a measurement of it (a smaller model's steps are cheaper).")


def estimate_config(jobs: dict[str, list[dict]], contents: dict[str, str], config: dict, parameters: dict[str, int], stamp: str) -> Estimate:
    """The estimate for a config: `jobs` and `contents` from training_jobs and cache_contents, `config` the
    validated config's sections, `parameters` each model's backbone parameters at training.width."""
    cost, video = config["cost"], config["video"]
    counts = counted_videos(counted_names(jobs, contents), config)
    frames = {name: frames_per_video(name, config) for name in counts}
    tables = {table: [_run(job, config, counts, frames, parameters) for job in table_jobs] for table, table_jobs in jobs.items()}
    fmt, short_side = video["cache"]["format"], video["cache"]["short_side"]
    kib_per_frame = _measured(cost["cache"]["kib_per_frame"], "cost.cache.kib_per_frame", fmt, "size")
    caches = {}
    for name in sorted({run.cache for runs in tables.values() for run in runs}):
        held = counts[contents[name]]
        videos = held.train + held.test
        caches[name] = CacheSize(videos, frames[contents[name]], fmt, cache_bytes(videos, frames[contents[name]], kib_per_frame, short_side, cost["cache"]["short_side"]))
    per_worker = _measured(cost["loader_clips_per_second_per_worker"], "cost.loader_clips_per_second_per_worker", fmt, "rate")
    rates = Rates(cost["gpu"], cost["training_clips_per_second"], cost["pcl_clips_per_second"], per_worker * _loader_processes(config["training"]["workers"]))
    notes = _notes(config, rates)
    return Estimate(f"Cost estimate: {config['label']}", stamp, {name: config["training"]["tables"][name] for name in tables}, tables,
                    costs(tables, {name: size.bytes for name, size in caches.items()}, rates), counts, frames, caches, rates, notes)


def _measured(figures: dict[str, float], key: str, fmt: str, what: str) -> float:
    """A figure measured per cache format (`figures`, the config's `key`) for `fmt`, or an error naming the key."""
    if fmt not in figures:
        raise CostError(f"{key}.{fmt}: no measured {what} for video.cache.format {fmt} (benchmarks/video_loading.py measures it)")
    return figures[fmt]


def _loader_processes(workers: int) -> int:
    """The processes that read a training job's clips: its loader workers, or with none the training process."""
    return max(workers, 1)


def _per_model(rates: dict[str, float]) -> str:
    return ", ".join(f"{MODEL_NAMES[model]} {rates[model]:,g}" for model in MODEL_NAMES)


def _evaluated(every: int) -> str:
    return "every fine-tuning epoch" if every == 1 else f"every {every}th fine-tuning epoch and the last (training.finetune.evaluate_every)"


def _notes(config: dict, rates: Rates) -> list[str]:
    cost, video = config["cost"], config["video"]
    notes = [
        f"GPU-hours: the clip-steps at the step rates measured on one {rates.gpu} (cost.gpu; {cost['measurement']}): supervised "
        f"{_per_model(rates.supervised)} clips/s, PCL {_per_model(rates.pcl)} clips/s (cost.training_clips_per_second, cost.pcl_clips_per_second). "
        "These are the pure training step; each clip is paced by the slower of it and the loader: "
        f"{video['cache']['format']} cache, {_loader_processes(config['training']['workers'])} loader processes (training.workers) at "
        f"{cost['loader_clips_per_second_per_worker'][video['cache']['format']]:,g} clips/s each (cost.loader_clips_per_second_per_worker), "
        f"{rates.loader:,g} clips/s. Checkpointing, the loader's start (once per run) and job start are not counted, so the hours are a floor.",
        f"Evaluation clips: after {_evaluated(config['training']['finetune']['evaluate_every'])}, every test video as "
        + ("its back-to-back windows of the training clip (frames per video / clip length, rounded up)" if video["test_clips"] == "windows"
           else f"{video['test_clip_count']} clips")
        + ", forward only: each a third of a training clip-step's GPU time, or the loader's time for it when that is longer.",
        "Videos: where each count comes from is in the table below; a list's size is what is listed, an upper bound on what trains "
        "(a vanished Flickr video, an undecodable file, a class under the label rule train nothing). Frames per video: "
        + ("world.video.frames, every embedded-world video's." if config["world"]["enabled"]
           else "cost.frames_per_video, the datasets' published mean lengths, some at an assumed frame rate (the schema says which)."),
        f"Disk: the caches the runs read ({video['cache']['format']} at short side {video['cache']['short_side']}: "
        f"{cost['cache']['kib_per_frame'][video['cache']['format']]:g} KiB a frame at short side {cost['cache']['short_side']}, cost.cache, "
        "scaled by area) and every run's checkpoints (fp32: best.pt's weights, checkpoint.pt's weights and SGD momentum, PCL's memory "
        "banks; the backbone's parameters, not the classifier's). Not counted: the source videos (the crawl's downloads, the unpacked "
        "datasets, Table 7's corrupted copies of UCF101's files), logs and metrics.",
    ]
    if config["world"]["enabled"]:
        notes.append("This is the embedded synthetic world's config: its figures are estimates for that config, not the paper's.")
    setting = _setting_note(config)
    return notes + ([setting] if setting else [])


# -- the report ----------------------------------------------------------------------------------------
def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TiB"


def _hours(hours: float) -> str:
    return f"{hours:,.1f}" if hours >= 1 else f"{hours:.2g}"


def _row(cells: Iterable) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _table(header: list[str], rows: list[list]) -> list[str]:
    return [_row(header), "|" + "|".join("---" for _ in header) + "|", *(_row(row) for row in rows)]


def _run_name(folder: str) -> str:
    return folder.removeprefix("results/")


def markdown(estimate: Estimate) -> str:
    """The summary table (a row per table, then the total), the notes, every run with the tables it serves,
    and the video counts and caches behind them."""
    header = ["table", "model, split", "supervised pretrainings", "PCL pretrainings", "fine-tunings", "training clip-steps",
              "evaluation clips", "GPU-hours", "of which evaluation", "caches", "checkpoints", "disk"]
    rows = []
    for name, cost in estimate.costs.items():
        setup = estimate.setups.get(name)
        label = f"{MODEL_NAMES[setup['model']]}, {setup['split']}" if setup else "all tables, a shared run once"
        rows.append([name if setup else f"**{TOTAL}**", label, *(cost.runs[kind] for kind in KINDS), f"{cost.clip_steps:,}",
                     f"{cost.evaluation_clips:,}", _hours(cost.gpu_hours), _hours(cost.evaluation_hours), _bytes(cost.cache_bytes), _bytes(cost.checkpoint_bytes),
                     _bytes(cost.disk_bytes)])
    lines = [f"# {estimate.title}", "", estimate.stamp, "", *_table(header, rows), "", *(f"- {note}" for note in estimate.notes)]
    serves: dict[str, list[str]] = {}
    for name, runs in estimate.tables.items():
        for run in runs:
            serves.setdefault(run.folder, []).append(name)
    lines += ["", "## Runs", ""]
    lines += _table(["run", "kind", "trains on", "training videos", "epochs", "clip-steps", "evaluation clips", "GPU-hours", "tables"],
                    [[_run_name(run.folder), run.kind, run.trains_on, f"{run.training_videos:,}", run.epochs, f"{run.clip_steps:,}",
                      f"{run.evaluation_clips:,}", _hours(estimate.rates.gpu_hours(run)), ", ".join(serves[run.folder])]
                     for run in distinct(run for runs in estimate.tables.values() for run in runs)])
    lines += ["", "## Videos and caches", ""]
    lines += _table(["dataset", "training videos", "test videos", "frames per video", "counted from"],
                    [[name, f"{count.train:,}", f"{count.test:,}", f"{estimate.frames[name]:,}", count.source] for name, count in estimate.counts.items()])
    lines += [""]
    lines += _table(["cache", "videos", "frames per video", "format", "size"],
                    [[name, f"{size.videos:,}", f"{size.frames_per_video:,}", size.format, _bytes(size.bytes)] for name, size in estimate.caches.items()])
    return "\n".join(lines) + "\n"


CSV_COLUMNS = ("table", "model", "split", *(f"{kind}_runs" for kind in KINDS), "training_clip_steps", "evaluation_clips", "gpu_hours",
               "evaluation_gpu_hours", "gpu", "cache_bytes", "checkpoint_bytes", "disk_bytes")


def csv_text(estimate: Estimate) -> str:
    """The summary table's numbers unrounded, a row per table and the total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for name, cost in estimate.costs.items():
        setup = estimate.setups.get(name, {"model": "", "split": ""})
        writer.writerow([name, setup["model"], setup["split"], *(cost.runs[kind] for kind in KINDS), cost.clip_steps, cost.evaluation_clips,
                         f"{cost.gpu_hours:.6g}", f"{cost.evaluation_hours:.6g}", estimate.rates.gpu, cost.cache_bytes, cost.checkpoint_bytes, cost.disk_bytes])
    return out.getvalue()


def write_estimate(estimate: Estimate, outputs: dict[str, Path]) -> str:
    """results/cost/cost.md and cost.csv, each whole or not at all; returns the Markdown."""
    text = markdown(estimate)
    atomic_write_text(outputs["md"], text)
    atomic_write_text(outputs["csv"], csv_text(estimate))
    return text
