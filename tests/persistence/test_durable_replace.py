"""The replace protocol (write_new, replace_keeping_backup), step by step."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from tradestore.errors import CommitInDoubtError, StoreIOError
from tradestore.persistence import FileSystem, replace_keeping_backup, write_new

STEPS = ["open_temp", "write", "fdatasync", "close", "replace", "fsync_dir"]


class FailingFS(FileSystem):
    """Fails the named step with an OSError; records every call."""

    def __init__(self, fail: str | None = None, err: int = errno.EIO) -> None:
        self.fail = fail
        self.err = err
        self.calls: list[str] = []

    def _step(self, name: str) -> None:
        self.calls.append(name)
        if name == self.fail:
            raise OSError(self.err, os.strerror(self.err))

    def open_temp(self, folder: Path, prefix: str) -> tuple[int, Path]:
        self._step("open_temp")
        return super().open_temp(folder, prefix)

    def write(self, fd: int, data: bytes) -> None:
        self._step("write")
        super().write(fd, data)

    def fdatasync(self, fd: int) -> None:
        self._step("fdatasync")
        super().fdatasync(fd)

    def close(self, fd: int) -> None:
        self._step("close")
        super().close(fd)

    def replace(self, src: Path, dst: Path) -> None:
        self._step("replace")
        super().replace(src, dst)

    def fsync_dir(self, folder: Path) -> None:
        self._step("fsync_dir")
        super().fsync_dir(folder)


def test_replace_writes_private_file_and_leaves_no_temp(tmp_path: Path) -> None:
    fs = FailingFS()
    write_new(fs, tmp_path, "a.json", b"new", durable=True)
    assert (tmp_path / "a.json").read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["a.json"]
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o600
    assert fs.calls == STEPS


def test_non_durable_skips_only_the_fsyncs(tmp_path: Path) -> None:
    fs = FailingFS()
    write_new(fs, tmp_path, "a.json", b"new", durable=False)
    assert fs.calls == ["open_temp", "write", "close", "replace"]
    assert (tmp_path / "a.json").read_bytes() == b"new"


def test_backup_keeps_previous_version(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b"old")
    replace_keeping_backup(FileSystem(), tmp_path, "a.json", b"new", durable=True,
                           backup="a.json.bak")
    assert (tmp_path / "a.json").read_bytes() == b"new"
    assert (tmp_path / "a.json.bak").read_bytes() == b"old"


@pytest.mark.parametrize("step", STEPS)
def test_failure_at_each_step_keeps_old_file_and_chains(tmp_path: Path, step: str) -> None:
    (tmp_path / "a.json").write_bytes(b"old")
    fs = FailingFS(fail=step)
    with pytest.raises(StoreIOError) as info:
        replace_keeping_backup(fs, tmp_path, "a.json", b"new", durable=True,
                               backup="a.json.bak")
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.__cause__.errno == errno.EIO
    assert (tmp_path / "a.json").read_bytes() == b"old"
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


@pytest.mark.parametrize("step", STEPS)
def test_failure_at_each_step_of_a_new_file_leaves_nothing(tmp_path: Path, step: str) -> None:
    fs = FailingFS(fail=step)
    with pytest.raises(StoreIOError) as info:
        write_new(fs, tmp_path, "journal.json", b"new", durable=True)
    assert isinstance(info.value.__cause__, OSError)
    assert os.listdir(tmp_path) == []


def test_disk_full_is_recoverable(tmp_path: Path) -> None:
    fs = FailingFS(fail="write", err=errno.ENOSPC)
    with pytest.raises(StoreIOError) as info:
        write_new(fs, tmp_path, "a.json", b"new", durable=True)
    assert info.value.recoverable
    assert info.value.metadata["errno"] == errno.ENOSPC
    assert os.listdir(tmp_path) == []


def test_permission_denied_is_not_recoverable(tmp_path: Path) -> None:
    fs = FailingFS(fail="open_temp", err=errno.EACCES)
    with pytest.raises(StoreIOError) as info:
        write_new(fs, tmp_path, "a.json", b"new", durable=True)
    assert not info.value.recoverable


def test_temp_names_are_unique(tmp_path: Path) -> None:
    fs = FileSystem()
    names = set()
    for _ in range(50):
        fd, path = fs.open_temp(tmp_path, "a.json")
        os.close(fd)
        names.add(path.name)
    assert len(names) == 50


def test_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"precious")
    folder = tmp_path / "store"
    folder.mkdir()
    (folder / "a.json").symlink_to(outside)
    replace_keeping_backup(FileSystem(), folder, "a.json", b"new", durable=True,
                           backup="a.json.bak")
    assert outside.read_bytes() == b"precious"
    assert (folder / "a.json.bak").is_symlink()  # moved aside, never followed
    assert not (folder / "a.json").is_symlink()
    assert (folder / "a.json").read_bytes() == b"new"


def test_read_refuses_symlinks(tmp_path: Path) -> None:
    (tmp_path / "target").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    with pytest.raises(OSError, match="Too many levels") as info:
        FileSystem().read(tmp_path / "link")
    assert info.value.errno == errno.ELOOP


class _StuckFS(FailingFS):
    """The folder sync fails, and so does every way of taking the new file back."""

    def __init__(self) -> None:
        super().__init__(fail="fsync_dir")

    def unlink(self, path: Path) -> None:
        self._step("unlink")
        raise OSError(errno.EIO, "unlink fails too")

    def replace(self, src: Path, dst: Path) -> None:
        if "fsync_dir" in self.calls:
            raise OSError(errno.EIO, "no rename back either")
        super().replace(src, dst)


@pytest.mark.parametrize("backup", [False, True], ids=["write_new", "keeping_backup"])
def test_a_new_file_that_cannot_be_withdrawn_is_in_doubt(tmp_path: Path, backup: bool) -> None:
    if backup:
        (tmp_path / "a.json").write_bytes(b"old")
    def write() -> None:
        if backup:
            replace_keeping_backup(_StuckFS(), tmp_path, "a.json", b"new", durable=True,
                                   backup="a.json.bak")
        else:
            write_new(_StuckFS(), tmp_path, "a.json", b"new", durable=True)

    with pytest.raises(CommitInDoubtError) as info:
        write()
    assert isinstance(info.value, StoreIOError)
    assert info.value.metadata["in_doubt"] is True
    assert isinstance(info.value.__cause__, OSError)
    assert (tmp_path / "a.json").read_bytes() == b"new"  # on disk: the caller must keep it


def test_a_failed_folder_sync_withdraws_the_new_file_when_it_can(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b"old")
    with pytest.raises(StoreIOError) as info:
        replace_keeping_backup(FailingFS(fail="fsync_dir"), tmp_path, "a.json", b"new",
                               durable=True, backup="a.json.bak")
    assert not isinstance(info.value, CommitInDoubtError)
    assert "in_doubt" not in info.value.metadata
    assert (tmp_path / "a.json").read_bytes() == b"old"
