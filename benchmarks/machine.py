"""The line every benchmark prints first: which machine, how busy, which software, so a figure copied
into the README carries where it came from."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine_line(software: str) -> str:
    """`software`: the versions and thread settings that matter to the benchmark printing it."""
    cpuinfo = Path("/proc/cpuinfo")
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")] if cpuinfo.exists() else []
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return f"machine: {platform.machine()}, {models[0] if models else platform.processor() or 'unknown CPU'}, {os.cpu_count()} cores{load}; {software}"
