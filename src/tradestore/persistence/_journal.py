"""The journal side of a collection: sequence numbers, journal files, batches in flight.

Every commit is one journal file ``journal-<seq>.json`` holding a batch's
changes (see :mod:`._checkpoint` for why journals), or, with
``journal="append"``, one record appended to a log (:mod:`._applog`). :class:`JournalState` is
the bookkeeping of those files and of the batches on their way to becoming
one, shared by the three actors of a collection:

- callers stage changes into ``pending`` (under the collection's lock);
- the write loop takes ``pending`` as the batch ``inflight``, writes it, and
  records the outcome (:meth:`committed` / :meth:`in_doubt` / :meth:`failed`);
- a checkpoint reads the committed state (:meth:`committed_view`) and retires
  the journals it folded (:meth:`folded`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tradestore.errors import StoreError, StoreIOError
from tradestore.persistence._applog import AppendLog, append_record
from tradestore.persistence._changes import Batch, apply_changes
from tradestore.persistence._format import encode_file, pad_blocks
from tradestore.persistence._fs import FileSystem
from tradestore.persistence._naming import journal_file_name
from tradestore.persistence._observe import commit_done
from tradestore.persistence._replace import write_new

__all__ = ["JournalState", "commit_error", "write_commit", "write_journal"]


def commit_error(exc: BaseException, folder: Path) -> StoreError:
    """The error every caller of a failed commit gets (``exc`` chained)."""
    err: StoreError
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, OSError):
        err = StoreIOError.from_os_error(f"committing to {folder}", exc)
    else:
        err = StoreError(f"committing to {folder} failed: {exc!r}", code="commit_failed")
    err.__cause__ = exc
    return err


def write_commit(  # noqa: PLR0913, PLR0917  where, which log, the batch's changes, and how
    fs: FileSystem, folder: Path, collection: str, applog: AppendLog | None, seq: int,
    changes: dict[str, dict[str, Any]], *, durable: bool, spare: Path | None,
) -> int:
    """Write one batch as commit ``seq``, in the collection's journal mode; bytes written."""
    if applog is not None:
        return append_record(fs, folder, applog, collection, seq, changes, durable=durable)
    return write_journal(fs, folder, collection, seq, changes, durable=durable, spare=spare)[1]


def write_journal(  # noqa: PLR0913  where, which journal, its changes, and how
    fs: FileSystem, folder: Path, collection: str, seq: int,
    changes: dict[str, dict[str, Any]], *, durable: bool, spare: Path | None,
) -> tuple[str, int]:
    """Write one batch as journal ``seq`` (a new name); (its file name, bytes written).

    With ``durable=False`` nothing is synced and the name says so
    (``.unsynced.json``): after a power cut the file may be torn, and the next
    open drops it and the unsynced journals after it (see ``_recovery.py``).
    """
    began = time.perf_counter()
    data = encode_file("journal", collection, "", seq, changes, lines=False)
    if fs.reuse_files:
        data = pad_blocks(data)
    name = journal_file_name(seq, synced=durable)
    write_new(fs, folder, name, data, durable=durable, spare=spare)
    commit_done(folder, began, changes)
    return name, len(data)


class JournalState:
    """Which journals exist, the sequence numbers, and the batches not yet durable."""

    __slots__ = ("applog", "committed_seq", "dirty", "inflight", "journal_bytes", "journals",
                 "log_files", "next_seq", "pending")

    def __init__(self, top: int = 0, journals: dict[int, str] | None = None, *,
                 append: bool = False, log_files: set[str] | None = None) -> None:
        self.journals: dict[int, str] = dict(journals or {})  # seq -> file, not yet folded
        # journal="append": the log appended to now, and every log file of the folder.
        self.applog = AppendLog() if append else None
        self.log_files: set[str] = set(log_files or ())
        self.committed_seq = top  # the newest journal on disk (or checkpoint)
        self.next_seq = top + 1
        self.journal_bytes = 0  # written since the last checkpoint (roughly)
        self.dirty: set[str] = set()  # documents changed since the last checkpoint
        self.pending = Batch()
        self.inflight: Batch | None = None

    def saw(self, seq: int) -> None:
        """A document read from disk includes ``seq``: number new journals above it."""
        self.committed_seq = max(self.committed_seq, seq)
        self.next_seq = max(self.next_seq, self.committed_seq + 1)

    def take(self) -> tuple[Batch, int]:
        """The pending batch, now in flight, and the sequence number it is written as."""
        batch, self.pending = self.pending, Batch()
        self.inflight = batch
        seq = self.next_seq
        self.next_seq += 1
        return batch, seq

    def target(self, seq: int, durable: bool) -> str:
        """The file commit ``seq`` is written to (for a log: chosen before the write)."""
        if self.applog is None:
            return journal_file_name(seq, synced=durable)
        name = self.applog.target(seq)
        self.log_files.add(name)
        return name

    def logs_to_retire(self, seq: int) -> set[str]:
        """The logs a checkpoint including every commit up to ``seq`` may remove.

        Not a log holding a later record, nor the one a write in flight goes to;
        and the next commit starts a new log, so nothing is appended to these.
        """
        if not self.log_files:
            return set()
        keep = {name for s, name in self.journals.items() if s > seq}
        if self.applog is not None:  # (journal="files" folds the logs of a mode switch)
            if self.inflight is not None and self.applog.name is not None:
                keep.add(self.applog.name)
            self.applog.rotate()
        return self.log_files - keep

    def committed(self, batch: Batch, seq: int, name: str, nbytes: int) -> None:
        """``batch`` is on disk as journal ``seq``, file ``name``."""
        self.inflight = None
        self.journals[seq] = name
        self.committed_seq = seq
        self.dirty.update(batch.changes)
        self.journal_bytes += nbytes

    def in_doubt(self, batch: Batch, seq: int, name: str,
                 cache: dict[str, dict[str, Any]]) -> list[Batch]:
        """The journal could not be withdrawn: it is on disk and will be replayed.

        The cache keeps ``batch`` (so it equals the disk); only what was staged
        after it is taken back. Returns the batches whose callers get the error.
        """
        failed = [self.pending, batch]
        self.pending.undo(cache)
        self.committed(batch, seq, name, 0)
        self.pending = Batch()
        return failed

    def failed(self, batch: Batch, cache: dict[str, dict[str, Any]]) -> list[Batch]:
        """Nothing of ``batch`` is on disk: it and what was staged after it are undone.

        Returns the batches whose callers get the error (newest first, the order
        their originals must be put back in).
        """
        failed = [self.pending, batch]
        for b in failed:
            b.undo(cache)
        self.pending, self.inflight = Batch(), None
        return failed

    def committed_view(self, doc: str, records: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``records`` (the cache of ``doc``) without the changes not yet durable."""
        view = dict(records)
        for batch in (self.pending, self.inflight):
            if batch is not None:
                apply_changes(view, batch.originals.get(doc, {}))
        return view

    def docs_in_flight(self) -> set[str]:
        """Documents touched by a change not yet durable."""
        touched: set[str] = set()
        for batch in (self.pending, self.inflight):
            if batch is not None:
                touched.update(batch.originals)
        return touched

    def folded(self, seq: int) -> None:
        """A checkpoint made every journal up to ``seq`` redundant, and retired them."""
        self.journals = {s: name for s, name in self.journals.items() if s > seq}
        self.journal_bytes = 0 if not self.journals else self.journal_bytes // 2
