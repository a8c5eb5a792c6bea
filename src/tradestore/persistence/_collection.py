"""A collection: records of one type, partitioned into documents, durable in one folder.

How a change becomes durable (the modules named hold the details and the why):

1. A mutation runs under the collection's lock against the cache
   (:class:`~._changes.Txn`), then joins the pending batch
   (:class:`~._changes.Batch`) and waits for its commit (a caller cancelled
   meanwhile stops waiting; its change is committed all the same).
2. One write loop takes the whole pending batch and writes it as ONE new
   journal file (:mod:`._journal`, by :func:`~._replace.write_new`): many
   concurrent changes, to any number of documents, cost one file write. Every
   waiter of the batch is then woken. The file written is a spare when there
   is one (:mod:`._spares`). With ``journal="append"`` the batch is instead
   ONE record appended to the collection's log (:mod:`._applog`): one write
   and one data flush.
3. After ``checkpoint_every`` commits or ``checkpoint_bytes`` of them (see
   :func:`~._checkpoint.checkpoint_limits` for the defaults and their reasons),
   after ``idle_checkpoint`` seconds without commits, and at close, a
   checkpoint (:mod:`._checkpoint`) rewrites each document changed since the
   last one, records the sequence number in ``checkpoint.json`` and retires
   the journals it covers.

A document records the sequence number it includes; on open, journals newer
than a document are replayed onto it, so a crash at any step loses nothing
acknowledged. If a commit fails, every waiting caller gets the error and the
cache is rolled back to the committed state. Records in the cache are never
mutated in place: a change stores a new record object.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from tradestore.errors import CommitInDoubtError, StoreError, StoreIOError
from tradestore.persistence._applog import close_log
from tradestore.persistence._cache import DocumentCache, Unsettled
from tradestore.persistence._changes import Txn, check_encodable
from tradestore.persistence._checkpoint import (
    CheckpointPlan,
    QuietTimer,
    checkpoint_limits,
    run_checkpoint,
)
from tradestore.persistence._format import Decoded
from tradestore.persistence._fs import FileSystem, make_folder, run_io
from tradestore.persistence._journal import JournalState, commit_error, write_commit
from tradestore.persistence._naming import doc_file_name
from tradestore.persistence._recovery import FolderScan, journal_names_in, scan_folder
from tradestore.persistence._spares import BUSY_SPARES, SparePool, remove_spares
from tradestore.persistence._verify import Problem, verify_collection

__all__ = ["Collection", "Txn"]

_log = logging.getLogger(__name__)
R = TypeVar("R", bound=msgspec.Struct)
T = TypeVar("T")


class Collection(DocumentCache[R]):
    """Records of type ``R`` keyed by (document id, key), stored in ``folder``."""

    def __init__(  # noqa: PLR0913  one keyword per tunable; BaseStore passes them through
        self,
        folder: Path,
        name: str,
        record_type: type[R],
        *,
        fs: FileSystem,
        durable: bool,
        read_only: bool,
        lazy: bool = False,  # documents loaded on first use, or with warm, ahead of it
        warm: bool = False,
        checkpoint_every: int | None = None, checkpoint_bytes: int | None = None,
        idle_checkpoint: float = 1.0,
        journal: str = "files",
    ) -> None:
        super().__init__(folder, name, record_type, fs=fs, read_only=read_only, warm=warm and lazy)
        self._durable = durable
        self._append = journal == "append"
        self._lazy = lazy and not read_only
        every, nbytes = checkpoint_limits(append=self._append, durable=durable)
        self._checkpoint_every = every if checkpoint_every is None else checkpoint_every
        self._checkpoint_bytes = nbytes if checkpoint_bytes is None else checkpoint_bytes
        self._idle = QuietTimer(idle_checkpoint, lambda: self._start_checkpoint(True))
        rec_t: Any = record_type
        self._journal_decoder: msgspec.json.Decoder[Decoded[dict[str, Any]]] = (
            msgspec.json.Decoder(Decoded[dict[str, dict[str, rec_t | None]]])
        )
        self._reset()

    def _reset(self) -> None:
        self._idle.cancel()
        self._clear()
        self._seen_journals: frozenset[str] = frozenset()
        # Spares bounded to what a busy store reuses between two checkpoints.
        self._spares = SparePool(min(self._checkpoint_every, BUSY_SPARES)
                                 if self._fs.reuse_files else 0)
        self._writer: asyncio.Task[None] | None = None
        self._checkpointer: asyncio.Task[None] | None = None

    # -- opening -------------------------------------------------------------------------

    async def open(self, *, salvage: list[str] | None = None) -> None:
        """Scan the folder, recover, and load the documents (all of them unless lazy).

        A read-only open races with the writer's checkpoints (a journal removed,
        a document being rotated): it starts over until it reads a settled state.
        """
        await self._stop_warming()
        for attempt in range(20):
            try:
                await self._open_once(salvage)
                self._start_warming()
                return
            except Unsettled:
                await asyncio.sleep(0.005 * (attempt + 1))
        self._settle_anyway = True
        try:
            await self._open_once(salvage)
        finally:
            self._settle_anyway = False  # the next reload() tries for a settled state again

    async def _open_once(self, salvage: list[str] | None = None) -> None:
        self._reset()
        try:
            if not self._read_only:
                await run_io(make_folder, self._fs, self.folder)
            scan: FolderScan = await run_io(
                scan_folder, self._fs, self.folder, self.name, self._journal_decoder,
                self._read_only,
            )
        except FileNotFoundError as exc:
            if self._read_only:
                raise Unsettled from exc
            raise StoreIOError.from_os_error(f"opening {self.folder}", exc) from exc
        except OSError as exc:
            raise StoreIOError.from_os_error(f"opening {self.folder}", exc) from exc
        if scan.unreadable and self._read_only:
            if not self._settle_anyway:
                raise Unsettled  # most likely a journal being recycled by the writer
            _log.error("read-only open of %s skips damaged journal(s) %s", self.folder,
                       ", ".join(scan.unreadable))
        self._files = dict(scan.doc_files)
        self._seen_journals = scan.journal_names
        # Spares the last writer kept: usable once a folder sync (the first durable
        # commit's, or a checkpoint's) has made their names durable.
        self._spares.adopt([self.folder / name for name in scan.spares], names_durable=False)
        if not self._read_only:
            await self._trim_spares()  # e.g. left by many killed writers
        journals = {seq: name for seq, name, _ in scan.journals}
        top = max([scan.checkpoint_seq or 0, *journals])
        self._log = JournalState(top, journals, append=self._append, log_files=set(scan.logs))
        for seq, _, changes in scan.journals:
            for doc, recs in changes.items():
                self._overlay.setdefault(doc, []).append((seq, recs))
                self._log.dirty.add(doc)
        self._scan_seq = top
        if not self._lazy or (scan.checkpoint_seq is None and scan.doc_files):
            # Without a checkpoint record the documents' own numbers must be read.
            await self.load_all(salvage=salvage)

    async def changed_since_open(self) -> bool:
        """Whether a writer committed or checkpointed here since the folder scan of open."""
        try:
            now = await run_io(journal_names_in, self._fs, self.folder, self.name,
                               self._journal_decoder)
        except OSError:
            return True
        return now != self._seen_journals

    # -- writing ---------------------------------------------------------------------------

    async def mutate(self, docs: Iterable[str], fn: Callable[[Txn[R]], T]) -> T:
        """Run ``fn`` on a transaction over the (loaded) ``docs``; return once durable.

        If ``fn`` raises, nothing changes. If the commit fails, the cache is
        rolled back and the ``StoreError`` is raised (a
        :class:`CommitInDoubtError` when the change is on disk and kept).
        """
        if self._read_only:
            raise StoreError(f"{self.folder} is open read-only", code="store_read_only")
        async with self._lock:
            for doc in docs:
                if doc not in self._docs:
                    await self._load(doc)
            txn: Txn[R] = Txn(self._docs)
            result = fn(txn)
            check_encodable(txn)
            fut = self._log.pending.add(self._docs, txn) if txn.writes else None
        if fut is not None:
            if self._writer is None or self._writer.done():
                self._writer = asyncio.get_running_loop().create_task(self._write_loop())
            await fut
        return result

    async def _write_loop(self) -> None:
        log = self._log
        while log.pending.waiters:
            batch, seq = log.take()
            name = log.target(seq, self._durable)
            try:
                nbytes = await run_io(write_commit, self._fs, self.folder, self.name,
                                      log.applog, seq, batch.changes, durable=self._durable,
                                      spare=None if self._append else self._spares.take())
            except BaseException as exc:
                err = commit_error(exc, self.folder)
                if isinstance(err, CommitInDoubtError):
                    # Its callers still get the error: the change is not known durable.
                    failed = log.in_doubt(batch, seq, name, self._docs)
                else:
                    failed = log.failed(batch, self._docs)
                for b in failed:
                    b.fail(err)
                if not isinstance(exc, Exception):
                    raise
                continue
            if self._durable and not self._append:
                self._spares.folder_synced()  # the commit synced the folder
            log.committed(batch, seq, name, nbytes)
            batch.done()
            self._schedule_checkpoint()

    def _schedule_checkpoint(self) -> None:
        """Checkpoint now if the journals are many or large; again after a quiet spell."""
        log = self._log
        if (len(log.journals) >= self._checkpoint_every
                or log.journal_bytes >= self._checkpoint_bytes):
            self._start_checkpoint()
        self._idle.touch()  # the quiet one also trims the spares a burst left

    def _start_checkpoint(self, idle: bool = False) -> None:
        if self._checkpointer is None or self._checkpointer.done():
            self._checkpointer = asyncio.get_running_loop().create_task(
                self._quiet_checkpoint() if idle else self.checkpoint()
            )

    async def _quiet_checkpoint(self) -> None:
        """The checkpoint after a quiet spell: fold, then keep only a handful of spares."""
        await self.checkpoint()
        await self._trim_spares()

    async def _trim_spares(self) -> None:
        gone = self._spares.trim()
        if gone:
            try:
                await run_io(remove_spares, self._fs, gone)
            except OSError:
                _log.warning("could not remove spare files in %s", self.folder, exc_info=True)

    async def verify(self) -> list[Problem]:
        """Check every file of this collection's folder; nothing is changed."""
        return await run_io(verify_collection, self._fs, self.folder, self.name,
                            self._doc_decoder, self._journal_decoder)

    # -- checkpoints -----------------------------------------------------------------------

    async def checkpoint(self) -> None:
        """Fold the journals into the documents; failures leave the journals in place."""
        if self._read_only:
            return
        plan = await self._plan_checkpoint()
        if plan is None:
            return
        try:
            spares = await run_checkpoint(self._fs, self.folder, plan,
                                          sync_point=not self._durable, room=self._spares.room())
        except Exception:
            self._log.dirty |= set(plan.snaps)
            _log.warning("checkpoint of %s failed; its journals are kept", self.folder,
                         exc_info=True)
            return
        self._log.folded(max(plan.covered, default=0))
        self._log.log_files -= plan.logs
        self._spares.add(spares)
        if spares or not self._durable:  # the checkpoint ended with a folder sync
            self._spares.folder_synced()
        touched = self._log.docs_in_flight()
        for doc, records in plan.snaps.items():
            if not records:  # its files are gone: forget it unless a change is in flight
                self._files.pop(doc, None)
                if doc not in touched and not self._docs.get(doc):
                    self._docs.pop(doc, None)

    async def _plan_checkpoint(self) -> CheckpointPlan | None:
        """Copy what a checkpoint writes, under the lock; None when there is nothing to do."""
        async with self._lock:
            log = self._log
            try:
                for doc in list(log.dirty):
                    if doc not in self._docs:
                        await self._load(doc)
            except StoreError:
                # A document beyond recovery (or unreadable now): fold nothing, keep
                # every journal; its next read raises for the caller to see.
                _log.error("checkpoint of %s skipped: a changed document cannot be read",
                           self.folder, exc_info=True)
                return None
            seq = log.committed_seq
            covered = {s: name for s, name in log.journals.items() if s <= seq}
            if not log.dirty and not covered and not log.log_files:
                return None
            # Only the journals up to ``seq`` touch nothing but these documents, so
            # only they are retired. Each document is copied at its own moment (the
            # loop is yielded to between them so a big checkpoint never stalls it)
            # and records the sequence number it then includes (>= seq); commits
            # landing meanwhile keep their journals and mark their documents dirty.
            dirty, log.dirty = log.dirty, set()
            plan = CheckpointPlan(self.name, {}, {}, {}, covered, log.logs_to_retire(seq))
            for i, doc in enumerate(dirty):
                if i and not i % 32:
                    await asyncio.sleep(0)
                plan.snaps[doc] = log.committed_view(doc, self._docs[doc])
                plan.seqs[doc] = log.committed_seq
                plan.names[doc] = self._files.setdefault(doc, doc_file_name(doc))
        return plan

    # -- closing ---------------------------------------------------------------------------

    async def drain(self) -> None:
        """Wait for every pending commit and checkpoint."""
        while True:
            tasks = [t for t in (self._writer, self._checkpointer)
                     if t is not None and not t.done()]
            if not tasks:
                return
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        """Drain, then checkpoint so the folder is compact for the next open."""
        await self._stop_warming()
        await self.drain()
        self._idle.cancel()  # after the drain: its last commits touched it
        if self._read_only:
            return
        if self._log.dirty or self._log.journals or self._log.log_files:
            await self.checkpoint()
        # A handful of spares stay for the next writer (its first commits then create
        # no file); the rest are removed, so a closed store's folder stays small.
        await self._trim_spares()
        if self._log.applog is not None:
            await run_io(close_log, self._fs, self._log.applog)
