# noisyactions: rebuild NoisyActions2M (Sharma et al., ACM Multimedia Asia 2021) from the raw Flickr crawl to the robustness tables.
# A table of contents: configuration, one include per stage, and the targets a user types.
from snakemake.utils import min_version

min_version("9.20")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/world.smk"
include: "workflow/rules/crawl.smk"
include: "workflow/rules/dataset.smk"
include: "workflow/rules/video.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/robustness.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/cost.smk"
include: "workflow/rules/paper.smk"


rule all:
    default_target: True
    input:
        get_final_output(),
