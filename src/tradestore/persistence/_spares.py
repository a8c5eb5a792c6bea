"""The spare pool: files this layer no longer needs, kept to be rewritten in place.

Why spares. A commit must put its journal under a new name. Creating a file
costs an inode allocation and, at its sync, a metadata commit (on some file
systems, ext4 without a journal among them, creating files right after many
deletions is slow on every create). A checkpoint, meanwhile, leaves behind
files nobody needs any more: the journals it folded and each document's
oldest backup. Renaming such a file to a ``.spare.*.tmp`` name, then
rewriting its already allocated blocks, costs one data flush and no inode.

Why padding. A spare is rewritten with the new bytes padded with spaces to
its own length (see :func:`~._format.pad_to`), and every file is written in
whole 4 KiB blocks (:func:`~._format.pad_blocks`), so a later version of
about the same size fits without growing the file: the rewrite changes no
size, and its ``fdatasync`` has no metadata to commit. Readers ignore the
spaces after the checksum line.

The one rule that keeps spares safe after a power cut: a file's rename to its
spare name is made durable (a folder sync) **before** it is rewritten.
Otherwise the old name (``journal-0007.json``, say) could come back after a
power cut holding the new bytes of a later journal. So spares renamed by a
checkpoint become usable after that checkpoint's folder sync, and spares
found at open (kept by the last writer) after the next folder sync of this
process; with ``durable=False`` a killed process keeps the page cache, so
they are usable at once.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from tradestore.persistence._fs import FileSystem

__all__ = [
    "BUSY_SPARES",
    "IDLE_SPARES",
    "SparePool",
    "file_system_of",
    "remove_spares",
    "spares_pay_off",
]

#: Spares kept while commits come fast: what a busy store rewrites between two
#: checkpoints before it has to create files again.
BUSY_SPARES = 256
#: Spares an idle or closed store keeps (the rest are removed): a handful, so a
#: folder never fills up with them, e.g. after many killed writers.
IDLE_SPARES = 8


def file_system_of(folder: Path) -> str:
    """The type of the file system holding ``folder`` (``"ext4"``, ``"xfs"``, ...), or ``""``.

    Read from ``/proc/self/mountinfo`` (Linux); ext4 without a journal reads as
    ``"ext4-nojournal"`` (no ``/proc/fs/jbd2`` entry for its device).
    """
    try:
        dev = os.stat(folder).st_dev
        with open("/proc/self/mountinfo", encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return ""
    wanted = f"{os.major(dev)}:{os.minor(dev)}"
    for line in lines:
        mount, _, fs_part = line.partition(" - ")  # "id parent major:minor ..." - "type source"
        if mount.split()[2:3] == [wanted] and len(fs_part.split()) > 1:
            fstype, source = fs_part.split()[:2]
            if fstype == "ext4" and not any(
                    Path("/proc/fs/jbd2").glob(f"{Path(source).name}-*")):
                return "ext4-nojournal"
            return fstype
    return ""


#: File systems where spares measured no win in ``benchmarks.filesystems``
#: (docs/benchmarks-filesystems.md): on xfs, creating each journal was as fast
#: or faster in W2, W6 and W1, so the default there is a plain durable replace.
NO_SPARES = frozenset({"xfs"})


def spares_pay_off(folder: Path) -> bool:
    """Whether spares are on by default for ``folder``: where measured to win."""
    return file_system_of(folder) not in NO_SPARES


def remove_spares(fs: FileSystem, paths: list[Path]) -> None:
    """Remove spares no longer kept (no sync needed: a spare that comes back is kept)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            fs.unlink(path)


class SparePool:
    """Spares of one folder: usable ones, and ones waiting for a folder sync.

    ``limit`` bounds how many are kept while busy; :meth:`trim` cuts the pool
    to ``idle`` when the store goes quiet or closes. A pool of ``limit=0``
    keeps none, and every write creates its temporary file.
    """

    __slots__ = ("_usable", "_waiting", "idle", "limit")

    def __init__(self, limit: int, idle: int = IDLE_SPARES) -> None:
        self.limit = limit
        self.idle = min(idle, limit)
        self._usable: list[Path] = []
        self._waiting: list[Path] = []  # found at open: usable after the next folder sync

    def __len__(self) -> int:
        return len(self._usable) + len(self._waiting)

    def adopt(self, paths: list[Path], *, names_durable: bool) -> None:
        """Take the spares found at open (usable now only if ``names_durable``)."""
        (self._usable if names_durable else self._waiting).extend(paths)

    def take(self) -> Path | None:
        """A spare to rewrite, or None (the write then creates its temporary file)."""
        return self._usable.pop() if self._usable else None

    def folder_synced(self) -> None:
        """The folder was synced: the waiting spares' names are durable now."""
        if self._waiting:
            self._usable.extend(self._waiting)
            self._waiting = []

    def room(self) -> int:
        """How many more spares the pool keeps."""
        return max(0, self.limit - len(self))

    def add(self, paths: list[Path]) -> None:
        """Spares whose names a folder sync has made durable."""
        self._usable.extend(paths)

    def trim(self, keep: int | None = None) -> list[Path]:
        """Forget all but ``keep`` spares (``idle`` by default); the ones to remove."""
        keep = self.idle if keep is None else keep
        extra = len(self) - keep
        if extra <= 0:
            return []
        gone = self._waiting[:extra]
        self._waiting = self._waiting[extra:]
        extra -= len(gone)
        if extra > 0:
            gone += self._usable[:extra]
            self._usable = self._usable[extra:]
        return gone
