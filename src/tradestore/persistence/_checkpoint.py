"""A checkpoint's file steps: fold the journals into the documents, then retire them.

Why journals. A commit must be durable before it returns, and rewriting every
document it touched (each up to about 100 KB) per commit would make the cost of
one update grow with the data. So a commit writes only its changes, as one
small journal file; a checkpoint, in the background, later rewrites each
changed document once for many commits. At open, journals newer than a
document are replayed onto it.

The steps, in the order that makes a power cut at any point safe (a
checkpoint syncs in both modes: see :func:`write_checkpoint`):

1. :func:`_backups_to_spares`: each document's oldest version (its ``.bak``)
   is renamed to a spare name, then the folder synced, so the backup's name
   never comes back holding half-written bytes of the document written into
   that file next.
2. :func:`_write_documents`: each changed document by replace, keeping its
   previous version as ``.bak`` (its bytes flushed before its rename; the
   documents are written, flushed and renamed in passes, see
   :func:`~._replace.replace_each_keeping_backup`); emptied documents are
   removed.
3. :func:`_write_marker`: ``checkpoint.json`` records the highest sequence
   number the documents include (new journals are numbered above it).
4. :func:`_journals_to_spares`: only now are the folded journals retired
   (renamed to spares, or removed beyond the pool's room), then, when there
   are new spares, the folder synced, so no journal's name comes back holding
   a later journal's bytes once a spare is rewritten. The append logs
   (``journal="append"``, see :mod:`._applog`) the plan retires are removed
   here too, never made spares: a log is reset by starting a new one (the
   writer was told to at the plan), so no log is ever rewritten in place and
   no old record can be read back from a reused file. Removing a log needs no
   sync of its own: until the folder is synced a power cut brings it back
   beside the previous documents, or beside the new ones, which already hold
   every record of it (the documents and marker were flushed first), and
   replaying a record a document includes is skipped.

Steps 2 to 4 need no folder sync of their own: they rename and remove entries
of one folder, and until a sync (step 4's, or the next commit's) makes them
durable together a power cut brings back the previous checkpoint with every
journal, which replays to the same state. Each sync that remains is pinned by
a test that leaves it out (``tests/reliability/test_powerloss.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradestore.persistence._applog import is_log_name
from tradestore.persistence._format import encode_file, pad_blocks
from tradestore.persistence._fs import FileSystem, run_io, spare_path
from tradestore.persistence._naming import BACKUP_SUFFIX, CHECKPOINT_NAME
from tradestore.persistence._observe import checkpoint_done
from tradestore.persistence._recovery import set_aside_bad_backup
from tradestore.persistence._replace import replace_each_keeping_backup, replace_keeping_backup

__all__ = [
    "APPEND_CHECKPOINT_BYTES",
    "APPEND_CHECKPOINT_EVERY",
    "CHECKPOINT_BYTES",
    "CHECKPOINT_EVERY",
    "CheckpointPlan",
    "QuietTimer",
    "checkpoint_limits",
    "run_checkpoint",
    "write_checkpoint",
]

# When a checkpoint folds the commits into the documents. A checkpoint rewrites, and
# syncs, every document changed since the last one, so the longer the interval the
# fewer rewrites per commit: random updates over a store's 1,024 partitions rewrite
# 0.6 of a partition per update at 1,000 commits, 0.12 at 8,192.
# - files mode: each commit is a file; 1,000 of them (or 16 MiB) bound the folder's
#   file count and what a reopen after a crash replays.
# - append mode, durable=True: the commits are records of one log, so their count
#   bounds only the replay after a crash (a 5,000-symbol store's open and first read
#   on ext4 here: 0.19 s with 8,000 small records to replay, 0.07 s with 1,000, 0.05 s
#   after a clean close) and the log's size (a small record takes one 4 KiB block:
#   32 MiB for 8,192). The rewrites it saves are most of a sequential writer's cost
#   on btrfs, where each document's sync is slow.
# - durable=False: checkpoints are its only sync points, so their interval is what a
#   power cut may lose (README); it keeps files mode's in both journal modes.
CHECKPOINT_EVERY = 1000
CHECKPOINT_BYTES = 16 << 20
APPEND_CHECKPOINT_EVERY = 8192
APPEND_CHECKPOINT_BYTES = 32 << 20
BACKUPS_PER_JOB = 32  # see run_checkpoint


def checkpoint_limits(*, append: bool, durable: bool) -> tuple[int, int]:
    """The default (commits, bytes) after which a collection checkpoints."""
    if append and durable:
        return APPEND_CHECKPOINT_EVERY, APPEND_CHECKPOINT_BYTES
    return CHECKPOINT_EVERY, CHECKPOINT_BYTES


class QuietTimer:
    """Call ``fn`` once ``delay`` seconds have passed without a :meth:`touch`.

    The idle checkpoint's trigger. A touch per commit only notes the time; one
    timer runs per quiet spell, and re-arms itself for the rest when it fires
    while commits continue (re-arming a timer per commit cost every commit a
    cancelled handle in the loop's heap).
    """

    __slots__ = ("_delay", "_fn", "_handle", "_last")

    def __init__(self, delay: float, fn: Callable[[], None]) -> None:
        self._delay, self._fn = delay, fn
        self._handle: asyncio.TimerHandle | None = None
        self._last = 0.0

    def touch(self) -> None:
        """A commit: the quiet spell starts again from now."""
        loop = asyncio.get_running_loop()
        self._last = loop.time()
        if self._handle is None:
            self._handle = loop.call_later(self._delay, self._due)

    def _due(self) -> None:
        loop = asyncio.get_running_loop()
        left = self._last + self._delay - loop.time()
        if left > 0:
            self._handle = loop.call_later(left, self._due)
            return
        self._handle = None
        self._fn()

    def cancel(self) -> None:
        """No call (until the next touch)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


@dataclass
class CheckpointPlan:
    """What one checkpoint writes, copied from the cache under the collection's lock."""

    collection: str
    snaps: dict[str, dict[str, Any]]  # document -> its committed records (empty: remove it)
    names: dict[str, str]  # document -> file name
    seqs: dict[str, int]  # document -> the sequence number its snapshot includes
    covered: dict[int, str]  # seq -> file of the journals every snapshot includes: retired
    logs: set[str] = field(default_factory=set)  # append logs every snapshot includes: removed
    # document -> whether its backup exists, once run_checkpoint has checked it
    checked: dict[str, bool] = field(default_factory=dict)

    def rewritten(self) -> list[str]:
        """The documents written anew (the others, emptied, are removed)."""
        return [doc for doc, records in self.snaps.items() if records]


async def run_checkpoint(fs: FileSystem, folder: Path, plan: CheckpointPlan, *,
                         sync_point: bool, room: int) -> list[Path]:
    """Check the backups ``plan`` replaces, a few per thread job, then write it.

    The check (read, checksum, set aside if damaged) is hundreds of short reads
    with a little hashing between; a thread doing them without a pause kept the
    event loop waiting for the GIL for 5-10 ms at a time. Between two jobs the
    loop runs. Only this writer changes backups, so none changes before
    :func:`write_checkpoint`, which skips the documents checked here.
    """
    docs = plan.rewritten()
    for i in range(0, len(docs), BACKUPS_PER_JOB):
        plan.checked.update(await run_io(_check_backups, fs, folder, plan,
                                         docs[i:i + BACKUPS_PER_JOB]))
    return await run_io(write_checkpoint, fs, folder, plan, sync_point=sync_point, room=room)


def _check_backups(fs: FileSystem, folder: Path, plan: CheckpointPlan,
                   docs: list[str]) -> dict[str, bool]:
    """Each backup of ``docs`` checked, and whether it is there to become a spare."""
    present: dict[str, bool] = {}
    for doc in docs:
        backup = plan.names[doc] + BACKUP_SUFFIX
        # Damaged bytes are set aside, never overwritten.
        set_aside_bad_backup(fs, folder, backup, collection=plan.collection, doc=doc)
        present[doc] = bool(fs.reuse_files) and fs.exists(folder / backup)
    return present


def write_checkpoint(fs: FileSystem, folder: Path, plan: CheckpointPlan, *, sync_point: bool,
                     room: int) -> list[Path]:
    """Run the four steps; return the new spares (at most ``room`` of them).

    Every checkpoint syncs what it writes, whatever the store's mode: the
    documents are the only copy of the data once their journals are retired.
    With ``sync_point`` (``durable=False``, whose commits never sync) it also
    ends with a folder sync, so that nothing committed before it can be lost.
    """
    began = time.perf_counter()
    reuse = _backups_to_spares(fs, folder, plan)
    _write_documents(fs, folder, plan, reuse)
    _write_marker(fs, folder, plan)
    files = {s: name for s, name in plan.covered.items() if not is_log_name(name)}
    for name in sorted(plan.logs):
        with contextlib.suppress(FileNotFoundError):
            fs.unlink(folder / name)
    spares = _journals_to_spares(fs, folder, files, room, sync_point=sync_point)
    checkpoint_done(folder, began, len(plan.snaps))
    return spares


def _backups_to_spares(fs: FileSystem, folder: Path, plan: CheckpointPlan,
                       ) -> dict[str, Path]:
    """Step 1: each changed document's backup checked, renamed to a spare name, synced."""
    docs = plan.rewritten()
    plan.checked.update(_check_backups(fs, folder, plan,
                                       [doc for doc in docs if doc not in plan.checked]))
    reuse: dict[str, Path] = {}
    for doc in docs:
        if plan.checked[doc]:
            reuse[doc] = spare_path(folder)
            fs.replace(folder / (plan.names[doc] + BACKUP_SUFFIX), reuse[doc])
    if reuse:
        fs.fsync_dir(folder)
    return reuse


def _write_documents(fs: FileSystem, folder: Path, plan: CheckpointPlan,
                     reuse: dict[str, Path]) -> None:
    """Step 2: every changed document replaced (or removed when emptied)."""
    for doc, records in plan.snaps.items():
        if not records:
            # An emptied document is removed, not kept as an empty file. Until the
            # journals go (after step 4) they still replay the deletions if a crash
            # brings the files back.
            for gone in (plan.names[doc], plan.names[doc] + BACKUP_SUFFIX):
                with contextlib.suppress(FileNotFoundError):
                    fs.unlink(folder / gone)
    replace_each_keeping_backup(fs, folder, _encoded(fs, plan, reuse),
                                backup_suffix=BACKUP_SUFFIX)


def _encoded(fs: FileSystem, plan: CheckpointPlan,
             reuse: dict[str, Path]) -> Iterator[tuple[str, bytes, Path | None]]:
    """Each document to write: its file, its bytes and its spare (encoded as needed)."""
    for doc, records in plan.snaps.items():
        if records:
            data = encode_file("doc", plan.collection, doc, plan.seqs[doc], records, lines=True)
            yield (plan.names[doc], pad_blocks(data) if fs.reuse_files else data,
                   reuse.pop(doc, None))


def _write_marker(fs: FileSystem, folder: Path, plan: CheckpointPlan) -> None:
    """Step 3: the marker: the high-water mark the next open numbers new journals above."""
    top = max([*plan.seqs.values(), *plan.covered, 0])
    marker = encode_file("checkpoint", plan.collection, "", top, {}, lines=False)
    set_aside_bad_backup(fs, folder, CHECKPOINT_NAME + BACKUP_SUFFIX,
                         collection=plan.collection, doc="", kind="checkpoint")
    replace_keeping_backup(fs, folder, CHECKPOINT_NAME, marker,
                           backup=CHECKPOINT_NAME + BACKUP_SUFFIX, durable=True,
                           sync_dir=False)


def _journals_to_spares(fs: FileSystem, folder: Path, covered: dict[int, str], room: int, *,
                        sync_point: bool) -> list[Path]:
    """Step 4: the folded journals renamed to spares (up to ``room``) or removed, synced."""
    spares: list[Path] = []
    for name in covered.values():
        with contextlib.suppress(FileNotFoundError):
            if len(spares) < room:
                spare = spare_path(folder)
                fs.replace(folder / name, spare)
                spares.append(spare)
            else:
                fs.unlink(folder / name)
    if spares or sync_point:
        fs.fsync_dir(folder)
    return spares
