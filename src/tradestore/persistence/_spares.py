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

from pathlib import Path

__all__ = ["SparePool"]


class SparePool:
    """Spares of one folder: usable ones, and ones waiting for a folder sync.

    ``limit`` bounds how many are kept (what a busy store reuses between two
    checkpoints); a pool of ``limit=0`` keeps none, and every write creates
    its temporary file.
    """

    __slots__ = ("_usable", "_waiting", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
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
