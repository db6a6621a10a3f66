# The embedded synthetic world: the offline stand-in for Flickr, UCF101, HMDB51 and the Kinetics subset.


rule world_web_metadata:
    output:
        str(WORLD.web_metadata),
    log:
        "logs/world/web_metadata.log",
    params:
        world=config["world"],
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/world_web_metadata.py"


rule world_web_videos:
    input:
        str(WORLD.web_metadata),
    output:
        directory(str(WORLD.web_videos)),
    log:
        "logs/world/web_videos.log",
    params:
        world=config["world"],
    threads: 8
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/world_web_videos.py"


rule world_class_lists:
    output:
        [str(WORLD.class_lists / f"{c}.txt") for c in CONVENTIONS],
    log:
        "logs/world/class_lists.log",
    params:
        world=config["world"],
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/world_class_lists.py"


rule world_downstream:
    output:
        directory(str(WORLD.root / "{dataset}")),
    log:
        "logs/world/downstream_{dataset}.log",
    params:
        world=config["world"],
    threads: 8
    conda:
        "../../envs/crawl.yaml"
    script:
        "../../scripts/world_downstream.py"


rule world:
    input:
        world_outputs(),
