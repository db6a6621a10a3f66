# Helpers and input functions only: no rules here.
import functools
import os
from pathlib import Path

from noisyactions.config import validate
from noisyactions.cost import cache_contents, count_inputs, training_jobs
from noisyactions.label_lists import label_list_paths
from noisyactions.tables import TABLE_KINDS
from noisyactions.training.inits import every_init, parse_init, ssl_sources, supervised_inits
from noisyactions.training import result_tables
from noisyactions.world.concepts import CONVENTIONS
from noisyactions.world.layout import WorldLayout

# One validator for the Snakefile, tests and tools: defaults filled, one-line errors naming the key.
validate(config, schema=workflow.source_path("../schemas/config.schema.yaml"), source="config")

WORLD = WorldLayout(config["world"]["root"])
DOWNSTREAM_SETS = ("ucf101", "hmdb51", "curated")


wildcard_constraints:
    dataset="|".join(DOWNSTREAM_SETS),
    convention="|".join(CONVENTIONS),


def world_outputs():
    """Everything the embedded world is made of: the web corpus, its videos, class lists, downstream sets."""
    return [
        str(WORLD.web_metadata),
        str(WORLD.web_videos),
        *[str(WORLD.class_lists / f"{c}.txt") for c in CONVENTIONS],
        *[str(WORLD.downstream(name)) for name in DOWNSTREAM_SETS],
    ]


def get_final_output():
    """The artefacts `snakemake all` builds for this config (stages add theirs as they land)."""
    outputs = []
    if config["world"]["enabled"]:
        outputs += world_outputs()
    outputs += [f"{CRAWL}/metadata.parquet", f"{CRAWL}/report.md", f"{DOWNLOAD}/videos.parquet", f"{DOWNLOAD}/report.md"]
    outputs += dataset_outputs()
    outputs += [f"{CACHE}/{name}/index.parquet" for name in DATASETS_CACHED]
    outputs += [path for name in result_tables.RESULT_TABLES for path in [*table_files(name).values(), *figure_files(f"{name}_runs").values()]]
    outputs += [*robustness_reports(), *claims_files().values()]
    outputs += paper_outputs()
    return outputs


# -- crawl -------------------------------------------------------------------------------------------
CRAWL = "results/crawl"
DOWNLOAD = "results/download"


wildcard_constraints:
    shard=r"\d{5}",


def embedded_flickr_inputs(wildcards=None):
    """The files the embedded Flickr server serves, when the crawl talks to it (flickr.rest_url null)."""
    if config["flickr"]["rest_url"]:
        return []
    return [str(WORLD.web_metadata), str(WORLD.web_videos)]


def crawl_plan_inputs(wildcards=None):
    crawl = config["crawl"]
    if crawl["mode"] == "ids":
        files = [crawl["ids_file"]] + ([crawl["ids_class_index"]] if crawl["ids_class_index"] else [])
        return {"ids": files, "server": embedded_flickr_inputs()}
    return {"queries": f"{CRAWL}/queries.tsv", "server": embedded_flickr_inputs()}


def crawl_shards():
    """The shard ids the plan (a checkpoint) produced."""
    plan_dir = checkpoints.crawl_plan.get().output.plan
    return sorted(glob_wildcards(os.path.join(plan_dir, "shard-{shard}.parquet")).shard)


def crawl_shard_files(kind):
    """Input function: every metadata shard's table or stats file."""
    suffix = ".parquet" if kind == "table" else "_stats.json"
    return lambda wildcards: [f"{CRAWL}/metadata/shard-{s}{suffix}" for s in crawl_shards()]


def download_shard_files(kind):
    suffix = ".parquet" if kind == "table" else "_stats.json"
    return lambda wildcards: [f"{DOWNLOAD}/shard-{s}{suffix}" for s in crawl_shards()]


# -- dataset -----------------------------------------------------------------------------------------
VOCABULARY = "results/vocabulary"
DATASET = "results/dataset"
TABLES = "results/tables"
FIGURES = "results/figures"
SPLIT_NAMES = list(config["dataset"]["splits"]["sizes"])


def class_list_url(wildcards):
    """The url a missing class list is downloaded from (vocabulary.class_lists[].url)."""
    path = f"resources/class_vocab/{wildcards.file}"
    for entry in config["vocabulary"]["class_lists"]:
        if entry["path"] == path:
            return entry["url"]
    return None


def table_files(name):
    return {kind: f"{TABLES}/{name}.{kind}" for kind in TABLE_KINDS}


