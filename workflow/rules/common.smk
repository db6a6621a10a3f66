# Helpers and input functions only: no rules here.
from noisyactions.config import validate
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
    return outputs
