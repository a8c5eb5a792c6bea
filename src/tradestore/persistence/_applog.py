"""The append journal (``journal="append"``): commits appended to one preallocated file.

The default mode writes each commit as a new file (``journal-<seq>.json``),
which costs a file creation and a folder sync per commit. In append mode a
collection appends each commit as one *record* to ``journal-<seq>.log`` (the
sequence number of its first record), a file made once, filled with zeros up
to :data:`PREALLOC` and doubled when full (a few growths per checkpoint).
Zeros actually written, not ``fallocate``: writing into an allocated but
unwritten extent still changes metadata (the extent becomes written) on ext4
and xfs. Writing a record then changes neither the file's size nor its
blocks, so its sync is one data flush (``fdatasync``) and nothing else. On
btrfs that holds only for a no-copy-on-write file, which the log is made
(:meth:`~._fs.FileSystem.open_log`).

A record is framed so a torn or unsynced tail is recognised::

    b"TSJ1" | length (u32) | seq (u64) | blake2b-128 of (collection, length, seq, payload)
    | payload (the journal's checksummed JSON, see _format.py) | zeros to a 4 KiB boundary

Each record starts on a block (4 KiB) boundary, so that appending a record
never rewrites a block that holds an acknowledged one: a disk that tears the
blocks of a write cut short by a power cut (no "powersafe overwrite"
assumed) can damage only the record being written, never the ones before it.

Reading stops at the first frame that is zeros, cut short, fails its
checksum, or does not number above the record before it: that is the tail
of a commit that never returned (a crash during its write), ignored and
logged, never quarantined. Nothing is ever appended after such a tail: a
writer starts a new log at open and after any failed append.

The crash-safe order of a log's life (each step's reason in its code):

1. created and zero-filled, the first record written, its bytes flushed, then
   the folder synced: the record is acknowledged only once its file's name
   is durable too;
2. every later record: written in place, flushed (one ``fdatasync``);
3. retired by a checkpoint only after the documents and the marker holding
   every record of it are durable (``_checkpoint.py``), and only when no
   record is being appended to it: a checkpoint makes the writer start a new
   log for the commits after it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from tradestore.errors import CommitInDoubtError, StoreIOError, ValidationError
from tradestore.persistence._format import (
    BLOCK,
    DamagedFileError,
    Decoded,
    decode_file,
    encode_file,
)
from tradestore.persistence._fs import FileSystem

__all__ = [
    "JOURNAL_MODES",
    "PREALLOC",
    "AppendLog",
    "append_record",
    "close_log",
    "ensure_journal_mode",
    "is_log_name",
    "log_file_name",
    "log_tops",
    "read_log",
    "read_logs",
]

_log = logging.getLogger(__name__)
JOURNAL_MODES = ("files", "append")

PREALLOC = 64 << 10  # a new log's zeros; it then doubles (by at most GROW_MAX a step)
GROW_MAX = 4 << 20
MAGIC = b"TSJ1"
_HEAD = struct.Struct(">4sIQ16s")
_LOG_RE = re.compile(r"\Ajournal-(\d{16})\.log\Z")


def ensure_journal_mode(value: object) -> str:
    """``value`` if it is one of :data:`JOURNAL_MODES`, else ``ValidationError``."""
    if not isinstance(value, str) or value not in JOURNAL_MODES:
        raise ValidationError(f"journal must be one of {', '.join(JOURNAL_MODES)}, "
                              f"not {value!r}", field="journal")
    return value


def log_file_name(first_seq: int) -> str:
    """The name of the log whose first record is ``first_seq``."""
    return f"journal-{first_seq:016d}.log"


def is_log_name(name: str) -> bool:
    """Whether ``name`` is an append log."""
    return _LOG_RE.match(name) is not None


def _digest(collection: str, length: int, seq: int, payload: bytes) -> bytes:
    h = hashlib.blake2b(digest_size=16, key=collection.encode()[:64])
    h.update(struct.pack(">IQ", length, seq))
    h.update(payload)
    return h.digest()


def frame(collection: str, seq: int, changes: dict[str, dict[str, Any]]) -> bytes:
    """One record: its frame, the journal's own checksummed encoding, zeros to a block end."""
    payload = encode_file("journal", collection, "", seq, changes, lines=False)
    head = _HEAD.pack(MAGIC, len(payload), seq, _digest(collection, len(payload), seq, payload))
    return head + payload + bytes(_record_span(len(payload)) - _HEAD.size - len(payload))


