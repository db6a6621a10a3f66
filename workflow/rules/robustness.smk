# Robustness (Sec. 4.3, App. B.2; Tables 6 and 7): UCF101 split 1 with noisy training labels, and a copy of
# its video files with random or contiguous bit flips, cached like any dataset; the fine-tuning runs on them
# are training.smk's. Each job gets only the settings it reads, so adding a noise rate or changing one
# corruption's p reruns nothing else.


rule label_noise:
    input:
        world_dataset("ucf101"),  # the user's UCF101 otherwise (datasets.ucf101), checked when the job reads it
    output:
        **noisy_lists("{noisy}"),
    log:
        "logs/robustness/{noisy}.log",
    params:
        ucf101=config["datasets"]["ucf101"],
        rate=lambda wildcards: NOISY_SETS[wildcards.noisy],
        mode=config["robustness"]["label_noise"]["mode"],
        seed=config["robustness"]["label_noise"]["seed"],
    conda:
        "../../envs/plots.yaml"
    script:
        "../../scripts/label_noise.py"


rule corrupt_videos:
    input:
        world_dataset("ucf101"),  # the user's UCF101 otherwise (datasets.ucf101), checked when the job reads it
    output:
        videos=directory(corrupted_videos("ucf101_{mode}")),
        flips=f"{ROBUSTNESS}/corruption/ucf101_{{mode}}/flips.parquet",
    log:
        "logs/robustness/ucf101_{mode}.log",
    params:
        ucf101=config["datasets"]["ucf101"],
        p=lambda wildcards: config["robustness"]["corruption"][f"{wildcards.mode}_p"],
        splits=config["robustness"]["corruption"]["splits"],
        seed=config["robustness"]["corruption"]["seed"],
    conda:
        "../../envs/plots.yaml"
    script:
        "../../scripts/corrupt_videos.py"


rule corruption_report:
    input:
        [f"{CACHE}/{name}/index.parquet" for name in CORRUPTED_SETS],
    output:
        **corruption_report_files(),
    log:
        "logs/robustness/corruption_report.log",
    conda:
        "../../envs/plots.yaml"
    script:
        "../../scripts/corruption_report.py"
