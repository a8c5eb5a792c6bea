"""The file-system steps the persistence layer is built from.

Each step is one small synchronous method of :class:`FileSystem`, so a test can
make any one of them fail, leave one out, or replace the whole class with a
simulation that models what survives a power loss. Two of them make things
durable, and they are named for what they do: :meth:`FileSystem.fdatasync`
(a file's bytes) and :meth:`FileSystem.fsync_dir` (a folder's names). The
steps run in a worker thread through :func:`run_io` (``aiofiles``' executor
wrapper): the event loop never blocks on the disk, and a whole protocol costs
one thread hop instead of one per call.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import stat
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import aiofiles.os

from tradestore.persistence._format import BLOCK

__all__ = [
    "FileSystem",
    "is_spare_name",
    "is_temp_name",
    "make_folder",
    "run_io",
    "spare_path",
    "temp_path",
]

_T = TypeVar("_T")

FILE_MODE = 0o600
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC  # a new file
_REOPEN = os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC  # a file this layer made, for writing
DIR_MODE = 0o700
# Linux's FS_IOC_GETFLAGS / FS_IOC_SETFLAGS (_IOR/_IOW('f', 1/2, long)) and FS_NOCOW_FL.
_GETFLAGS = (2 << 30) | (struct.calcsize("l") << 16) | (ord("f") << 8) | 1
_SETFLAGS = (1 << 30) | (struct.calcsize("l") << 16) | (ord("f") << 8) | 2
_NOCOW = 0x00800000
_NO_FLAGS = struct.pack("i", 0)
TEMP_SUFFIX = ".tmp"
SPARE_PREFIX = ".spare."


def _call(fn: Callable[..., _T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> _T:
    return fn(*args, **kwargs)


_run = aiofiles.os.wrap(_call)


async def run_io(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run ``fn(*args, **kwargs)`` in aiofiles' executor and return its result."""
    result: _T = await _run(fn, args, kwargs)
    return result


def is_spare_name(name: str) -> bool:
    """Whether ``name`` is a spare: a file no longer needed, kept to be rewritten in place."""
    return name.startswith(SPARE_PREFIX) and name.endswith(TEMP_SUFFIX)


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is an unfinished write (a leftover to remove), never a spare."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX) and not is_spare_name(name)


def spare_path(folder: Path) -> Path:
    """A fresh name for a spare in ``folder``."""
    return temp_path(folder, SPARE_PREFIX[1:-1])


def temp_path(folder: Path, prefix: str) -> Path:
    """A fresh, random temporary file name in ``folder`` (never a fixed name)."""
    return folder / f".{prefix}.{secrets.token_hex(6)}{TEMP_SUFFIX}"