def reported_table_files(name):
    """A table's files, its HTML shown by `snakemake --report` under its section of the paper."""
    files = table_files(name)
    return {**files, "html": report(files["html"], caption=f"../report/{name}.rst", category=REPORT_SECTIONS[name],
                                    labels={"artefact": name, "kind": "table"})}


def figure_files(name):
    return {kind: f"{FIGURES}/{name}.{kind}" for kind in ("pdf", "png")}


def label_list_files(folder, name):
    """A split's trainlist and classInd files in `folder`, named where the package names them."""
    return [str(path) for path in label_list_paths(folder, name)]


def split_files():
    return [path for name in SPLIT_NAMES for path in label_list_files("results/splits", name)]


def split_report_files():
    """Per split: videos listed, found, missing and dropped by the label rule (official lists), or the sizes."""
    return {kind: f"results/splits/coverage.{kind}" for kind in ("csv", "json", "md")}


OFFICIAL_SPLITS = config["dataset"]["splits"]["official"]
# The schema requires the root when the source is official; normalised as the list paths are, so the
# download rule's output and the splits' inputs name the same files.
OFFICIAL_LISTS_ROOT = str(Path(OFFICIAL_SPLITS["root"])) if config["dataset"]["splits"]["source"] == "official" else None


def official_split_lists():
    """The authors' lists that the splits read when the source is official; missing ones are downloaded."""
    if not OFFICIAL_LISTS_ROOT:
        return []
    return [path for name in SPLIT_NAMES for path in label_list_files(OFFICIAL_LISTS_ROOT, name)]


def official_list_url(wildcards):
    url = OFFICIAL_SPLITS["url"]
    return f"{url.rstrip('/')}/{wildcards.file}" if url else None


def dataset_outputs():
    """Tables 1-2, Figures 1-5 and the splits."""
    return [
        *table_files("table1").values(),
        *table_files("table2").values(),
        *[path for n in range(1, 6) for path in figure_files(f"figure{n}").values()],
        *split_files(),
        *split_report_files().values(),
    ]


# -- video -------------------------------------------------------------------------------------------
CACHE = "results/cache"
CORRUPTION_MODES = ("random", "contiguous")
CORRUPTED_SETS = tuple(f"ucf101_{mode}" for mode in CORRUPTION_MODES)  # UCF101 with corrupted files (robustness.smk)
DATASETS_CACHED = ("ucf101", "hmdb51", "curated", "noisyactions")  # the `cache` target: every dataset, as published
CACHED_SETS = (*DATASETS_CACHED, *CORRUPTED_SETS)


wildcard_constraints:
    cached="|".join(CACHED_SETS),


def largest_split():
    sizes = config["dataset"]["splits"]["sizes"]
    return max(sizes, key=sizes.get)


def world_dataset(name):
    """The embedded world's folder of a downstream set, when the world is on (else the configured folders are the user's)."""
    return [str(WORLD.downstream(name))] if config["world"]["enabled"] else []


def cache_inputs(wildcards):
    """What a dataset's cache is built from: the embedded world's folder, the dataset table and split, or
    a corrupted copy of UCF101's videos."""
    if wildcards.cached == "noisyactions":
        name = largest_split()
        return {"table": f"{DATASET}/noisyactions.parquet", "split": label_list_files("results/splits", name)}
    if wildcards.cached in CORRUPTED_SETS:
        return {"videos": corrupted_videos(wildcards.cached), "world": world_dataset("ucf101")}
    return {"world": world_dataset(wildcards.cached)}


# -- training ----------------------------------------------------------------------------------------
# Every run lives under results/<model>/seed<seed>/: pretrain/<init>/ and finetune/<dataset>/<init>/, an init named as
# noisyactions.training.inits names it (scratch, 25k_bce, ssl_ucf101, ssl_25k_then_balanced_focal, ...).
MODELS = ("r3d", "r2plus1d")
NOISY_SETS = {result_tables.noisy_set(rate): rate for rate in config["robustness"]["label_noise"]["rates"]}
FINETUNE_SETS = ("ucf101", "hmdb51", *NOISY_SETS, *CORRUPTED_SETS)
SUPERVISED = [init.name for init in supervised_inits(SPLIT_NAMES)]


wildcard_constraints:
    table="|".join(result_tables.RESULT_TABLES),
    model="|".join(MODELS),
    finetuned="|".join(FINETUNE_SETS),
    supervised="|".join(SUPERVISED),
    source="|".join(ssl_sources(SPLIT_NAMES)),
    init="|".join(init.name for init in every_init(SPLIT_NAMES)),


