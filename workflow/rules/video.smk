# The video input pipeline (paper Sec. 5): every dataset indexed from its official files and cached at
# training resolution, so that training reads slices instead of decoding full videos.


rule cache_dataset:
    input:
        unpack(cache_inputs),
    output:
        index=f"{CACHE}/{{cached}}/index.parquet",
        classes=f"{CACHE}/{{cached}}/classes.txt",
        videos=directory(f"{CACHE}/{{cached}}/videos"),
    log:
        "logs/cache/{cached}.log",
    params:
        datasets=config["datasets"],
        cache=config["video"]["cache"],
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/cache_dataset.py"


rule cache:
    input:
        [f"{CACHE}/{name}/index.parquet" for name in DATASETS_CACHED],
