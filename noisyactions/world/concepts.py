"""Action concepts of the embedded world and how each source dataset spells them.

A concept is what a video shows (a motion pattern applied to a shape) and what people call it.
Real benchmarks name the same action differently (UCF101 "PlayingGuitar", HMDB51 "play_guitar",
Kinetics "playing guitar"), so the world publishes one class list per naming convention with
overlapping subsets; the vocabulary stage then has real normalising and deduplicating to do.
"""

from __future__ import annotations

from dataclasses import dataclass

MOTIONS = (
    "translate_right",
    "translate_left",
    "translate_down",
    "translate_up",
    "rotate_cw",
    "rotate_ccw",
    "zoom_in",
    "zoom_out",
    "bounce",
    "oscillate_horizontal",
    "oscillate_vertical",
    "orbit",
)
"""Motion primitives; the web corpus and the downstream sets share them, so motion learnt on one transfers."""

SHAPES = ("disc", "square", "triangle", "bar", "ring", "cross")


@dataclass(frozen=True)
class Concept:
    """One action: its words and the motion pattern that renders it."""

    index: int
    verb: str
    gerund: str
    obj: str
    motion: str
    shape: str
    speed: float
    qualifier: str = ""
    ucf_name: str = ""

    @property
    def phrase(self) -> str:
        """The plain-language name, as a person would type it into a search box."""
        return f"{self.gerund} {self.obj}".strip()

    @property
    def base_phrase(self) -> str:
        return f"{self.verb} {self.obj}".strip()

    def name_in(self, convention: str) -> str:
        """The class name as a dataset of that convention would write it."""
        if convention == "ucf101":
            if self.ucf_name:
                return self.ucf_name
            return "".join(word.capitalize() for word in self.phrase.split())
        if convention == "hmdb51":
            return self.base_phrase.replace(" ", "_")
        if convention == "kinetics":
            return f"{self.phrase} ({self.qualifier})" if self.qualifier else self.phrase
        raise ValueError(f"unknown naming convention {convention!r}; expected ucf101, hmdb51 or kinetics")


# (verb, gerund, object, kinetics qualifier, UCF101 spelling when it is not the CamelCase phrase)
_WORDS = (
    ("play", "playing", "guitar", "", ""),
    ("juggle", "juggling", "balls", "", ""),
    ("ride", "riding", "bike", "", "Biking"),
    ("swim", "swimming", "breaststroke", "", "Breaststroke"),
    ("throw", "throwing", "discus", "", "ThrowDiscus"),
    ("jump", "jumping", "rope", "", "JumpRope"),
    ("shoot", "shooting", "basketball", "", "Basketball"),
    ("kick", "kicking", "ball", "not soccer", ""),
    ("climb", "climbing", "rope", "", "RopeClimbing"),
    ("row", "rowing", "boat", "", "Rowing"),
    ("surf", "surfing", "", "water", "Surfing"),
    ("dance", "dancing", "salsa", "", "SalsaSpin"),
    ("punch", "punching", "bag", "boxing", "BoxingPunchingBag"),
    ("lift", "lifting", "weights", "", ""),
    ("push", "pushing", "car", "", ""),
    ("pull", "pulling", "rope", "game", ""),
    ("walk", "walking", "dog", "", "WalkingWithDog"),
    ("brush", "brushing", "teeth", "", "BrushingTeeth"),
    ("cut", "cutting", "vegetables", "", "CuttingInKitchen"),
    ("knit", "knitting", "scarf", "", "Knitting"),
    ("paint", "painting", "wall", "not canvas", ""),
    ("fly", "flying", "kite", "", ""),
    ("swing", "swinging", "golf club", "", "GolfSwing"),
    ("pitch", "pitching", "baseball", "", "BaseballPitch"),
    ("serve", "serving", "tennis", "", "TennisSwing"),
    ("do", "doing", "handstand pushups", "", "HandstandPushups"),
    ("ride", "riding", "horse", "", "HorseRiding"),
    ("skate", "skating", "board", "", "SkateBoarding"),
    ("shave", "shaving", "beard", "", "ShavingBeard"),
    ("wash", "washing", "dishes", "", ""),
    ("mop", "mopping", "floor", "", ""),
    ("fold", "folding", "clothes", "", ""),
    ("type", "typing", "keyboard", "", "Typing"),
    ("sweep", "sweeping", "floor", "", ""),
    ("bowl", "bowling", "", "", "Bowling"),
    ("dive", "diving", "cliff", "", "CliffDiving"),
    ("fence", "fencing", "", "", "Fencing"),
    ("drum", "drumming", "", "", "Drumming"),
    ("play", "playing", "violin", "", "PlayingViolin"),
    ("play", "playing", "flute", "", "PlayingFlute"),
    ("blow", "blowing", "candles", "", "BlowingCandles"),
    ("mix", "mixing", "batter", "", "MixingBatter"),
    ("hammer", "hammering", "nail", "", "Hammering"),
    ("ski", "skiing", "", "not slalom", "Skiing"),
    ("hula", "hula hooping", "", "", "HulaHoop"),
    ("bounce", "bouncing", "trampoline", "", "TrampolineJumping"),
    ("sail", "sailing", "boat", "", ""),
    ("kayak", "kayaking", "", "", "Kayaking"),
)

MAX_CONCEPTS = len(_WORDS)


def build_concepts(count: int) -> list[Concept]:
    """The first `count` concepts, each with a distinct (motion, shape) pattern and speed."""
    if not 2 <= count <= MAX_CONCEPTS:
        raise ValueError(f"world.concepts must be between 2 and {MAX_CONCEPTS}, got {count}")
    concepts = []
    for index, (verb, gerund, obj, qualifier, ucf_name) in enumerate(_WORDS[:count]):
        motion = MOTIONS[index % len(MOTIONS)]
        shape = SHAPES[(index // len(MOTIONS) + index) % len(SHAPES)]
        speed = (1.0, 1.6, 0.7)[(index // len(MOTIONS)) % 3]
        concepts.append(Concept(index, verb, gerund, obj, motion, shape, speed, qualifier, ucf_name))
    patterns = {(c.motion, c.shape, c.speed) for c in concepts}
    assert len(patterns) == len(concepts), "two concepts would render the same pattern"
    return concepts


CONVENTIONS = ("ucf101", "hmdb51", "kinetics")
