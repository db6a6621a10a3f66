# The Flickr crawl (paper Sec. 3): query table -> sliced searches -> per-video metadata shards -> downloads.
# Resumable at every level: done shards are skipped, interrupted ones resume from their journals.


rule crawl_queries:
    input:
        [entry["path"] for entry in config["crawl"]["queries"]],
    output:
        f"{CRAWL}/queries.tsv",
    log:
        "logs/crawl/queries.log",
    params:
        crawl=config["crawl"],
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/crawl_queries.py"


checkpoint crawl_plan:
    input:
        unpack(crawl_plan_inputs),
    output:
        plan=directory(f"{CRAWL}/plan"),
        stats=f"{CRAWL}/search_stats.json",
    log:
        "logs/crawl/plan.log",
    # The search journal is the job's resume point, so it cannot be an output (Snakemake deletes a
    # job's outputs before running it). Its entries are keyed by everything that decides a search's
    # result, which the inputs (the query table) and params (crawl dates, per_page, result_cap;
    # flickr.rest_url, or the world and flickr.server's result_cap and max_page) carry too: a change
    # to any reruns this job, which searches what changed, plans from the current queries only, and
    # cuts the journal down to them.
    params:
        flickr=config["flickr"],
        world=config["world"],
        crawl=config["crawl"],
        journal=f"{CRAWL}/journal/search.jsonl",
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/crawl_plan.py"


rule crawl_shard:
    input:
        plan=f"{CRAWL}/plan/shard-{{shard}}.parquet",
        server=embedded_flickr_inputs,
    output:
        table=f"{CRAWL}/metadata/shard-{{shard}}.parquet",
        stats=f"{CRAWL}/metadata/shard-{{shard}}_stats.json",
    log:
        "logs/crawl/shard-{shard}.log",
    params:
        flickr=config["flickr"],
        world=config["world"],
        crawl=config["crawl"],
        journal=lambda wildcards: f"{CRAWL}/journal/metadata-shard-{wildcards.shard}.jsonl",
    resources:
        runtime=24 * 60,
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/crawl_shard.py"


rule crawl_table:
    input:
        tables=crawl_shard_files("table"),
        stats=crawl_shard_files("stats"),
        search=f"{CRAWL}/search_stats.json",
    output:
        table=f"{CRAWL}/metadata.parquet",
        report_json=f"{CRAWL}/report.json",
        report_md=f"{CRAWL}/report.md",
    log:
        "logs/crawl/table.log",
    params:
        label=config["label"],
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/crawl_table.py"


# Videos are written to crawl.download.root through a folder of the job's own beside them
# (<root>/.partial/<shard>-<key>/, same filesystem, so the rename is atomic), emptied when the job starts.
rule download_shard:
    input:
        metadata=f"{CRAWL}/metadata/shard-{{shard}}.parquet",
        server=embedded_flickr_inputs,
    output:
        table=f"{DOWNLOAD}/shard-{{shard}}.parquet",
        stats=f"{DOWNLOAD}/shard-{{shard}}_stats.json",
    log:
        "logs/download/shard-{shard}.log",
    params:
        flickr=config["flickr"],
        world=config["world"],
        crawl=config["crawl"],
        journal=lambda wildcards: f"{CRAWL}/journal/download-shard-{wildcards.shard}.jsonl",
    resources:
        runtime=24 * 60,
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/download_shard.py"


rule download_table:
    input:
        tables=download_shard_files("table"),
        stats=download_shard_files("stats"),
    output:
        table=f"{DOWNLOAD}/videos.parquet",
        report_json=f"{DOWNLOAD}/report.json",
        report_md=f"{DOWNLOAD}/report.md",
    log:
        "logs/download/table.log",
    params:
        label=config["label"],
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/download_table.py"


rule retry_failures:
    """Fetch again only the records (and downloads) that failed transiently; then `snakemake crawl download` re-merges."""
    input:
        metadata=crawl_shard_files("table"),
        downloads=download_shard_files("table"),
    log:
        "logs/crawl/retry_failures.log",
    params:
        flickr=config["flickr"],
        world=config["world"],
        crawl=config["crawl"],
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/retry_failures.py"


rule crawl:
    input:
        f"{CRAWL}/metadata.parquet",
        f"{CRAWL}/report.md",


rule download:
    input:
        f"{DOWNLOAD}/videos.parquet",
        f"{DOWNLOAD}/report.md",
