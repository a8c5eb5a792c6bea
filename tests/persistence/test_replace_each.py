"""replace_each_keeping_backup: a checkpoint's documents written, flushed, then renamed."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from tests.persistence.test_durable_replace import FailingFS
from tradestore.errors import StoreIOError
from tradestore.persistence._fs import spare_path
from tradestore.persistence._replace import REPLACE_BATCH, replace_each_keeping_backup


class _NthFailingFS(FailingFS):
    """Fails the ``nth`` call of the named step; records every call with its file."""

    def __init__(self, fail: str | None = None, nth: int = 1) -> None:
        super().__init__()
        self.target, self.nth = fail, nth
        self.open_fds = 0
        self.most_open = 0

    def _step(self, name: str) -> None:
        self.calls.append(name)
        if name == self.target and self.calls.count(name) == self.nth:
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    def open_temp(self, folder: Path, prefix: str) -> tuple[int, Path]:
        opened = super().open_temp(folder, prefix)
        self.open_fds += 1
        self.most_open = max(self.most_open, self.open_fds)
        return opened

    def close(self, fd: int) -> None:
        super().close(fd)
        self.open_fds -= 1


def _files(folder: Path, names: list[str], *, old: bool = True) -> list[tuple[str, bytes,
                                                                               Path | None]]:
    if old:
        for name in names:
            (folder / name).write_bytes(b"old " + name.encode())
    return [(name, b"new " + name.encode(), None) for name in names]


def _temps(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if n.endswith(".tmp")]


def test_every_file_is_flushed_before_any_is_renamed_and_each_keeps_its_backup(
    tmp_path: Path,
) -> None:
    files = _files(tmp_path, ["a.json", "b.json"]) + _files(tmp_path, ["c.json"], old=False)
    fs = _NthFailingFS()
    replace_each_keeping_backup(fs, tmp_path, files, backup_suffix=".bak")
    assert fs.calls == (["open_temp", "write"] * 3 + ["fdatasync"] * 3 + ["close"] * 3
                        + ["replace"] * 5)  # a and b: live to backup, then new to live
    assert "fsync_dir" not in fs.calls  # the caller syncs the folder once for all
    for name in ("a.json", "b.json", "c.json"):
        assert (tmp_path / name).read_bytes() == b"new " + name.encode()
    assert (tmp_path / "a.json.bak").read_bytes() == b"old a.json"
    assert (tmp_path / "b.json.bak").read_bytes() == b"old b.json"
    assert not (tmp_path / "c.json.bak").exists()
    assert _temps(tmp_path) == []


def test_a_spare_is_rewritten_and_takes_the_name(tmp_path: Path) -> None:
    spare = spare_path(tmp_path)
    spare.write_bytes(b"x" * 8192)
    (tmp_path / "a.json").write_bytes(b"old")
    replace_each_keeping_backup(_NthFailingFS(), tmp_path, [("a.json", b"new", spare)],
                                backup_suffix=".bak")
    assert not spare.exists()
    assert (tmp_path / "a.json").read_bytes().rstrip() == b"new"  # padded to the spare's size
    assert (tmp_path / "a.json.bak").read_bytes() == b"old"


def test_no_more_than_a_batch_of_files_is_open_at_once(tmp_path: Path) -> None:
    names = [f"d{i:03d}.json" for i in range(2 * REPLACE_BATCH + 5)]
    fs = _NthFailingFS()
    replace_each_keeping_backup(fs, tmp_path, _files(tmp_path, names), backup_suffix=".bak")
    assert fs.most_open == REPLACE_BATCH
    assert fs.open_fds == 0
    assert all((tmp_path / n).read_bytes() == b"new " + n.encode() for n in names)


@pytest.mark.parametrize(("step", "nth", "replaced"), [
    ("open_temp", 2, []),
    ("write", 2, []),
    ("fdatasync", 2, []),
    ("close", 2, []),
    ("replace", 3, ["a.json"]),  # b's live file to its backup
    ("replace", 4, ["a.json"]),  # b's new file to its name: b's backup goes back
])
def test_a_failed_step_leaves_the_files_not_renamed_as_they_were(
    tmp_path: Path, step: str, nth: int, replaced: list[str],
) -> None:
    names = ["a.json", "b.json", "c.json"]
    files = _files(tmp_path, names)
    with pytest.raises(StoreIOError) as info:
        replace_each_keeping_backup(_NthFailingFS(step, nth), tmp_path, files,
                                    backup_suffix=".bak")
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.__cause__.errno == errno.EIO
    for name in names:
        kept = b"new " if name in replaced else b"old "
        assert (tmp_path / name).read_bytes() == kept + name.encode()
    assert _temps(tmp_path) == []


def test_a_failure_in_a_later_batch_keeps_the_batches_before_it(tmp_path: Path) -> None:
    names = [f"d{i:03d}.json" for i in range(REPLACE_BATCH + 3)]
    fs = _NthFailingFS("fdatasync", REPLACE_BATCH + 2)
    with pytest.raises(StoreIOError):
        replace_each_keeping_backup(fs, tmp_path, _files(tmp_path, names), backup_suffix=".bak")
    for i, name in enumerate(names):
        kept = b"new " if i < REPLACE_BATCH else b"old "
        assert (tmp_path / name).read_bytes() == kept + name.encode()
    assert _temps(tmp_path) == []
