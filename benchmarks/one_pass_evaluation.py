"""Seconds to read every test window of one long-GOP 1280x720 video: one decode pass (what
ClipDataset does at test time) against reading the windows one by one (a seek per window, each
decoding from the GOP's keyframe again).

    python benchmarks/one_pass_evaluation.py        # 10 s at 25 fps, one 250-frame GOP, B-frames
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from noisyactions.video.clips import evaluation_clips
from noisyactions.video.dataset import ClipDataset
from noisyactions.video.reader import ClipReader
from noisyactions.video.transforms import EvalTransform
from synthetic_video import write_moving_gradient


def best_of(runs: int, read) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        read()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--gop", type=int, default=250)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    frames = int(args.seconds * args.fps)
    video = {"clip_length": 16, "short_side": 128, "crop": 112, "test_clips": "windows", "test_clip_count": 10, "decode_threads": 1,
             "cache": {"use_partial": True}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long_gop.mp4"
        write_moving_gradient(path, frames, args.fps, 1280, 720, f"keyint={args.gop}:min-keyint={args.gop}:scenecut=0:bframes=3", preset="medium", crf=23)
        windows = evaluation_clips(frames, video["clip_length"])
        transform = EvalTransform(video["short_side"], video["crop"])

        def one_by_one():
            reader = ClipReader()
            return torch.stack([transform(reader.read(path, window)) for window in windows])

        def one_pass(known: bool):
            rows = pd.DataFrame({"path": [str(path)], "target": [0], **({"frames": [frames]} if known else {})})
            return ClipDataset(rows, 1, video, train=False)[0]["clip"]

        assert torch.equal(one_by_one(), one_pass(True))
        print(f"{platform.machine()}, {torch.get_num_threads()} torch thread; 1280x720, {frames} frames, GOP {args.gop}, {len(windows)} windows of 16; best of {args.runs}")
        print(f"  window by window (seek each)        {best_of(args.runs, one_by_one):6.2f} s")
        print(f"  one pass, frame count from index    {best_of(args.runs, lambda: one_pass(True)):6.2f} s")
        print(f"  one pass, frame count from decoding {best_of(args.runs, lambda: one_pass(False)):6.2f} s")


if __name__ == "__main__":
    main()
