# What Tables 3-7 cost before anything is trained (noisyactions.cost): clip-steps, GPU-hours at the measured
# step rate (config cost:) and disk, per table and in total. The jobs are found as Snakemake finds them, from
# each table's result files through the training rules' input functions; the video counts are read from the
# lists the caches and training will read. A local rule: seconds, on the submitting machine.


rule cost:
    input:
        lists=cost_list_inputs,
    output:
        md=f"{COST}/cost.md",
        csv=f"{COST}/cost.csv",
    log:
        "logs/cost.log",
    params:
        jobs=lambda wildcards: cost_jobs(),
        caches=COST_CACHES,
        config={section: config[section] for section in ("label", "world", "dataset", "datasets", "video", "training", "cost")},
    localrule: True
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/cost_estimate.py"
