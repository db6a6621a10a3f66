"""Peak memory of caching one video, against its length: flat when frames stream through.

Makes 1280x720 H.264 videos of each length in --seconds (PyAV, libx264, long GOP), then caches each
in a fresh process per format and prints that process's peak resident set size (getrusage), beside
a process that only imports the package and decodes one frame. Decoding a whole video before
resizing, as the cache once did, needs frames x 1280 x 720 x 3 bytes and four times that as floats:
the last column.

    python benchmarks/cache_memory.py                      # 10 s and 40 s at 5 fps, both formats
    python benchmarks/cache_memory.py --pythonpath ../old  # the same against another checkout
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av

from synthetic_video import write_moving_gradient

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(source: str, fmt: str, short_side: int, out: str) -> None:
    """Runs in its own process: cache `source` (or only decode a frame, fmt 'none') and print the peak."""
    from noisyactions.video.cache import cache_video

    started = time.perf_counter()
    if fmt == "none":
        with av.open(source) as container:
            next(container.decode(video=0))
    else:
        cache_video(Path(source), Path(out), short_side, fmt)
    print(json.dumps({"peak_rss_mb": peak_rss_mb(), "seconds": time.perf_counter() - started}))


def measure(source: Path, fmt: str, short_side: int, folder: Path, pythonpath: str) -> dict:
    out = folder / f"{source.stem}.{fmt}{'.npy' if fmt == 'frames' else '.mp4'}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (pythonpath, str(REPO), os.environ.get("PYTHONPATH", "")) if p)}
    result = subprocess.run([sys.executable, __file__, "--child", str(source), fmt, str(short_side), str(out)],
                            capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, nargs="+", default=[10, 40])
    parser.add_argument("--fps", type=int, default=5)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--short-side", type=int, default=128)
    parser.add_argument("--formats", nargs="+", default=["frames", "video"], choices=["frames", "video"])
    parser.add_argument("--pythonpath", default="", help="a checkout whose noisyactions to measure (default: this one)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]), args.child[3])
        return
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"{args.size}, {args.fps} fps, cached at short side {args.short_side}; peak RSS per process")
        print(f"{'video':>12} {'format':>7} {'peak RSS':>10} {'time':>7} {'whole video decoded first (uint8 + float)':>44}")
        for seconds in args.seconds:
            source = folder / f"{seconds:g}s.mp4"
            frames = write_moving_gradient(source, int(seconds * args.fps), args.fps, width, height, "keyint=250")
            baseline = measure(source, "none", args.short_side, folder, args.pythonpath)
            raw = frames * width * height * 3 / 2**20
            print(f"{seconds:>10g} s {'(open)':>7} {baseline['peak_rss_mb']:>7.0f} MB {baseline['seconds']:>6.1f}s")
            for fmt in args.formats:
                result = measure(source, fmt, args.short_side, folder, args.pythonpath)
                print(f"{seconds:>10g} s {fmt:>7} {result['peak_rss_mb']:>7.0f} MB {result['seconds']:>6.1f}s {raw:>12.0f} MB + {4 * raw:>6.0f} MB")


if __name__ == "__main__":
    main()
