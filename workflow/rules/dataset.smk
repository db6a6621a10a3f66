# From the crawl to NoisyActions2M (paper Sec. 3, Sec. 4, App. A): vocabulary, dataset table, Tables 1-2,
# Figures 1-5 and the 25K/100K splits.


rule class_list_download:
    output:
        "resources/class_vocab/{file}",
    log:
        "logs/vocabulary/download_{file}.log",
    params:
        url=class_list_url,
        what="vocabulary.class_lists",
    localrule: True
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/download_file.py"


if OFFICIAL_LISTS_ROOT:

    rule official_list_download:
        output:
            f"{OFFICIAL_LISTS_ROOT}/{{file}}",
        log:
            "logs/dataset/download_{file}.log",
        params:
            url=official_list_url,
            what="dataset.splits.official.url",
        wildcard_constraints:
            file=r"(trainlist|classInd)[^/]+\.txt",
        localrule: True
        conda:
            "../../envs/crawl.yaml"
        script:
            "../../scripts/download_file.py"


rule vocabulary:
    input:
        [entry["path"] for entry in config["vocabulary"]["class_lists"]],
        config["vocabulary"]["sentences"],
    output:
        queries=f"{VOCABULARY}/queries.tsv",
        labels=f"{VOCABULARY}/labels.tsv",
    log:
        "logs/vocabulary/vocabulary.log",
    params:
        vocabulary=config["vocabulary"],
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/vocabulary.py"


rule dataset_table:
    input:
        shards=crawl_shard_files("table"),
        labels=f"{VOCABULARY}/labels.tsv",
        downloads=f"{DOWNLOAD}/videos.parquet",
    output:
        f"{DATASET}/noisyactions.parquet",
    log:
        "logs/dataset/table.log",
    params:
        min_videos=config["dataset"]["min_videos_per_class"],
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/dataset_table.py"


rule dataset_entities:
    input:
        f"{DATASET}/noisyactions.parquet",
    output:
        f"{DATASET}/entities.parquet",
    log:
        "logs/dataset/entities.log",
    params:
        entities=config["dataset"]["entities"],
    threads: 2
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/dataset_entities.py"


rule table1:
    input:
        f"{DATASET}/noisyactions.parquet",
    output:
        **reported_table_files("table1"),
    log:
        "logs/tables/table1.log",
    params:
        scale=config["label"],
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/table1.py"


rule table2:
    input:
        table=f"{DATASET}/noisyactions.parquet",
        entities=f"{DATASET}/entities.parquet",
    output:
        **reported_table_files("table2"),
    log:
        "logs/tables/table2.log",
    params:
        scale=config["label"],
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/table2.py"


rule figure:
    input:
        table=f"{DATASET}/noisyactions.parquet",
        entities=f"{DATASET}/entities.parquet",
    output:
        pdf=f"{FIGURES}/{{figure}}.pdf",
        png=report(f"{FIGURES}/{{figure}}.png", caption="../report/figure.rst", category=DATASET_SECTION,
                   labels={"artefact": "{figure}", "kind": "figure"}),
    log:
        "logs/figures/{figure}.log",
    params:
        scale=config["label"],
        figures=config["dataset"]["figures"],
    wildcard_constraints:
        figure="figure[1-5]",
    conda:
        "../../envs/plots.yaml"
    script:
        "../../scripts/figure.py"


rule splits:
    input:
        table=f"{DATASET}/noisyactions.parquet",
        official=official_split_lists(),
    output:
        split_files(),
        **split_report_files(),
    log:
        "logs/dataset/splits.log",
    params:
        splits=config["dataset"]["splits"],
        min_videos=config["dataset"]["min_videos_per_class"],
        scale=config["label"],
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/splits.py"


rule figure1:
    input:
        **figure_files("figure1"),


rule figure2:
    input:
        **figure_files("figure2"),


rule figure3:
    input:
        **figure_files("figure3"),


rule figure4:
    input:
        **figure_files("figure4"),


rule figure5:
    input:
        **figure_files("figure5"),


rule dataset:
    input:
        dataset_outputs(),
