"""The single-writer lock of a store folder, held across processes with ``filelock``.

The lock file is never deleted: deleting it would let two writers lock two
different inodes of the same name.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import filelock

from tradestore.errors import StoreIOError, StoreLockedError
from tradestore.persistence._fs import FILE_MODE, run_io

__all__ = ["LOCK_NAME", "WriterLock"]

LOCK_NAME = ".lock"


class WriterLock:
    """An exclusive, non-blocking lock on ``folder/.lock``."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
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

    async def release(self) -> None:
        """Release the lock (the file stays)."""
        if self._lock.is_locked:
            await run_io(self._lock.release, True)