class FileSystem:
    """The primitive file operations, one method a step (override to inject faults)."""

    #: Whether writes go into spares (files no longer needed, rewritten in place,
    #: see ``_spares.py``) and files are padded to whole blocks so they fit. Off,
    #: every write creates its temporary file and checkpoints keep no spares.
    #: ``None`` (the default): decided at a store's open from its file system,
    #: by :func:`~._spares.spares_pay_off`.
    reuse_files: bool | None = None

    def open_temp(self, folder: Path, prefix: str) -> tuple[int, Path]:
        """Create a new, unique, private temporary file in ``folder`` (never a fixed name)."""
        for _ in range(100):
            path = temp_path(folder, prefix)
            try:
                fd = os.open(path, _CREATE, FILE_MODE)
            except FileExistsError:
                continue
            return fd, path
        raise FileExistsError(errno.EEXIST, "no unique temporary name", str(folder))

    def open_spare(self, path: Path, size: int) -> tuple[int, int]:
        """Open a spare to rewrite it in place with ``size`` bytes: (descriptor, length).

        A spare is a temporary file this layer made and no longer needs (a
        folded journal or an old backup, renamed to a temporary name).
        Rewriting blocks that are already allocated changes no metadata, so
        its sync is one data flush, and no inode is created or freed. The
        returned length is what the file should hold once written: the spare's
        own length when ``size`` fits in it (the caller pads the rest), else
        ``size``. A spare far larger than ``size`` is cut down first, so a small
        write never costs a large one.
        """
        fd = os.open(path, _REOPEN)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise IsADirectoryError(errno.EISDIR, "not a regular file", str(path))
            if st.st_size > 2 * size + BLOCK:  # more padding than a block beyond twice
                os.ftruncate(fd, size)
                return fd, size
        except BaseException:
            os.close(fd)
            raise
        return fd, max(st.st_size, size)

    def open_log(self, path: Path) -> int:
        """Create the append journal ``path`` (it must not exist) and open it for writing.

        Where the file system has the attribute (btrfs), the file is made
        no-copy-on-write (``chattr +C``, which only an empty file takes), as
        databases' logs on btrfs commonly are. A record then overwrites its
        zeros in place, and its flush writes no new extent and no data
        checksum: a fifth to a quarter less per durable append there
        (docs/benchmarks-filesystems.md). Nothing relies on copy-on-write:
        records start on a block of their own and carry their own checksum.
        """
        fd = os.open(path, _CREATE, FILE_MODE)
        try:
            flags = struct.unpack("i", fcntl.ioctl(fd, _GETFLAGS, _NO_FLAGS))[0]
            fcntl.ioctl(fd, _SETFLAGS, struct.pack("i", flags | _NOCOW))
        except OSError:  # not btrfs (EOPNOTSUPP, ENOTTY): nothing to change
            pass
        return fd

    def reopen_log(self, path: Path) -> int:
        """Open the existing append journal ``path`` (to flush it)."""
        return os.open(path, _REOPEN)

    def pwrite(self, fd: int, data: bytes, offset: int) -> None:
        """Write all of ``data`` at ``offset`` (short writes are continued)."""
        view = memoryview(data)
        while view:
            written = os.pwrite(fd, view, offset)
            view, offset = view[written:], offset + written

    def write(self, fd: int, data: bytes) -> None:
        """Write all of ``data`` (short writes are continued)."""
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    def fdatasync(self, fd: int) -> None:
        """Make the file's bytes, and the size and blocks needed to read them back, durable.

        ``fdatasync``, not ``fsync``: only the timestamps may stay unsynced, and
        nothing here reads them. The file's *name* is made durable separately,
        by :meth:`fsync_dir` of its folder.
        """
        os.fdatasync(fd)

    def close(self, fd: int) -> None:
        """Close a descriptor."""
        os.close(fd)

    def replace(self, src: Path, dst: Path) -> None:
        """Atomically rename ``src`` onto ``dst`` (a symlink at ``dst`` is replaced)."""
        os.replace(src, dst)

    def fsync_dir(self, folder: Path) -> None:
        """Make the folder's entries (renames, creations, removals) durable."""
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def unlink(self, path: Path) -> None:
        """Remove a file."""
        os.unlink(path)

    def mkdir(self, folder: Path) -> None:
        """Create ``folder`` and its parents, private; an existing folder is kept as is."""
        folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)

    def read(self, path: Path) -> bytes:
        """Read a whole regular file without following a symlink."""
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise IsADirectoryError(errno.EISDIR, "not a regular file", str(path))
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def listdir(self, folder: Path) -> list[str]:
        """Names in ``folder``; a missing folder is empty."""
        try:
            return os.listdir(folder)
        except FileNotFoundError:
            return []

    def exists(self, path: Path) -> bool:
        """Whether ``path`` exists (a symlink counts, even a dangling one)."""
        return os.path.lexists(path)


def make_folder(fs: FileSystem, folder: Path) -> None:
    """Create ``folder`` and its missing parents, and sync each new entry.

    A new folder is an entry of its parent: until the parent is fsync'd, a power
    loss can take the folder, and every file already synced inside it, away.
    This runs once per folder, so even ``durable=False`` pays it: its
    checkpoints' syncs would otherwise protect files in a folder that can vanish.
    """
    missing: list[Path] = []
    level = folder
    while level.parent != level and not fs.exists(level):
        missing.append(level)
        level = level.parent
    fs.mkdir(folder)
    for created in reversed(missing):
        fs.fsync_dir(created.parent)