SEEDS = [config["training"]["seed"] + repeat for repeat in range(config["training"]["repeats"])]


wildcard_constraints:
    seed=r"\d+",


def pretrained_weights(model, seed, init):
    return f"results/{model}/seed{seed}/pretrain/{init}/best.pt"


def supervised_inputs(wildcards):
    """A supervised pretraining reads its split through the NoisyActions cache, after SSL when it says so."""
    init = parse_init(wildcards.supervised, SPLIT_NAMES)
    return {"table": f"{DATASET}/noisyactions.parquet", "split": label_list_files("results/splits", init.split),
            "cache": f"{CACHE}/noisyactions/index.parquet",
            "initial": [pretrained_weights(wildcards.model, wildcards.seed, f"ssl_{init.ssl_source}")] if init.ssl_source else []}


def ssl_inputs(wildcards):
    """A downstream set's cache (its train split is used), or a NoisyActions split through its cache."""
    if wildcards.source in SPLIT_NAMES:
        return {"cache": f"{CACHE}/noisyactions/index.parquet", "table": [f"{DATASET}/noisyactions.parquet"],
                "split": label_list_files("results/splits", wildcards.source)}
    return {"cache": f"{CACHE}/{wildcards.source}/index.parquet", "table": [], "split": []}


def finetune_inputs(wildcards):
    """A fine-tuning run's cache, its pretrained weights (none from scratch) and, on a noisy copy of
    UCF101, the noisy training list (UCF101's cache, other training labels)."""
    noisy = wildcards.finetuned in NOISY_SETS
    cached = "ucf101" if noisy else wildcards.finetuned
    return {"cache": f"{CACHE}/{cached}/index.parquet", "classes": f"{CACHE}/{cached}/classes.txt",
            "pretrained": [pretrained_weights(wildcards.model, wildcards.seed, wildcards.init)] if parse_init(wildcards.init, SPLIT_NAMES).pretrained else [],
            "train_labels": [noisy_lists(wildcards.finetuned)[k] for k in ("trainlist", "class_index")] if noisy else []}


def table_results(name):
    """The fine-tuning results a table is made of, for its model and split in training.tables."""
    model, split = (config["training"]["tables"][name][key] for key in ("model", "split"))
    table = result_tables.table_spec(name, config["robustness"]["label_noise"])
    return [result_tables.result_path(model, seed, dataset, init) for dataset, init in table.runs(split) for seed in SEEDS]


# training's sections that belong to one kind of job; the rest of training is shared by all
JOB_SECTIONS = {"pretrain": ("pretrain", "cce_mask", "balanced_focal"), "ssl": ("ssl",), "finetune": ("finetune",)}


def training_params(job):
    """The training settings a job of this kind reads: a change to another kind's settings, to
    training.tables does not rerun it."""
    others = {section for kind, sections in JOB_SECTIONS.items() if kind != job for section in sections}
    return {k: v for k, v in config["training"].items() if k not in others | {"tables"}}


# A training job's CPUs: the loader's worker processes and the training process (on SLURM, --cpus-per-task).
# Its GPU, memory, time limit and partition are the cluster's business: slurm/config.yaml's GPU block.
TRAINING_THREADS = config["training"]["workers"] + 1


# -- robustness --------------------------------------------------------------------------------------
ROBUSTNESS = "results/robustness"


wildcard_constraints:
    noisy="|".join(NOISY_SETS),
    mode="|".join(CORRUPTION_MODES),


def noisy_lists(name):
    """The lists folder of a noisy copy of UCF101 (its official format) and the noise's report."""
    folder, split = f"{ROBUSTNESS}/label_noise/{name}", config["datasets"]["ucf101"]["split"]
    return {"trainlist": f"{folder}/trainlist0{split}.txt", "testlist": f"{folder}/testlist0{split}.txt", "class_index": f"{folder}/classInd.txt",
            "json": f"{folder}/report.json", "per_class": f"{folder}/per_class.csv", "confusion": f"{folder}/confusion.csv",
            "heatmap": f"{folder}/confusion.png"}


def corrupted_videos(name):
    return f"{ROBUSTNESS}/corruption/{name}/UCF-101"


def corruption_report_files():
    return {kind: f"{ROBUSTNESS}/corruption/report.{kind}" for kind in ("csv", "md")}


