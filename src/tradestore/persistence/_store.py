"""The lifecycle every store shares: open, lock, collections, clock, close.

A store subclass names its sub-folder and declares its collections; this base
class does the rest. Contract common to every store (docs/reference.md):

- ``initialize()`` is idempotent and safe to call concurrently; any method
  called before it initializes the store first.
- After ``close()`` every method raises :class:`StoreClosedError`.
- With ``read_only=True`` no lock is taken, nothing on disk changes, mutations
  raise :class:`StoreError`, and the state is the one seen at ``initialize()``
  or the last ``reload()``.
- Within one process, every writable store object opened on the same folder is
  a *handle* on one open store: the first open takes the lock and loads the
  cache, later ones share its collections and caches (a write through one is
  seen at once through the others), and the files are checkpointed and the lock
  released when the last handle is closed. Each handle keeps its own clock and
  options (time zone, intervals). A handle asking for ``durable=True`` on a store
  this process opened with ``durable=False`` is refused (:class:`StoreError`,
  code ``store_options_conflict``), as its writes would not be synced; a
  ``read_only=True`` open always gets its own read-only snapshot.
- ``durable=True``: a mutation returns once its change is synced; neither a
  killed process nor a power cut loses it. ``durable=False``: commits are not
  synced, checkpoints are (after a second without writes, every 1,000 commits
  or 16 MiB, ``checkpoint()``, ``close()``); a killed process loses nothing
  acknowledged, a power cut at most each collection's writes since its last
  checkpoint, and the store always opens without repair.
- ``journal="files"`` (the default): each commit is a new small journal file.
  ``journal="append"``: each commit is a record appended to a preallocated log
  (one data flush per durable commit instead of a file creation and a folder
  sync). Same promises in both modes; either mode opens a folder the other
  wrote. A handle joining a store already open in this process uses that
  open's mode (``store.journal`` says which).

:raises StoreLockedError: from ``initialize()``, if another process writes here
    (or, in this process, a store of another class or on another event loop).
:raises StoreCorruptedError: from any method, if a file is damaged beyond recovery.
:raises StoreIOError: from any method, on an operating-system error.
"""

from __future__ import annotations

import asyncio
import os
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

import msgspec

from tradestore.errors import StoreClosedError, StoreError, StoreIOError, ValidationError
from tradestore.models._stamps import Clock, ensure_clock, read_clock
from tradestore.persistence._applog import ensure_journal_mode
from tradestore.persistence._collection import Collection
from tradestore.persistence._fs import FileSystem, make_folder, run_io
from tradestore.persistence._lock import WriterLock
from tradestore.persistence._naming import BACKUP_SUFFIX
from tradestore.persistence._shared import HANDLE_ATTRS, SharedOpen, find_open, register_open
from tradestore.persistence._spares import spares_pay_off
from tradestore.persistence._verify import Problem, RepairReport

__all__ = ["BaseStore", "Clock"]

R = TypeVar("R", bound=msgspec.Struct)


