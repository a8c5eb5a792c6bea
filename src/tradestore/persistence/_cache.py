"""The cache side of a collection: documents in memory, loaded from their files on first use.

A document is read whole (recovered from its backup if damaged, see
:mod:`._recovery`), then the journal changes newer than the sequence number it
includes are replayed onto it. Readers of a loaded document need no lock and
no coroutine (:meth:`DocumentCache.peek`); the first load of a document runs
under the collection's lock, as every mutation does. With ``warm``, documents
are read ahead of their first use, in the background after open
(:meth:`DocumentCache.warm`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, Literal, TypeVar

import msgspec

from tradestore.errors import StoreCorruptedError, StoreError, StoreIOError
from tradestore.persistence._changes import apply_changes
from tradestore.persistence._format import Decoded
from tradestore.persistence._fs import FileSystem, run_io
from tradestore.persistence._journal import JournalState
from tradestore.persistence._naming import doc_file_name
from tradestore.persistence._recovery import read_doc

__all__ = ["WARM_BATCH", "DocumentCache", "Unsettled"]

_log = logging.getLogger(__name__)
R = TypeVar("R", bound=msgspec.Struct)
#: Documents read per job by the warm-up of a lazy open (:meth:`DocumentCache.warm`):
#: one thread hop for many first reads, while each job stays short (a job that keeps
#: the GIL through a long run of short reads and decodes keeps the event loop from
#: running, which the checkpoint's paced backup checks avoid too).
WARM_BATCH = 16
WARM_RECORDS = 256  # and a job ends early once it has decoded this many records

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class Unsettled(Exception):
    """A read-only open saw the writer mid-checkpoint (the open starts over)."""


class DocumentCache(Generic[R]):
    """Records of type ``R`` by document, and where each document lives on disk."""

    def __init__(  # noqa: PLR0913  where, what, and how the collection is opened
        self, folder: Path, name: str, record_type: type[R], *, fs: FileSystem,
        read_only: bool, warm: bool = False,
    ) -> None:
        self.folder = folder
        self.name = name
        self.record_type = record_type
        self._fs = fs
        self._read_only = read_only
        rec_t: Any = record_type
        self._doc_decoder: msgspec.json.Decoder[Decoded[dict[str, Any]]] = msgspec.json.Decoder(
            Decoded[dict[str, rec_t]]
        )
        self._lock = asyncio.Lock()
        self._settle_anyway = False
        self._warm = warm and not read_only  # after open, load ahead of use: see warm()
        self._warmer: asyncio.Task[None] | None = None
        self._clear()

    def _clear(self) -> None:
        self._docs: dict[str, dict[str, R]] = {}
        self._files: dict[str, str] = {}  # document -> file name, as found or written
        # Journal changes read at open, replayed onto each document when it is loaded.
        self._overlay: dict[str, list[tuple[int, dict[str, R | None]]]] = {}
        self._scan_seq = 0  # the newest sequence number the open's folder scan saw
        self._log = JournalState()

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

    def _start_warming(self) -> None:
        if self._warm:
            self._warmer = asyncio.get_running_loop().create_task(self.warm())

    async def _stop_warming(self) -> None:
        if self._warmer is not None:
            self._warmer.cancel()
            await asyncio.wait([self._warmer])  # its end, not its cancellation, is awaited
            self._warmer = None

    async def warm(self) -> None:
        """Load every document not loaded yet, :data:`WARM_BATCH` to a thread job.

        Run as a task after a lazy open when the collection's callers soon touch
        most of its documents (per-symbol state): the open still reads none, and
        the first touch of a document then finds it loaded, where it would cost
        a thread hop and a read of its own. The reads change nothing on disk and
        take no lock, so no caller waits for them; what was read is put in the
        cache under the lock, each document only if it is still not loaded (a
        document's file changes only once it is: a checkpoint writes loaded
        documents alone). A document that is damaged, or needs its backup, is
        left to its first use, which recovers it (or raises) as without a warm-up.
        """
        docs = sorted((self._files.keys() | self._overlay.keys()) - self._docs.keys())
        while docs:
            todo = [(d, self._files.get(d) or doc_file_name(d))
                    for d in docs[:WARM_BATCH] if d not in self._docs]
            if not todo:
                del docs[:WARM_BATCH]
                continue
            try:
                done, read = await run_io(_read_docs, self._fs, self.folder, todo, self.name,
                                          self._doc_decoder)
            except Exception as exc:  # e.g. the executor shut down: stop, no harm done
                _log.info("stopped loading %s ahead of use: %r", self.folder, exc)
                return
            del docs[:docs.index(todo[done - 1][0]) + 1]  # the rest of the window: next job
            async with self._lock:
                for doc, name, (records, seq, recovered) in read:
                    if not recovered and doc not in self._docs and not self._absent(doc):
                        self._install(doc, name, records, seq, recovered=False)

    async def _load(self, doc: str, *, salvage: bool = False) -> None:
        """Read one document, recover it if damaged, replay newer journals (lock held)."""
        name = self._files.get(doc)
        if name is None and doc not in self._overlay:
            self._docs[doc] = {}  # the folder scan saw no file: a new document
            return
        name = name or doc_file_name(doc)
        try:
            records, seq, recovered = await run_io(
                read_doc, self._fs, self.folder, name, collection=self.name, doc=doc,
                decoder=self._doc_decoder, read_only=self._read_only, salvage=salvage,
            )
        except OSError as exc:
            raise StoreIOError.from_os_error(f"reading {self.folder / name}", exc) from exc
        self._install(doc, name, records, seq, recovered=recovered)

    def _install(self, doc: str, name: str, records: dict[str, R], seq: int, *,
                 recovered: bool) -> None:
        """Put a document just read into the cache, with the newer journals replayed."""
        self._log.saw(seq)
        for jseq, changes in self._overlay.pop(doc, []):
            if jseq > seq:
                apply_changes(records, changes)
        if self._read_only and not self._settle_anyway and (recovered or seq > self._scan_seq):
            # A checkpoint ran since the scan (or is mid-rotation): this document is
            # newer than the journals read, so the view would not be one state.
            raise Unsettled
        self._docs[doc] = records
        self._files.setdefault(doc, name)
        if recovered:
            self._log.dirty.add(doc)

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


_Read = list[tuple[str, str, tuple[dict[str, Any], int, bool]]]  # (doc, file, read_doc's)


def _read_docs(
    fs: FileSystem, folder: Path, todo: list[tuple[str, str]], collection: str,
    decoder: msgspec.json.Decoder[Decoded[dict[str, Any]]],
) -> tuple[int, _Read]:
    """Read documents as a reader would (no file moved): (how many of ``todo``, those read).

    Stops after :data:`WARM_RECORDS` records; a document that fails is left out.
    """
    read: _Read = []
    records = 0
    for done, (doc, name) in enumerate(todo, 1):
        try:
            found = read_doc(fs, folder, name, collection=collection, doc=doc, decoder=decoder,
                             read_only=True)
        except (OSError, StoreError):  # left to its first use, which raises or recovers it
            continue
        read.append((doc, name, found))
        records += len(found[0])
        if records >= WARM_RECORDS:
            return done, read
    return len(todo), read