def robustness_reports():
    """Every noise report and the corruption report."""
    return [*(path for name in NOISY_SETS for path in noisy_lists(name).values()), *corruption_report_files().values()]


# -- claims ------------------------------------------------------------------------------------------
def claims_files():
    return {"md": "results/claims.md", "json": "results/claims.json", "html": "results/claims.html"}


# -- report and paper --------------------------------------------------------------------------------
# `snakemake --report report.html`: one category per section of the paper, a caption per artefact
# (workflow/report/*.rst).
DATASET_SECTION, LOSSES_SECTION = "3 Dataset construction and analysis", "6.1 Loss functions during pretraining"
PRETRAINING_SECTION, ROBUSTNESS_SECTION = "6.2 Pretraining strategies", "6.3 Robustness"
CLAIMS_SECTION, PAPER_SECTION = "6 The paper's claims, checked", "The paper: manuscript and notebooks"
REPORT_SECTIONS = {  # the tables' (Figures 1-5 are all in DATASET_SECTION: the figure rule's)
    "table1": DATASET_SECTION, "table2": DATASET_SECTION, "table3": LOSSES_SECTION, "table4": PRETRAINING_SECTION, "table5": PRETRAINING_SECTION,
    "table6": ROBUSTNESS_SECTION, "table7": ROBUSTNESS_SECTION,
}
PAPER = "results/paper"
PAPER_TABLES = ("table1", "table2", *result_tables.RESULT_TABLES)  # what the manuscript includes
NOTEBOOKS = ("dataset", "benchmarks", "robustness")  # one per section of the paper with figures or tables
NOTEBOOK_TABLES = {"dataset": ("table1", "table2"), "benchmarks": ("table3", "table4", "table5"), "robustness": ("table6", "table7")}


wildcard_constraints:
    notebook="|".join(NOTEBOOKS),


def table_inputs(names, figures=False):
    """Named inputs "<table>_csv" and "<table>_md" (a notebook shows both: every repeat's number, and the table
    as printed with its caption) and, with `figures`, "<table>_runs" (the table's figure)."""
    inputs = {f"{name}_{kind}": table_files(name)[kind] for name in names for kind in ("csv", "md")}
    return {**inputs, **({f"{name}_runs": figure_files(f"{name}_runs")["png"] for name in names} if figures else {})}


def notebook_inputs(wildcards):
    """Every results/ file a notebook reads, by the name it reads it under (its `inputs` parameter):
    an edit to one of them re-runs only the notebooks that declare it."""
    name = wildcards.notebook
    inputs = {"notebook": NOTEBOOK_SOURCES[name], **table_inputs(NOTEBOOK_TABLES[name], figures=name != "dataset")}
    if name == "dataset":
        return {**inputs, "dataset": f"{DATASET}/noisyactions.parquet", "entities": f"{DATASET}/entities.parquet",
                **{f"figure{n}": figure_files(f"figure{n}")["png"] for n in (3, 5)}}  # frames of videos: drawn by their rule
    inputs["claims"] = claims_files()["json"]
    if name == "robustness":
        inputs.update({f"{noisy}_report": noisy_lists(noisy)["json"] for noisy in NOISY_SETS})
        inputs["corruption"] = corruption_report_files()["csv"]
    return inputs


def notebook_files(name):
    return {"ipynb": f"{PAPER}/notebooks/{name}.ipynb", "html": f"{PAPER}/notebooks/{name}.html"}


def manuscript_files():
    return {"md": f"{PAPER}/manuscript.md", "html": f"{PAPER}/manuscript.html"}


def paper_outputs():
    return [*manuscript_files().values(), *(path for name in NOTEBOOKS for path in notebook_files(name).values())]


# -- cost --------------------------------------------------------------------------------------------
COST = "results/cost"
COST_CACHES = cache_contents(CACHED_SETS, CORRUPTED_SETS, largest_split())


@functools.cache
def cost_jobs():
    """Every table's training jobs, found as Snakemake finds them (table_results, then the training rules'
    input functions); only when `cost` is asked for, not whenever the workflow is parsed: a problem in
    finding them must not stop every other target."""
    return training_jobs({name: table_results(name) for name in result_tables.RESULT_TABLES}, finetune_inputs, supervised_inputs, ssl_inputs,
                         SPLIT_NAMES, COST_CACHES)


def cost_list_inputs(wildcards):
    """The lists the estimate counts videos in."""
    return count_inputs(cost_jobs(), COST_CACHES, config, world_dataset)
