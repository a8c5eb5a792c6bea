"""A collection: records of one type, partitioned into documents, durable in one folder.

How a change becomes durable (see DESIGN.md):

1. A mutation runs under the collection's lock against the cache, then joins
   the pending batch and waits (shielded from cancellation) for its commit.
2. One writer task takes the whole pending batch and writes it as ONE new
   journal file ``journal-<seq>.json`` by durable replace (temp file, fsync,
   rename, folder fsync): many concurrent changes, to any number of
   documents, cost one file write. Every waiter of the batch is then woken.
3. After ``checkpoint_every`` journal files or ``checkpoint_bytes`` of them,
   after a second without commits, and at close, a checkpoint rewrites each
   document changed since the last one (``doc-<id>.json``, the previous
   version kept as ``.bak``), fsyncs the folder, records the sequence number
   in ``checkpoint.json`` and turns the journals it covers into spares.

The temp file of a write is a spare when there is one: a folded journal (for
commits) or the document's oldest backup (for checkpoints), renamed to a
``.spare.*.tmp`` name durably before it is rewritten in place. So the steady
state creates and deletes no file, and a commit's sync flushes data only.

A document records the sequence number it includes; on open, journals newer
than a document are replayed onto it, so a crash at any step loses nothing
acknowledged. If a commit fails, every waiting caller gets the error and the
cache is rolled back to the committed state. Records in the cache are never
mutated in place: a change stores a new record object.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, Literal, TypeVar

import msgspec

from tradestore.errors import StoreCorruptedError, StoreError, StoreIOError, ValidationError
from tradestore.persistence._format import Decoded, encode_file, pad_blocks
from tradestore.persistence._fs import (
    FileSystem,
    durable_replace,
    make_folder,
    run_io,
    spare_path,
)
from tradestore.persistence._naming import (
    BACKUP_SUFFIX,
    CHECKPOINT_NAME,
    doc_file_name,
    journal_file_name,
)
from tradestore.persistence._recovery import (
    FolderScan,
    read_doc,
    scan_folder,
    set_aside_bad_backup,
)
from tradestore.persistence._verify import Problem, verify_collection

__all__ = ["Collection", "Txn"]

_log = logging.getLogger(__name__)
R = TypeVar("R", bound=msgspec.Struct)
T = TypeVar("T")


_EMPTY: Mapping[str, Any] = MappingProxyType({})


class _Unsettled(Exception):
    """A read-only open saw the writer mid-checkpoint."""


class _Batch:
    """Changes not yet durable, with the committed value of every key they touch."""

    __slots__ = ("changes", "future", "originals")

    def __init__(self) -> None:
        self.changes: dict[str, dict[str, Any]] = {}
        self.originals: dict[str, dict[str, Any]] = {}
        self.future: asyncio.Future[None] | None = None


_ENCODER = msgspec.json.Encoder()


def _check_encodable(txn: Txn[Any]) -> None:
    """Refuse, before it joins a batch, a record the journal could not encode.

    A value that passed validation but is not encodable (an unknown subclass of a
    builtin, say) must fail its own call with ``ValidationError``, never the
    commit that the other callers of its batch share.
    """
    for writes in txn.writes.values():
        for rec in writes.values():
            if rec is None:
                continue
            try:
                _ENCODER.encode(rec)
            except (TypeError, ValueError, OverflowError, msgspec.EncodeError) as exc:
                raise ValidationError(
                    f"{type(rec).__name__}: a value cannot be stored: {exc}",
                    code="unencodable_value",
                ) from exc


def _consume(fut: asyncio.Future[None]) -> None:
    # A caller cancelled while waiting never reads the outcome; mark it read.
    if not fut.cancelled():
        fut.exception()


class Txn(Generic[R]):
    """The changes of one mutation, applied to the cache only if it returns normally."""

    __slots__ = ("_docs", "writes")

    def __init__(self, docs: dict[str, dict[str, R]]) -> None:
        self._docs = docs
        self.writes: dict[str, dict[str, R | None]] = {}

    def get(self, doc: str, key: str) -> R | None:
        """The record as this transaction sees it (the document must be loaded)."""
        staged = self.writes.get(doc)
        if staged is not None and key in staged:
            return staged[key]
        return self._docs[doc].get(key)

    def records(self, doc: str) -> dict[str, R]:
        """Every record of a loaded document, as this transaction sees them."""
        merged = dict(self._docs[doc])
        for key, rec in self.writes.get(doc, {}).items():
            if rec is None:
                merged.pop(key, None)
            else:
                merged[key] = rec
        return merged

    def put(self, doc: str, key: str, record: R) -> None:
        """Insert or replace a record."""
        self.writes.setdefault(doc, {})[key] = record

    def delete(self, doc: str, key: str) -> None:
        """Remove a record (a no-op if absent)."""
        if self.get(doc, key) is not None:
            self.writes.setdefault(doc, {})[key] = None


class Collection(Generic[R]):
    """Records of type ``R`` keyed by (document id, key), stored in ``folder``."""

    def __init__(
        self,
        folder: Path,
        name: str,
        record_type: type[R],
        *,
        fs: FileSystem,
        durable: bool,
        read_only: bool,
        lazy: bool = False,
        checkpoint_every: int = 1000,
        checkpoint_bytes: int = 16 << 20,
        idle_checkpoint: float = 1.0,
    ) -> None:
        self.folder = folder
        self.name = name
        self.record_type = record_type
        self._fs = fs
        self._durable = durable
        self._read_only = read_only
        self._lazy = lazy and not read_only
        self._checkpoint_every = checkpoint_every
        self._checkpoint_bytes = checkpoint_bytes
        self._idle_checkpoint = idle_checkpoint
        rec_t: Any = record_type
        self._doc_decoder: msgspec.json.Decoder[Decoded[dict[str, Any]]] = msgspec.json.Decoder(
            Decoded[dict[str, rec_t]]
        )
        self._journal_decoder: msgspec.json.Decoder[Decoded[dict[str, Any]]] = (
            msgspec.json.Decoder(
                Decoded[dict[str, dict[str, rec_t | None]]]
            )
        )
        self._lock = asyncio.Lock()
        self._settle_anyway = False
        self._reset()

    def _reset(self) -> None:
        self._docs: dict[str, dict[str, R]] = {}
        self._files: dict[str, str] = {}
        self._overlay: dict[str, list[tuple[int, dict[str, R | None]]]] = {}
        self._journals: list[int] = []
        self._dirty: set[str] = set()
        self._next_seq = 1
        self._committed_seq = 0
        self._pending = _Batch()
        self._inflight: _Batch | None = None
        self._writer: asyncio.Task[None] | None = None
        self._checkpointer: asyncio.Task[None] | None = None
        self._journal_bytes = 0
        self._idle: asyncio.TimerHandle | None = None
        self._scan_seq = 0
        # Folded journals renamed to temporary names (durably), to be rewritten in place
        # by later commits instead of creating and deleting a file per commit.
        self._spares: list[Path] = []
        self._adopted: list[Path] = []  # found at open, usable after the next folder sync

    # -- opening -------------------------------------------------------------------------

    async def open(self, *, salvage: list[str] | None = None) -> None:
        """Scan the folder, recover, and load the documents (all of them unless lazy).

        A read-only open races with the writer's checkpoints (a journal removed,
        a document being rotated): it starts over until it reads a settled state.
        """
        for attempt in range(20):
            try:
                await self._open_once(salvage)
                return
            except _Unsettled:
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
                await run_io(make_folder, self._fs, self.folder, self._durable)
            scan: FolderScan = await run_io(
                scan_folder, self._fs, self.folder, self.name, self._journal_decoder,
                self._read_only,
            )
        except FileNotFoundError as exc:
            if self._read_only:
                raise _Unsettled from exc
            raise StoreIOError.from_os_error(f"opening {self.folder}", exc) from exc
        except OSError as exc:
            raise StoreIOError.from_os_error(f"opening {self.folder}", exc) from exc
        if scan.unreadable and self._read_only:
            if not self._settle_anyway:
                raise _Unsettled  # most likely a journal being recycled by the writer
            _log.error("read-only open of %s skips damaged journal(s) %s", self.folder,
                       ", ".join(scan.unreadable))
        self._files = dict(scan.doc_files)
        # Spares the last writer kept: usable once a folder sync (the first commit's)
        # has made their names durable, so no earlier name comes back holding new bytes.
        adopted = [self.folder / name for name in scan.spares]
        if self._durable:
            self._adopted = adopted
        else:
            self._spares = adopted
        for seq, changes in scan.journals:
            self._journals.append(seq)
            for doc, recs in changes.items():
                self._overlay.setdefault(doc, []).append((seq, recs))
                self._dirty.add(doc)
        top = max([scan.checkpoint_seq or 0, *self._journals])
        self._scan_seq = top
        self._committed_seq = top
        self._next_seq = top + 1
        if not self._lazy or (scan.checkpoint_seq is None and scan.doc_files):
            # Without a checkpoint record the documents' own numbers must be read.
            await self.load_all(salvage=salvage)

    async def load_all(self, *, salvage: list[str] | None = None) -> None:
        """Load every document into the cache.

        With ``salvage`` (a list), a document with no good version left is
        started afresh from the journals instead of raising; its damaged
        files are already quarantined and its name is appended to the list.
        """
        async with self._lock:
            for doc in sorted(set(self._files) | set(self._overlay)):
                if doc in self._docs:
                    continue
                try:
                    await self._load(doc)
                except StoreCorruptedError as exc:
                    if salvage is None or exc.metadata.get("version") is not None:
                        raise
                    salvage.append(exc.path or doc)
                    await self._load(doc, salvage=True)

    async def _load(self, doc: str, *, salvage: bool = False) -> None:
        """Read one document, recover it if damaged, replay newer journals (lock held)."""
        name = self._files.get(doc)
        if name is None and doc not in self._overlay:
            self._docs[doc] = {}  # the folder scan saw no file: a new document
            return
        name = name or doc_file_name(doc)
        try:
            records, seq, recovered = await run_io(
                read_doc, self._fs, self.folder, name, self.name, doc, self._doc_decoder,
                self._read_only, salvage,
            )
        except OSError as exc:
            raise StoreIOError.from_os_error(f"reading {self.folder / name}", exc) from exc
        self._committed_seq = max(self._committed_seq, seq)
        self._next_seq = max(self._next_seq, self._committed_seq + 1)
        for jseq, changes in self._overlay.pop(doc, []):
            if jseq > seq:
                for key, rec in changes.items():
                    if rec is None:
                        records.pop(key, None)
                    else:
                        records[key] = rec
        if self._read_only and not self._settle_anyway and (recovered or seq > self._scan_seq):
            # A checkpoint ran since the scan (or is mid-rotation): this document is
            # newer than the journals read, so the view would not be one state.
            raise _Unsettled
        self._docs[doc] = records
        self._files.setdefault(doc, name)
        if recovered:
            self._dirty.add(doc)

    # -- reading ---------------------------------------------------------------------------

    def doc_ids(self) -> set[str]:
        """Ids of the documents that exist (loaded ones only if not empty)."""
        ids = {d for d, recs in self._docs.items() if recs}
        ids.update(d for d in self._files if d not in self._docs)
        ids.update(d for d in self._overlay if d not in self._docs)
        return ids

    def _absent(self, doc: str) -> bool:
        """Whether ``doc`` exists nowhere: not cached, no file, no journal entry."""
        return doc not in self._docs and doc not in self._files and doc not in self._overlay

    def peek(self, doc: str, key: str) -> R | Literal[False] | None:
        """The cached record without awaiting, or False when ``doc`` is not loaded yet.

        For hot read paths: a loaded document is read with no coroutine at all.
        """
        recs = self._docs.get(doc)
        if recs is None:
            return None if self._absent(doc) else False
        return recs.get(key)

    async def get(self, doc: str, key: str) -> R | None:
        """One record (the cache's own object: callers must copy before handing it out)."""
        recs = self._docs.get(doc)
        if recs is None:
            if self._absent(doc):
                return None  # nothing to load, and nothing cached for a miss
            async with self._lock:
                if doc not in self._docs:
                    await self._load(doc)
            recs = self._docs[doc]
        return recs.get(key)

    async def records(self, doc: str) -> Mapping[str, R]:
        """Every record of a document (read-only view of the cache)."""
        recs = self._docs.get(doc)
        if recs is None:
            if self._absent(doc):
                return _EMPTY
            async with self._lock:
                if doc not in self._docs:
                    await self._load(doc)
            recs = self._docs[doc]
        return recs

    # -- writing ---------------------------------------------------------------------------

    async def mutate(self, docs: Iterable[str], fn: Callable[[Txn[R]], T]) -> T:
        """Run ``fn`` on a transaction over the (loaded) ``docs``; return once durable.

        If ``fn`` raises, nothing changes. If the commit fails, the cache is
        rolled back and the ``StoreError`` is raised.
        """
        if self._read_only:
            raise StoreError(f"{self.folder} is open read-only", code="store_read_only")
        async with self._lock:
            for doc in docs:
                if doc not in self._docs:
                    await self._load(doc)
            txn: Txn[R] = Txn(self._docs)
            result = fn(txn)
            _check_encodable(txn)
            fut = self._apply(txn)
        if fut is not None:
            if self._writer is None or self._writer.done():
                self._writer = asyncio.get_running_loop().create_task(self._write_loop())
            await asyncio.shield(fut)
        return result

    def _apply(self, txn: Txn[R]) -> asyncio.Future[None] | None:
        if not txn.writes:
            return None
        batch = self._pending
        for doc, writes in txn.writes.items():
            cache = self._docs.setdefault(doc, {})
            originals = batch.originals.setdefault(doc, {})
            changes = batch.changes.setdefault(doc, {})
            for key, rec in writes.items():
                if key not in originals:
                    originals[key] = cache.get(key)
                if rec is None:
                    cache.pop(key, None)
                else:
                    cache[key] = rec
                changes[key] = rec
        if batch.future is None:
            batch.future = asyncio.get_running_loop().create_future()
            batch.future.add_done_callback(_consume)
        return batch.future

    def _commit_sync(self, changes: dict[str, dict[str, Any]], seq: int,
                     spare: Path | None) -> int:
        data = pad_blocks(encode_file("journal", self.name, "", seq, changes, lines=False))
        durable_replace(self._fs, self.folder, journal_file_name(seq), data,
                        durable=self._durable, spare=spare, new_name=True)
        return len(data)

    async def _write_loop(self) -> None:
        while self._pending.future is not None:
            batch, self._pending = self._pending, _Batch()
            self._inflight = batch
            seq = self._next_seq
            self._next_seq += 1
            try:
                spare = self._spares.pop() if self._spares else None
                self._journal_bytes += await run_io(self._commit_sync, batch.changes, seq,
                                                    spare)
            except BaseException as exc:
                err: StoreError
                if isinstance(exc, StoreError):
                    err = exc
                elif isinstance(exc, OSError):
                    err = StoreIOError.from_os_error(f"committing to {self.folder}", exc)
                else:
                    err = StoreError(f"committing to {self.folder} failed: {exc!r}",
                                     code="commit_failed")
                if err is not exc:
                    err.__cause__ = exc
                failed = [self._pending, batch]
                if isinstance(err, StoreIOError) and err.metadata.get("in_doubt"):
                    # The journal could not be withdrawn: it is on disk and will be
                    # replayed, so the cache keeps this batch (its callers still get
                    # the error: the change is not known durable).
                    self._rollback([self._pending])
                    self._journals.append(seq)
                    self._committed_seq = seq
                    self._dirty.update(batch.changes)
                else:
                    self._rollback(failed)
                self._pending, self._inflight = _Batch(), None
                for b in failed:
                    if b.future is not None and not b.future.done():
                        b.future.set_exception(err)
                if not isinstance(exc, Exception):
                    raise
                continue
            self._inflight = None
            if self._adopted:  # the commit synced the folder: their names are durable
                self._spares.extend(self._adopted)
                self._adopted = []
            self._journals.append(seq)
            self._committed_seq = seq
            self._dirty.update(batch.changes)
            assert batch.future is not None
            batch.future.set_result(None)
            if (len(self._journals) >= self._checkpoint_every
                    or self._journal_bytes >= self._checkpoint_bytes):
                self._start_checkpoint()
            else:
                if self._idle is not None:
                    self._idle.cancel()
                self._idle = asyncio.get_running_loop().call_later(
                    self._idle_checkpoint, self._start_checkpoint
                )

    def _start_checkpoint(self) -> None:
        if self._checkpointer is None or self._checkpointer.done():
            self._checkpointer = asyncio.get_running_loop().create_task(self.checkpoint())

    def _rollback(self, batches: list[_Batch]) -> None:
        """Put back the committed value of every key the batches touched (newest first)."""
        for batch in batches:
            for doc, originals in batch.originals.items():
                cache = self._docs.get(doc)
                if cache is None:
                    continue
                for key, rec in originals.items():
                    if rec is None:
                        cache.pop(key, None)
                    else:
                        cache[key] = rec

    def _committed_view(self, doc: str) -> dict[str, R]:
        view = dict(self._docs[doc])
        for batch in (self._pending, self._inflight):
            if batch is None:
                continue
            for key, rec in batch.originals.get(doc, {}).items():
                if rec is None:
                    view.pop(key, None)
                else:
                    view[key] = rec
        return view

    async def verify(self) -> list[Problem]:
        """Check every file of this collection's folder; nothing is changed."""
        return await run_io(verify_collection, self._fs, self.folder, self.name,
                            self._doc_decoder, self._journal_decoder)

    # -- checkpoints -----------------------------------------------------------------------

    async def checkpoint(self) -> None:
        """Fold the journals into the documents; failures leave the journals in place."""
        if self._read_only:
            return
        async with self._lock:
            try:
                for doc in list(self._dirty):
                    if doc not in self._docs:
                        await self._load(doc)
            except StoreError:
                # A document beyond recovery (or unreadable now): fold nothing, keep
                # every journal; its next read raises for the caller to see.
                _log.error("checkpoint of %s skipped: a changed document cannot be read",
                           self.folder, exc_info=True)
                return
            seq = self._committed_seq
            covered = [s for s in self._journals if s <= seq]
            if not self._dirty and not covered:
                return
            # Only the journals up to ``seq`` touch nothing but these documents, so
            # only they are removed. Each document is copied at its own moment (the
            # loop is yielded to between them so a big checkpoint never stalls it)
            # and records the sequence number it then includes (>= seq); commits
            # landing meanwhile keep their journals and mark their documents dirty.
            dirty, self._dirty = self._dirty, set()
            snaps: dict[str, dict[str, R]] = {}
            seqs: dict[str, int] = {}
            for i, doc in enumerate(dirty):
                if i and not i % 32:
                    await asyncio.sleep(0)
                snaps[doc] = self._committed_view(doc)
                seqs[doc] = self._committed_seq
                self._files.setdefault(doc, doc_file_name(doc))
            names = {doc: self._files[doc] for doc in dirty}
        room = max(0, self._checkpoint_every - len(self._spares) - len(self._adopted))
        try:
            spares = await run_io(self._checkpoint_sync, snaps, names, seqs, covered, room)
        except Exception:
            self._dirty |= dirty
            _log.warning("checkpoint of %s failed; its journals are kept", self.folder,
                         exc_info=True)
            return
        self._journals = [s for s in self._journals if s > seq]
        self._spares.extend(spares)
        touched: set[str] = set()
        for batch in (self._pending, self._inflight):
            if batch is not None:
                touched.update(batch.originals)
        for doc, records in snaps.items():
            if not records:  # its files are gone: forget it unless a change is in flight
                self._files.pop(doc, None)
                if doc not in touched and not self._docs.get(doc):
                    self._docs.pop(doc, None)
        self._journal_bytes = 0 if not self._journals else self._journal_bytes // 2

    def _checkpoint_sync(
        self, snaps: dict[str, dict[str, R]], names: dict[str, str], seqs: dict[str, int],
        covered: list[int], room: int,
    ) -> list[Path]:
        fs, folder, durable = self._fs, self.folder, self._durable
        # The oldest version of each document (its backup, checked first: damaged bytes
        # are set aside, never overwritten) becomes the file its newest is written into,
        # in place: no file is created or deleted. Its rename away is synced before any
        # rewrite, so the backup's name never comes back holding half-written bytes.
        reuse: dict[str, Path] = {}
        for doc, records in snaps.items():
            if records:
                backup = names[doc] + BACKUP_SUFFIX
                set_aside_bad_backup(fs, folder, backup, self.name, doc)
                if fs.exists(folder / backup):
                    reuse[doc] = spare_path(folder)
                    fs.replace(folder / backup, reuse[doc])
        if reuse and durable:
            fs.fsync_dir(folder)
        for doc, records in snaps.items():
            name = names[doc]
            if not records:
                # An emptied document is removed, not kept as an empty file. Until
                # the journals go (after the folder fsync below) they still replay
                # the deletions if a crash brings the files back.
                for gone in (name, name + BACKUP_SUFFIX):
                    with contextlib.suppress(FileNotFoundError):
                        fs.unlink(folder / gone)
                continue
            data = pad_blocks(encode_file("doc", self.name, doc, seqs[doc], records, lines=True))
            durable_replace(fs, folder, name, data, durable=durable,
                            backup=name + BACKUP_SUFFIX, sync_dir=False,
                            spare=reuse.pop(doc, None))
        if durable:
            fs.fsync_dir(folder)
        # The marker is the high-water mark the next open numbers new journals above.
        top = max([*seqs.values(), *covered, 0])
        marker = encode_file("checkpoint", self.name, "", top, {}, lines=False)
        set_aside_bad_backup(fs, folder, CHECKPOINT_NAME + BACKUP_SUFFIX, self.name, "",
                             kind="checkpoint")
        durable_replace(fs, folder, CHECKPOINT_NAME, marker, durable=durable,
                        backup=CHECKPOINT_NAME + BACKUP_SUFFIX)
        # The folded journals become spares (up to ``room``): renamed, then the folder
        # synced, so a spare's old name can never come back holding newer bytes.
        spares: list[Path] = []
        for jseq in covered:
            with contextlib.suppress(FileNotFoundError):
                if len(spares) < room:
                    spare = spare_path(folder)
                    fs.replace(folder / journal_file_name(jseq), spare)
                    spares.append(spare)
                else:
                    fs.unlink(folder / journal_file_name(jseq))
        if spares and durable:
            fs.fsync_dir(folder)
        return spares

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
        if self._idle is not None:
            self._idle.cancel()
        await self.drain()
        if not self._read_only and (self._dirty or self._journals):
            await self.checkpoint()
        # The spares stay for the next writer: deleting files is what makes creating
        # them slow (some file systems skip recently freed inodes on every create).
