"""The clip geometry training uses, apart from the trainer so the manuscript can quote it without torch
(and training jobs need not import the config validator)."""


def clip_geometry(video: dict, training: dict) -> dict:
    """The video section, with training.input's overrides (null keeps the video section's value)."""
    return {**video, **{k: v for k, v in training["input"].items() if v is not None}}
