"""Names of the weights a fine-tuning run starts from. Each name is a folder under results/<model>/pretrain/
(and results/<model>/finetune/<dataset>/), so a result's path says how its model was pretrained:

  scratch                  no pretraining
  scratch_residual         no pretraining, on frame differences: the input PCL checkpoints carry (our control,
                           not the paper's: it tells what SSL's weights add from what its input adds)
  <split>_<loss>           supervised on a NoisyActions split with one of Sec. 4.1's losses (Table 3)
  ssl_<source>             PCL on ucf101 (its train split), curated (the Kinetics subset) or a split (Tables 4, 5)
  ssl_<split>_then_<loss>  PCL on a split, then supervised on that split from those weights (Table 4's SSL-25k + MLP-BF)
"""

from __future__ import annotations

from dataclasses import dataclass

SCRATCH = "scratch"
SCRATCH_RESIDUAL = "scratch_residual"
LOSSES = ("cce", "cce_mask", "bce", "focal", "balanced_focal")
SSL_DATASETS = ("ucf101", "curated")  # SSL sources besides the NoisyActions splits


@dataclass(frozen=True)
class Init:
    """What a name stands for: the SSL source pretrained on first (if any), then the split and loss of
    supervised pretraining (if any)."""

    ssl_source: str | None = None
    split: str | None = None
    loss: str | None = None
    residual_input: bool = False  # from scratch on frame differences (only without pretraining)

    @property
    def name(self) -> str:
        if self.split and self.ssl_source:
            return f"ssl_{self.split}_then_{self.loss}"
        if self.split:
            return f"{self.split}_{self.loss}"
        if self.ssl_source:
            return f"ssl_{self.ssl_source}"
        return SCRATCH_RESIDUAL if self.residual_input else SCRATCH

    @property
    def pretrained(self) -> bool:
        return bool(self.ssl_source or self.split)


def ssl_sources(splits: list[str]) -> list[str]:
    return [*SSL_DATASETS, *splits]


def supervised_inits(splits: list[str]) -> list[Init]:
    """Every supervised pretraining, from scratch or after SSL on its split."""
    return [Init(ssl, split, loss) for split in splits for loss in LOSSES for ssl in (None, split)]


def every_init(splits: list[str]) -> list[Init]:
    return [Init(), Init(residual_input=True), *supervised_inits(splits), *(Init(source) for source in ssl_sources(splits))]


def parse_init(name: str, splits: list[str]) -> Init:
    """The Init a name stands for; a ValueError listing the forms when it is none of them."""
    for init in every_init(splits):
        if init.name == name:
            return init
    raise ValueError(f"pretraining {name!r}: expected scratch, scratch_residual, <split>_<loss>, ssl_<source> or ssl_<split>_then_<loss> "
                     f"(splits {', '.join(splits)}; losses {', '.join(LOSSES)}; sources {', '.join(ssl_sources(splits))})")
