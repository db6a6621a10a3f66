# Helpers and input functions only: no rules here.
import os
from pathlib import Path

from noisyactions.config import validate
from noisyactions.label_lists import label_list_paths
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
    outputs += [f"{CACHE}/{name}/index.parquet" for name in CACHED_SETS]
    outputs += list(table_files("table3").values())
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
    return {kind: f"{TABLES}/{name}.{kind}" for kind in ("csv", "md", "tex")}


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
CACHED_SETS = ("ucf101", "hmdb51", "curated", "noisyactions")


wildcard_constraints:
    cached="|".join(CACHED_SETS),


def largest_split():
    sizes = config["dataset"]["splits"]["sizes"]
    return max(sizes, key=sizes.get)


def cache_inputs(wildcards):
    """What a dataset's cache is built from: the embedded world's folder, or the dataset table and split."""
    if wildcards.cached == "noisyactions":
        name = largest_split()
        return {"table": f"{DATASET}/noisyactions.parquet", "split": label_list_files("results/splits", name)}
    return {"world": [str(WORLD.downstream(wildcards.cached))] if config["world"]["enabled"] else []}


# -- training ----------------------------------------------------------------------------------------
PRETRAIN_LOSSES = ("cce", "cce_mask", "bce", "focal", "balanced_focal")


wildcard_constraints:
    loss="|".join(PRETRAIN_LOSSES),
    init="scratch|" + "|".join(PRETRAIN_LOSSES),


def pretrain_split_files():
    return label_list_files("results/splits", config["training"]["pretrain"]["split"])


def finetune_init(wildcards):
    """The pretrained weights a fine-tuning run starts from (none when it trains from scratch)."""
    return [] if wildcards.init == "scratch" else [f"results/pretrain/{wildcards.init}/best.pt"]


GPU_RESOURCES = dict(gpu=1, runtime=config["training"]["gpu_runtime_minutes"], mem_mb=config["training"]["gpu_mem_mb"])
