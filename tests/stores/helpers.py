"""Helpers shared by the store tests."""

from __future__ import annotations

import datetime as dt
import errno
from pathlib import Path

from tradestore.persistence import FileSystem

T0 = dt.datetime(2025, 3, 14, 12, 0, tzinfo=dt.UTC)


class FakeClock:
    """A settable clock."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


def folder_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its content."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


class FullDiskFS(FileSystem):
    """Fails every write with ENOSPC while ``full`` is set."""

    full = False

    def write(self, fd: int, data: bytes) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        super().write(fd, data)


class CountingFS(FileSystem):
    """Records which document files are read."""

    def __init__(self) -> None:
        self.reads: list[str] = []

    def read(self, path: Path) -> bytes:
        if path.name.startswith("doc-"):
            self.reads.append(path.name)
        return super().read(path)


def all_paths(root: Path) -> list[Path]:
    """Every file and folder under ``root``."""
    return list(root.rglob("*"))