class BaseStore:
    """Shared lifecycle of the four stores."""

    folder_name: ClassVar[str]
    backend: ClassVar[str] = "file"
    handle_attrs: ClassVar[frozenset[str]] = frozenset()
    """A subclass's per-handle attributes (its options): never shared between handles.

    Every other attribute must be created in ``__init__`` and never re-bound after
    ``initialize()`` (change objects in place), so that all handles see one state.
    """

    def __init__(  # noqa: PLR0913  the documented keyword list, plus exclusive (for PostgreSQL)
        self,
        data_dir: str | os.PathLike[str],
        *,
        durable: bool = True,
        read_only: bool = False,
        clock: Clock | None = None,
        exclusive: bool = False,
        fs: FileSystem | None = None,
        journal: str = "files",
    ) -> None:
        if not isinstance(data_dir, str | os.PathLike):
            raise ValidationError("data_dir must be a str or os.PathLike", field="data_dir")
        self.journal = ensure_journal_mode(journal)
        self._clock: Clock = ensure_clock(clock)  # checked before anything is made
        self.data_dir = Path(data_dir)
        self.folder = self.data_dir / self.folder_name
        self.durable = bool(durable)
        self.read_only = bool(read_only)
        self.exclusive = True  # one writer per folder, always (``exclusive`` is for PostgreSQL)
        self._fs = fs or FileSystem()
        self._collections: list[Collection[Any]] = []
        self._lock = WriterLock(self.folder, self._fs)
        self._state = "new"
        self._opening: asyncio.Future[None] | None = None
        self._salvage: list[str] | None = None
        self._share: SharedOpen | None = None

    def _collection(  # noqa: PLR0913  where, what, and the collection's tunables
        self, sub: str | None, name: str, record_type: type[R], *, lazy: bool = False,
        warm: bool = False, checkpoint_every: int | None = None,
        checkpoint_bytes: int | None = None, idle_checkpoint: float = 1.0,
    ) -> Collection[R]:
        """Declare a collection stored in ``sub`` (or the store folder itself)."""
        coll = Collection(
            self.folder / sub if sub else self.folder, name, record_type, fs=self._fs,
            durable=self.durable, read_only=self.read_only, lazy=lazy,
            warm=warm, checkpoint_every=checkpoint_every, checkpoint_bytes=checkpoint_bytes,
            idle_checkpoint=idle_checkpoint, journal=self.journal,
        )
        self._collections.append(coll)
        return coll

    def now(self) -> datetime:
        """The store clock's current time (timezone-aware)."""
        return read_clock(self._clock)

    # -- lifecycle -------------------------------------------------------------------------

    async def initialize(self) -> None:
        """Open the store: lock (unless read-only), recover, load. Idempotent."""
        if self._state == "open":
            return
        if self._state == "closed":
            raise StoreClosedError(f"{self.folder} store is closed")
        if self._opening is None:
            self._opening = asyncio.get_running_loop().create_future()
            try:
                await self._open()
            except BaseException as exc:
                fut, self._opening = self._opening, None
                if isinstance(exc, Exception):
                    fut.set_exception(exc)
                    fut.exception()  # read here; concurrent openers re-raise it themselves
                else:
                    fut.cancel()
                raise
            self._state = "open"
            self._opening.set_result(None)
            return
        await asyncio.shield(self._opening)

    async def _open(self) -> None:
        if self.read_only:
            await self._choose_file_reuse()
            await self._open_collections()
            return
        try:
            await run_io(make_folder, self._fs, self.folder)
            key = await run_io(os.path.realpath, self.folder)
        except OSError as exc:
            raise StoreIOError.from_os_error(f"creating {self.folder}", exc) from exc
        joined = await find_open(key, self.folder, self._lock.path)
        if joined is not None:
            joined.join(self, self.folder, self._lock.path)
            self._share = joined
            return
        shared = register_open(key, type(self), self.durable)
        try:
            await self._lock.acquire()
            try:
                await self._choose_file_reuse()
                await self._open_collections()
            except BaseException:
                await self._lock.release()
                raise
        except BaseException as exc:
            shared.failed(exc)
            raise
        shared.opened(self, HANDLE_ATTRS | type(self).handle_attrs)
        self._share = shared

    async def _choose_file_reuse(self) -> None:
        if self._fs.reuse_files is None:  # the default: where spares measured a win
            self._fs.reuse_files = await run_io(spares_pay_off, self.data_dir)

    async def _open_collections(self) -> None:
        """Open every collection; a reader, as of one moment of the writer.

        A read-only open of several collections reads them one after the other
        while the writer may commit: it checks afterwards that no collection's
        journals changed since its scan, and starts over if one did, so the
        snapshot is one state of the store (each collection alone always is).
        """
        for attempt in range(20):
            for coll in self._collections:
                await coll.open(salvage=self._salvage)
            if not self.read_only or len(self._collections) <= 1:
                return
            changed = [await coll.changed_since_open() for coll in self._collections]
            if not any(changed):
                return
            await asyncio.sleep(0.005 * (attempt + 1))

    async def _ready(self) -> None:
        """Called first by every public method."""
        if self._state != "open":
            await self.initialize()

    async def reload(self) -> None:
        """Re-read the files (for a read-only store, see the writer's latest commits)."""
        await self._ready()
        for coll in self._collections:
            await coll.drain()
        await self._open_collections()

    async def flush(self) -> None:
        """Wait until every pending write and checkpoint is done."""
        await self._ready()
        for coll in self._collections:
            await coll.drain()

    async def checkpoint(self) -> None:
        """Fold the journal files into the documents now (also done in the background).

        A no-op on a read-only store. Failures are logged, never raised: the
        journals stay and every acknowledged change remains durable.
        """
        await self._ready()
        for coll in self._collections:
            await coll.drain()
            await coll.checkpoint()

    async def close(self) -> None:
        """Wait for pending writes, checkpoint, release the lock. Idempotent.

        On a handle shared with other open handles of this process (see the module
        docs), only waits for pending writes: the last handle closed does the rest.
        """
        if self._state == "closed":
            return
        if self._state == "new" and self._opening is None:
            self._state = "closed"
            return
        if self._opening is not None and self._state != "open":
            try:
                await asyncio.shield(self._opening)
            except Exception:
                self._state = "closed"
                return
        self._state = "closed"
        shared, self._share = self._share, None
        if shared is not None and shared.leave() is None:
            for coll in self._collections:  # others still use the store: wait for writes
                await coll.drain()
            return
        first: BaseException | None = None
        try:
            for coll in self._collections:  # every collection, even after one fails
                try:
                    await coll.close()
                except Exception as exc:
                    first = first or exc
        finally:
            try:
                await self._lock.release()
            finally:
                if shared is not None:
                    shared.closed()
        if first is not None:
            raise first

    async def __aenter__(self) -> Self:
        await self.initialize()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def verify(self) -> list[Problem]:
        """Check every file of this store without changing anything (no lock needed).

        Returns one :class:`Problem` per damaged, newer-version or leftover file.
        """
        problems: list[Problem] = []
        for coll in self._collections:
            try:
                found = await coll.verify()
            except OSError as exc:
                raise StoreIOError.from_os_error(f"checking {coll.folder}", exc) from exc
            problems.extend(found)
        return problems

    async def repair(self, progress: Callable[[str], None] | None = None) -> RepairReport:
        """Recover every document, quarantine what cannot be, and checkpoint.

        Opens the store for writing (:raises StoreLockedError: if another
        process has it). Files of a newer format version are left untouched and
        listed in ``refused``.
        """
        report = RepairReport()
        before = {p.path: p for p in await self.verify()}
        self._salvage = report.lost  # an open in repair mode salvages instead of raising
        try:
            await self._ready()
        finally:
            self._salvage = None
        for coll in self._collections:
            if progress is not None:
                progress(str(coll.folder))
            lost: list[str] = []
            await coll.load_all(salvage=lost)
            report.checked_documents += len(coll.doc_ids())
            report.lost.extend(lost)
            await coll.checkpoint()
        for path, problem in before.items():
            if problem.kind == "newer_version":
                report.refused.append(path)
            elif problem.kind == "damaged":
                report.quarantined.append(path)
                if (problem.recoverable and path not in report.lost
                        and not path.endswith(BACKUP_SUFFIX)):
                    report.recovered.append(path)
        return report

    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.folder} is open read-only", code="store_read_only")

    def __del__(self) -> None:
        if getattr(self, "_state", "closed") == "open":
            warnings.warn(f"{type(self).__name__} at {self.folder} was never closed",
                          ResourceWarning, stacklevel=2)
