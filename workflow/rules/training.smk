# Supervised pretraining with the five losses of Sec. 4.1 and fine-tuning on UCF101 split 1: Table 3.


rule pretrain:
    input:
        table=f"{DATASET}/noisyactions.parquet",
        split=pretrain_split_files(),
        cache=f"{CACHE}/noisyactions/index.parquet",
    output:
        best="results/pretrain/{loss}/best.pt",
        metrics="results/pretrain/{loss}/metrics.csv",
    log:
        "logs/pretrain/{loss}.log",
    params:
        video=config["video"],
        training=config["training"],
    resources:
        **GPU_RESOURCES,
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/pretrain.py"


rule finetune_ucf101:
    input:
        cache=f"{CACHE}/ucf101/index.parquet",
        classes=f"{CACHE}/ucf101/classes.txt",
        pretrained=finetune_init,
    output:
        result="results/finetune/ucf101/{init}/result.json",
        metrics="results/finetune/ucf101/{init}/metrics.csv",
    log:
        "logs/finetune/ucf101_{init}.log",
    params:
        video=config["video"],
        training=config["training"],
    resources:
        **GPU_RESOURCES,
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/finetune.py"


rule table3:
    input:
        [f"results/finetune/ucf101/{init}/result.json" for init in ("scratch", *PRETRAIN_LOSSES)],
    output:
        **table_files("table3"),
    log:
        "logs/tables/table3.log",
    params:
        scale=config["label"],
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/table3.py"
