"""Fixtures of the persistence tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def loop_mount(tmp_path: Path) -> Iterator[Callable[[str, list[str]], Path]]:
    """Mount a fresh file system on an image file (root with mkfs.* only, else skip)."""
    mounted: list[Path] = []

    def mount(fs: str, mkfs: list[str]) -> Path:
        if os.geteuid() != 0 or shutil.which(mkfs[0]) is None:
            pytest.skip(f"loop-mounting {fs} needs root and {mkfs[0]}")
        image, point = tmp_path / f"{fs}.img", tmp_path / fs
        point.mkdir()
        with image.open("wb") as fh:
            fh.truncate(400 << 20)
        subprocess.run([*mkfs, str(image)], check=True, capture_output=True)
        done = subprocess.run(["mount", "-o", "loop", str(image), str(point)],
                              capture_output=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot loop-mount here: {done.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", str(point)], check=True)