def _record_span(length: int) -> int:
    """The bytes a record with a payload of ``length`` takes in its log, padding included."""
    return -(-(_HEAD.size + length) // BLOCK) * BLOCK


def read_log(
    data: bytes, name: str, collection: str,
    decoder: msgspec.json.Decoder[Decoded[dict[str, Any]]],
) -> tuple[list[tuple[int, dict[str, dict[str, Any]]]], int]:
    """The whole records of a log, in order, and the offset where they end."""
    out: list[tuple[int, dict[str, dict[str, Any]]]] = []
    pos, last = 0, -1
    while pos + _HEAD.size <= len(data):
        magic, length, seq, digest = _HEAD.unpack_from(data, pos)
        if magic != MAGIC:
            break  # zeros: the end (or a torn first bytes of a record)
        payload = data[pos + _HEAD.size:pos + _HEAD.size + length]
        why = None
        if len(payload) < length or _digest(collection, length, seq, payload) != digest:
            why = "cut short or checksum mismatch"
        elif seq <= last:
            why = f"sequence {seq} not above {last}"
        if why is None:
            try:
                changes = decode_file(payload, decoder, kind="journal", collection=collection,
                                      seq=seq).payload
            except DamagedFileError as exc:
                why = str(exc)
        if why is not None:
            _log.warning("journal %s: ignoring its tail at byte %d, a commit cut short "
                         "before it returned (%s)", name, pos, why)
            break
        out.append((seq, changes))
        last = seq
        pos += _record_span(length)
    return out, pos


@dataclass
class AppendLog:
    """The log a collection appends to now (event loop side: which file; thread side: fd)."""

    name: str | None = None
    fd: int | None = None
    offset: int = 0
    size: int = 0
    retired_fd: int | None = None  # the previous log's descriptor, closed at the next append
    fresh: bool = True  # the next record starts a new log

    def target(self, seq: int) -> str:
        """The log the record ``seq`` goes into (a new one after :meth:`rotate`)."""
        if self.fresh or self.name is None:
            if self.fd is not None:  # closed by the next append, in its worker thread
                self.retired_fd, self.fd = self.fd, None
            self.name, self.offset, self.size, self.fresh = log_file_name(seq), 0, 0, False
        return self.name

    def rotate(self) -> None:
        """The next record starts a new log (this one is about to be retired, or is suspect)."""
        self.fresh = True


def _zeros(fs: FileSystem, fd: int, start: int, end: int) -> None:
    step = 1 << 16
    for at in range(start, end, step):
        fs.pwrite(fd, bytes(min(step, end - at)), at)


def append_record(  # noqa: PLR0913, PLR0917  where, which log, the record, and how
    fs: FileSystem, folder: Path, log: AppendLog, collection: str, seq: int,
    changes: dict[str, dict[str, Any]], *, durable: bool,
) -> int:
    """Append record ``seq`` to ``log`` (made by :meth:`AppendLog.target`); bytes written.

    :raises StoreIOError: nothing of the record is left to be read back.
    :raises CommitInDoubtError: the record may be on disk and could not be erased.
    """
    assert log.name is not None
    record = frame(collection, seq, changes)
    new = log.fd is None
    written = False
    try:
        if log.retired_fd is not None:
            fd, log.retired_fd = log.retired_fd, None
            try:
                if not durable:
                    # durable=False: the previous log's tail is flushed before a later
                    # log can hold records, so a power cut leaves a prefix of the commits.
                    fs.fdatasync(fd)
            finally:
                fs.close(fd)
        if new:
            log.fd = fs.open_log(folder / log.name)
        assert log.fd is not None
        end = log.offset + len(record)
        if end > log.size:  # zeros ahead: the appends until then change no size
            grown = max(PREALLOC, log.size + min(log.size, GROW_MAX))
            grown = max(grown, -(-end // PREALLOC) * PREALLOC)
            _zeros(fs, log.fd, log.size, grown)
            log.size = grown
        fs.pwrite(log.fd, record, log.offset)
        written = True
        if durable:
            fs.fdatasync(log.fd)  # the record (and, for a new log, its blocks and size)
            if new:
                fs.fsync_dir(folder)  # a new log's name, before its first record is acknowledged
    except OSError as exc:
        log.rotate()  # never append after a failed record: the next one starts a new log
        action = f"appending to {folder / log.name}"
        if written:
            _erase(fs, log, len(record), exc, action, durable=durable)
        # Not written whole: a torn record, ignored when read (and never appended after).
        raise StoreIOError.from_os_error(action, exc) from exc
    log.offset = end
    return len(record)


def _erase(  # noqa: PLR0913  the log, the failed record, the error to chain, and how
    fs: FileSystem, log: AppendLog, length: int, exc: OSError, action: str, *, durable: bool,
) -> None:
    """Zeros over a failed record, flushed, so it is never read back (else: in doubt)."""
    assert log.fd is not None
    try:
        fs.pwrite(log.fd, bytes(length), log.offset)
        if durable:
            fs.fdatasync(log.fd)
    except OSError:
        _log.warning("could not erase the failed record in %s", log.name)
        raise CommitInDoubtError.from_os_error(action, exc) from exc


def read_logs(  # noqa: PLR0913  the folder's logs and how to read them
    fs: FileSystem, folder: Path, collection: str, names: list[str],
    decoder: msgspec.json.Decoder[Decoded[dict[str, Any]]], *, read_only: bool,
) -> list[tuple[int, str, dict[str, dict[str, Any]]]]:
    """The whole records of the append logs (their torn tails ignored, see _applog.py).

    A writer first flushes each log holding records: a record written by a
    process killed before its flush is read (replayed) here, and the commits
    made from now on may build on it, so it must not vanish at a later power
    cut while they survive. (The writer never appends to these logs again.)
    """
    out: list[tuple[int, str, dict[str, dict[str, Any]]]] = []
    for name in names:
        records, _ = read_log(fs.read(folder / name), str(folder / name), collection,
                              decoder)
        if records and not read_only:
            fd = fs.reopen_log(folder / name)
            try:
                fs.fdatasync(fd)
            finally:
                fs.close(fd)
        out.extend((seq, name, changes) for seq, changes in records)
    return out


def log_tops(journals: list[tuple[int, str, dict[str, dict[str, Any]]]],
              ) -> dict[str, int]:
    """Each append log among ``journals`` and the newest record it holds."""
    tops: dict[str, int] = {}
    for seq, name, _ in journals:
        if is_log_name(name):
            tops[name] = max(seq, tops.get(name, 0))
    return tops


def close_log(fs: FileSystem, log: AppendLog) -> None:
    """Close the descriptors of ``log`` (its files stay)."""
    for fd in (log.fd, log.retired_fd):
        if fd is not None:
            try:
                fs.close(fd)
            except OSError:
                _log.debug("closing a journal log failed", exc_info=True)
    log.fd = log.retired_fd = None
    log.fresh = True
