"""The physical floors, measured in the same run as the systems.

- ``floor_rename``: write 1 KiB to a new temporary file, fsync it, rename it
  over the target, fsync the folder: the least a durable atomic replace costs.
- ``floor_append``: write 1 KiB in place into a file already filled with zeros
  (and synced), then fdatasync it: the least a durable append costs. The
  file's size and blocks never change, so each flush is of data alone, as in a
  log that is preallocated (tradestore's ``journal="append"``) or recycled
  (sqlite's WAL once a checkpoint has reset it). Appending to a growing file
  also changes its size and blocks each time: a metadata commit per flush on
  ext4 and xfs, which neither store pays in its steady state.

These two run their loop of operations in one worker thread, so their figures
carry no event-loop overhead. Two more run the same operations from the
event loop, each awaited as one call through aiofiles' executor:

- ``floor_rename_async`` and ``floor_append_async``: the least any asyncio
  store that keeps its file I/O in aiofiles (as tradestore's file stores do)
  pays per awaited durable write: the floor plus one thread hop there and
  back, and nothing else.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiofiles.os

__all__ = [
    "ASYNC_FLOORS",
    "FLOORS",
    "FLOOR_APPEND",
    "FLOOR_APPEND_ASYNC",
    "FLOOR_RENAME",
    "FLOOR_RENAME_ASYNC",
    "THREAD_FLOORS",
    "append_floor",
    "append_floor_async",
    "rename_floor",
    "rename_floor_async",
]

FLOOR_RENAME = "floor_rename"
FLOOR_APPEND = "floor_append"
FLOOR_RENAME_ASYNC = "floor_rename_async"
FLOOR_APPEND_ASYNC = "floor_append_async"
THREAD_FLOORS = (FLOOR_RENAME, FLOOR_APPEND)
ASYNC_FLOORS = (FLOOR_RENAME_ASYNC, FLOOR_APPEND_ASYNC)
FLOORS = (*THREAD_FLOORS, *ASYNC_FLOORS)

_PAYLOAD = b"x" * 1023 + b"\n"


def _replace_once(folder: Path, i: int) -> None:
    tmp = folder / f"floor.json.{i}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, _PAYLOAD)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, folder / "floor.json")
    dfd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _zero_filled(folder: Path, n: int) -> int:
    """An open file of zeros, room for ``n`` payloads, its blocks and size synced."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "floor.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    step = 1 << 20
    size = max(n, 1) * len(_PAYLOAD)
    for at in range(0, size, step):
        os.pwrite(fd, bytes(min(step, size - at)), at)
    os.fsync(fd)
    return fd


def _append_once(fd: int, i: int) -> None:
    os.pwrite(fd, _PAYLOAD, i * len(_PAYLOAD))
    os.fdatasync(fd)


def _timed(n: int, deadline: float | None, op: Callable[[int], None]) -> list[float]:
    """``op(i)`` for i in 0..n-1 until ``deadline``; each latency in seconds."""
    latencies: list[float] = []
    for i in range(n):
        if deadline is not None and time.perf_counter() > deadline:
            break
        start = time.perf_counter()
        op(i)
        latencies.append(time.perf_counter() - start)
    return latencies


async def _timed_async(n: int, deadline: float | None,
                       op: Callable[[int], Awaitable[None]]) -> list[float]:
    """:func:`_timed` with ``op`` awaited."""
    latencies: list[float] = []
    for i in range(n):
        if deadline is not None and time.perf_counter() > deadline:
            break
        start = time.perf_counter()
        await op(i)
        latencies.append(time.perf_counter() - start)
    return latencies


def rename_floor(folder: Path, n: int, deadline: float | None) -> list[float]:
    """Run up to ``n`` durable atomic 1 KiB replaces; return each latency in seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    return _timed(n, deadline, lambda i: _replace_once(folder, i))


def append_floor(folder: Path, n: int, deadline: float | None) -> list[float]:
    """Run up to ``n`` durable 1 KiB appends; return each latency in seconds."""
    fd = _zero_filled(folder, n)
    try:
        return _timed(n, deadline, lambda i: _append_once(fd, i))
    finally:
        os.close(fd)


_replace_awaited = aiofiles.os.wrap(_replace_once)
_append_awaited = aiofiles.os.wrap(_append_once)
_zero_filled_awaited = aiofiles.os.wrap(_zero_filled)
_close_awaited = aiofiles.os.wrap(os.close)


async def rename_floor_async(folder: Path, n: int, deadline: float | None) -> list[float]:
    """:func:`rename_floor`, each replace awaited through one aiofiles call."""
    await aiofiles.os.makedirs(folder, exist_ok=True)
    return await _timed_async(n, deadline, lambda i: _replace_awaited(folder, i))


async def append_floor_async(folder: Path, n: int, deadline: float | None) -> list[float]:
    """:func:`append_floor`, each append awaited through one aiofiles call."""
    fd = await _zero_filled_awaited(folder, n)
    try:
        return await _timed_async(n, deadline, lambda i: _append_awaited(fd, i))
    finally:
        await _close_awaited(fd)
