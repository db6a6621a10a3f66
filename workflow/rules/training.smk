# Pretraining and fine-tuning (Sec. 4, 5, 6): supervised pretraining with each loss (Table 3), PCL
# self-supervised pretraining on four sources and SSL followed by supervised (Tables 4, 5), fine-tuning on
# UCF101 and HMDB51 split 1 and on UCF101's noisy and corrupted copies (Tables 6, 7, robustness.smk).
# One trainer for all; each table's model and split are in training.tables.


rule pretrain_supervised:
    input:
        unpack(supervised_inputs),
    output:
        best="results/{model}/seed{seed}/pretrain/{supervised}/best.pt",
        metrics="results/{model}/seed{seed}/pretrain/{supervised}/metrics.csv",
    log:
        "logs/{model}/seed{seed}/pretrain/{supervised}.log",
    params:
        loss=lambda wildcards: parse_init(wildcards.supervised, SPLIT_NAMES).loss,
        video=config["video"],
        training=training_params("pretrain"),
    threads: TRAINING_THREADS
    resources:
        gpu=1,
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/pretrain.py"


rule pretrain_ssl:
    input:
        unpack(ssl_inputs),
    output:
        best="results/{model}/seed{seed}/pretrain/ssl_{source}/best.pt",
        metrics="results/{model}/seed{seed}/pretrain/ssl_{source}/metrics.csv",
    log:
        "logs/{model}/seed{seed}/pretrain/ssl_{source}.log",
    params:
        video=config["video"],
        training=training_params("ssl"),
    threads: TRAINING_THREADS
    resources:
        gpu=1,
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/pretrain_ssl.py"


rule finetune:
    input:
        unpack(finetune_inputs),
    output:
        result="results/{model}/seed{seed}/finetune/{finetuned}/{init}/result.json",
        metrics="results/{model}/seed{seed}/finetune/{finetuned}/{init}/metrics.csv",
    log:
        "logs/{model}/seed{seed}/finetune/{finetuned}_{init}.log",
    params:
        video=config["video"],
        training=training_params("finetune"),
        residual_input=lambda wildcards: parse_init(wildcards.init, SPLIT_NAMES).residual_input,
    threads: TRAINING_THREADS
    resources:
        gpu=1,
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/finetune.py"


rule table3:
    input:
        results=table_results("table3"),
    output:
        **reported_table_files("table3"),
    log:
        "logs/tables/table3.log",
    params:
        setup=config["training"]["tables"]["table3"],
        scale=config["label"],
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/result_table.py"


use rule table3 as table4 with:
    input:
        results=table_results("table4"),
    output:
        **reported_table_files("table4"),
    log:
        "logs/tables/table4.log",
    params:
        setup=config["training"]["tables"]["table4"],
        scale=config["label"],


use rule table3 as table5 with:
    input:
        results=table_results("table5"),
    output:
        **reported_table_files("table5"),
    log:
        "logs/tables/table5.log",
    params:
        setup=config["training"]["tables"]["table5"],
        scale=config["label"],


use rule table3 as table6 with:
    input:
        results=table_results("table6"),
    output:
        **reported_table_files("table6"),
    log:
        "logs/tables/table6.log",
    params:
        setup=config["training"]["tables"]["table6"],
        label_noise=config["robustness"]["label_noise"],
        scale=config["label"],


use rule table3 as table7 with:
    input:
        results=table_results("table7"),
        decoding=corruption_report_files()["csv"],  # how many of each copy's videos still decode, beside the table
    output:
        **reported_table_files("table7"),
    log:
        "logs/tables/table7.log",
    params:
        setup=config["training"]["tables"]["table7"],
        scale=config["label"],


rule table_figure:
    input:
        results=lambda wildcards: table_results(wildcards.table),
    output:
        pdf=figure_files("{table}_runs")["pdf"],
        png=report(figure_files("{table}_runs")["png"], caption="../report/table_runs.rst", category=lambda wildcards: REPORT_SECTIONS[wildcards.table],
                   labels={"artefact": "{table}, every repeat", "kind": "figure"}),
    log:
        "logs/figures/{table}_runs.log",
    params:
        setup=lambda wildcards: config["training"]["tables"][wildcards.table],
        label_noise=config["robustness"]["label_noise"],
        scale=config["label"],
    conda:
        "../../envs/plots.yaml"
    script:
        "../../scripts/result_figure.py"
