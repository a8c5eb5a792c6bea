"""The physical floors, measured in the same run as the systems.

- ``floor_rename``: write 1 KiB to a new temporary file, fsync it, rename it
  over the target, fsync the folder: the least a durable atomic replace costs.
- ``floor_append``: append 1 KiB to an open file and fdatasync it: the least a
  durable append costs.

The loop of operations runs in one worker thread so the figures carry no
event-loop overhead.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["FLOORS", "FLOOR_APPEND", "FLOOR_RENAME", "append_floor", "rename_floor"]

FLOOR_RENAME = "floor_rename"
FLOOR_APPEND = "floor_append"
FLOORS = (FLOOR_RENAME, FLOOR_APPEND)

_PAYLOAD = b"x" * 1023 + b"\n"


def rename_floor(folder: Path, n: int, deadline: float | None) -> list[float]:
    """Run up to ``n`` durable atomic 1 KiB replaces; return each latency in seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "floor.json"
    latencies: list[float] = []
    for i in range(n):
        if deadline is not None and time.perf_counter() > deadline:
            break
        start = time.perf_counter()
        tmp = folder / f"floor.json.{i}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, _PAYLOAD)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        latencies.append(time.perf_counter() - start)
    return latencies


def append_floor(folder: Path, n: int, deadline: float | None) -> list[float]:
    """Run up to ``n`` durable 1 KiB appends; return each latency in seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    latencies: list[float] = []
    fd = os.open(folder / "floor.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for _ in range(n):
            if deadline is not None and time.perf_counter() > deadline:
                break
            start = time.perf_counter()
            os.write(fd, _PAYLOAD)
            os.fdatasync(fd)
            latencies.append(time.perf_counter() - start)
    finally:
        os.close(fd)
    return latencies
