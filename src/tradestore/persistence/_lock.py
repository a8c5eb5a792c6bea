"""The single-writer lock of a store folder, held across processes with ``filelock``.

The lock file is never deleted: deleting it would let two writers lock two
different inodes of the same name.

Beside it, the holder writes an informational record, ``.lock.owner`` (pid,
host, since), atomically (temporary file, then ``os.replace``) right after it
took the lock; it stays after the release (a stopped writer's pid is simply no
longer alive, which :meth:`LockOwner.is_alive` tells). The record is not part
of the lock protocol: nothing reads it to decide who may write. It only lets
a reader (``tradestore serve``) say which process holds the writer lock without
touching the lock itself, which would race with a writer starting up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import filelock
import msgspec

from tradestore.errors import StoreIOError, StoreLockedError
from tradestore.persistence._fs import FILE_MODE, FileSystem, run_io

__all__ = ["LOCK_NAME", "OWNER_NAME", "LockOwner", "WriterLock", "read_lock_owner"]

_log = logging.getLogger(__name__)

LOCK_NAME = ".lock"
OWNER_NAME = ".lock.owner"


class LockOwner(msgspec.Struct, frozen=True, kw_only=True):
    """Who took the writer lock of a store folder, as its sidecar record says."""

    pid: int
    host: str
    since: datetime

    def is_alive(self) -> bool | None:
        """Whether the process still runs: None when it runs on another host (unknown)."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # it exists, owned by another user
            return True
        return True


_DECODER = msgspec.json.Decoder(LockOwner)


def _write_owner(fs: FileSystem, folder: Path) -> None:
    # Through the store's FileSystem, as every other file of the folder is written:
    # a fresh temp file, then a rename (no sync: the record is informational).
    record = LockOwner(pid=os.getpid(), host=socket.gethostname(), since=datetime.now(UTC))
    # A store folder holding collection sub-folders is not scanned for leftovers at
    # open, so a record left half-written by a failed earlier open is removed here.
    for name in fs.listdir(folder):
        if name.startswith(".lock-owner.") and name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                fs.unlink(folder / name)
    fd, tmp = fs.open_temp(folder, "lock-owner")
    try:
        try:
            fs.write(fd, msgspec.json.encode(record))
        finally:
            fs.close(fd)
        fs.replace(tmp, folder / OWNER_NAME)
    except BaseException:
        with contextlib.suppress(OSError):
            fs.unlink(tmp)
        raise


def read_lock_owner(folder: str | os.PathLike[str]) -> LockOwner | None:
    """The sidecar record of the process holding ``folder``'s writer lock, if any.

    None when no writer ever announced itself. The record of the last writer
    stays after it stops: check :meth:`LockOwner.is_alive`. Never takes or
    tests the lock itself.
    """
    try:
        with open(Path(folder) / OWNER_NAME, "rb") as src:
            data = src.read(4096)
    except OSError:
        return None
    try:
        return _DECODER.decode(data)
    except msgspec.DecodeError:
        return None


class WriterLock:
    """An exclusive, non-blocking lock on ``folder/.lock``."""

    def __init__(self, folder: Path, fs: FileSystem | None = None) -> None:
        self.path = folder / LOCK_NAME
        self._fs = fs or FileSystem()
        self._lock = filelock.FileLock(self.path, timeout=0, mode=FILE_MODE, thread_local=False)

    async def acquire(self) -> None:
        """Take the lock now or raise StoreLockedError (never waits for the other writer)."""
        attempt = asyncio.ensure_future(run_io(self._lock.acquire))
        try:
            await asyncio.shield(attempt)
        except asyncio.CancelledError:
            # The acquire goes on in its worker thread: wait for it and undo it, or the
            # lock (and its descriptor) would stay held by a store that never opened.
            await asyncio.wait([attempt])
            if not attempt.cancelled() and attempt.exception() is None:
                await run_io(self._lock.release, True)
            raise
        except filelock.Timeout as exc:
            raise StoreLockedError(
                f"{self.path.parent} is open for writing by another process", path=str(self.path)
            ) from exc
        except OSError as exc:
            raise StoreIOError.from_os_error(f"locking {self.path}", exc) from exc
        try:
            await run_io(_write_owner, self._fs, self.path.parent)
        except OSError:  # informational only: the lock is held all the same
            _log.warning("could not write %s", self.path.parent / OWNER_NAME, exc_info=True)

    async def release(self) -> None:
        """Release the lock (the file stays)."""
        if self._lock.is_locked:
            await run_io(self._lock.release, True)
