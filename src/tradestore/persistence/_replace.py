"""The replace protocol: how new bytes take a file's name without ever tearing it.

Three shapes, one per use:

- :func:`write_new` puts a file under a name nothing holds yet (a journal's
  next sequence number): write a temporary file, flush it, rename it in.
- :func:`replace_keeping_backup` replaces a live file (the checkpoint marker)
  and keeps its previous version as a backup: write and flush a temporary
  file, rename the live file to the backup name, rename the temporary file in.
- :func:`replace_each_keeping_backup` does that for many files (a
  checkpoint's documents) in passes: every file written, then every file
  flushed, then each renamed in. Each file's bytes are still flushed before
  its name moves; the passes only keep the flushes and the renames apart
  (why: in its docstring).

Both end with a sync of the folder, which makes the renames durable, unless
the caller syncs it once for several files (``sync_dir=False``). With
``durable=False`` neither flush runs; the renames still make every write
atomic for a killed process (the page cache survives it).

The temporary file is either created (unique random name, exclusive create) or
a *spare*: a file this layer no longer needs, already under a temporary name
made durable by an earlier folder sync, rewritten in place (see
:mod:`._spares` for why).

What has been done so far is kept in a :class:`_Progress` record; on failure it
undoes itself as far as the steps allow and reports whether the old state is
back. When the new file already holds the live name and cannot be withdrawn,
the caller gets :class:`CommitInDoubtError`: its change is on disk.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from tradestore.errors import CommitInDoubtError, StoreIOError
from tradestore.persistence._format import pad_to
from tradestore.persistence._fs import FileSystem

__all__ = ["REPLACE_BATCH", "replace_each_keeping_backup", "replace_keeping_backup", "write_new"]

_log = logging.getLogger(__name__)
#: Files :func:`replace_each_keeping_backup` has open at once (each pass runs over
#: this many): a checkpoint of thousands of documents must not run out of descriptors.
REPLACE_BATCH = 64


@dataclass
class _Progress:
    """How far a replace got, and how to take it back."""

    folder: Path
    name: str
    temp: Path
    fd: int | None  # open until closed
    backup: str | None = None
    backed_up: bool = False  # the live file was renamed to ``backup``
    renamed: bool = False  # the new file holds the live name

    def undo(self, fs: FileSystem) -> bool:
        """Put the folder back as it was; whether that went through.

        Before the rename the temporary file is removed (and a live file moved
        to its backup is moved back). After it, the new file is withdrawn: the
        backup is renamed back over it, or, when there was no previous file, it
        is removed. The original error is never hidden by a failure here.
        """
        if self.fd is not None:
            try:
                fs.close(self.fd)
            except OSError:
                _log.debug("closing %s after a failed write also failed", self.temp)
            self.fd = None
        target = self.folder / self.name
        try:
            if self.backed_up:
                fs.replace(self.folder / str(self.backup), target)
            elif self.renamed:
                fs.unlink(target)
            if not self.renamed:
                fs.unlink(self.temp)
        except OSError:
            _log.warning("could not clean up after a failed write of %s", target)
            return False
        return True


def _start(fs: FileSystem, folder: Path, name: str, data: bytes,
           spare: Path | None) -> tuple[_Progress, bytes]:
    """Open the file the new bytes go into: a fresh temporary file or ``spare``."""
    try:
        if spare is not None:
            fd, size = fs.open_spare(spare, len(data))
            return _Progress(folder, name, spare, fd), pad_to(data, size)
        fd, temp = fs.open_temp(folder, name)
    except OSError as exc:
        raise StoreIOError.from_os_error(f"writing {folder / name}", exc) from exc
    return _Progress(folder, name, temp, fd), data


def _write_and_flush(fs: FileSystem, p: _Progress, data: bytes, durable: bool) -> None:
    assert p.fd is not None
    fs.write(p.fd, data)
    if durable:
        fs.fdatasync(p.fd)
    fd, p.fd = p.fd, None
    fs.close(fd)


def _failed(fs: FileSystem, p: _Progress, exc: OSError) -> StoreIOError:
    """Undo ``p`` and build the error to raise (``raise ... from exc`` by the caller)."""
    restored = p.undo(fs)
    action = f"writing {p.folder / p.name}"
    if p.renamed and not restored:
        return CommitInDoubtError.from_os_error(action, exc)
    return StoreIOError.from_os_error(action, exc)


def write_new(  # noqa: PLR0913  the file, its bytes, and how (keywords)
    fs: FileSystem, folder: Path, name: str, data: bytes, *, durable: bool,
    spare: Path | None = None,
) -> None:
    """Put ``data`` at ``folder/name``, a name no file holds: write, flush, rename, sync.

    :raises StoreIOError: the write failed and nothing of it is left.
    :raises CommitInDoubtError: the file holds its name and could not be removed.
    """
    p, data = _start(fs, folder, name, data, spare)
    try:
        _write_and_flush(fs, p, data, durable)
        fs.replace(p.temp, folder / name)
        p.renamed = True
        if durable:
            fs.fsync_dir(folder)
    except OSError as exc:
        raise _failed(fs, p, exc) from exc
    except BaseException:
        p.undo(fs)
        raise


def replace_keeping_backup(  # noqa: PLR0913  the file, its bytes, and how (keywords)
    fs: FileSystem, folder: Path, name: str, data: bytes, *, backup: str, durable: bool,
    sync_dir: bool = True, spare: Path | None = None,
) -> None:
    """Replace ``folder/name`` by ``data``, its previous version renamed to ``backup``.

    The order is what makes a crash at any point safe: the new bytes are
    flushed under a temporary name before the live file moves, so the live name
    always holds a whole version, or (between the two renames) only the backup
    does, which recovery reads. A symlink at ``name`` is moved, never followed.

    :raises StoreIOError: the write failed; the previous version is back in place.
    :raises CommitInDoubtError: the new file holds the name and could not be withdrawn.
    """
    p, data = _start(fs, folder, name, data, spare)
    p.backup = backup
    try:
        _write_and_flush(fs, p, data, durable)
        if fs.exists(folder / name):
            fs.replace(folder / name, folder / backup)
            p.backed_up = True
        fs.replace(p.temp, folder / name)
        p.renamed = True
        if durable and sync_dir:
            fs.fsync_dir(folder)
    except OSError as exc:
        raise _failed(fs, p, exc) from exc
    except BaseException:
        p.undo(fs)
        raise


def replace_each_keeping_backup(
    fs: FileSystem, folder: Path, files: Iterable[tuple[str, bytes, Path | None]], *,
    backup_suffix: str,
) -> None:
    """Replace each ``(name, data, spare)`` as :func:`replace_keeping_backup` would, durably.

    :data:`REPLACE_BATCH` files at a time, in passes: each file written (to a
    new temporary file or its spare), then each flushed, then each renamed in,
    its live file first renamed to ``name + backup_suffix``. The folder is not
    synced; the caller syncs it once for all.

    Why passes: on btrfs a flush that comes after renames in the same folder
    commits them too (its log tree), so a flush and a rename per file in turn
    made a 640-document checkpoint on a loop-mounted btrfs take 466 ms, and
    these passes 94 ms; on ext4 and xfs both orders cost the same.

    :raises StoreIOError: a step failed. The files renamed before it hold their
        new versions (a checkpoint keeps its journals, which replay onto them);
        the others are as they were, their temporary files removed.
    """
    todo = iter(files)
    while batch := list(islice(todo, REPLACE_BATCH)):
        _replace_batch(fs, folder, batch, backup_suffix)


def _replace_batch(fs: FileSystem, folder: Path,
                   batch: list[tuple[str, bytes, Path | None]], backup_suffix: str) -> None:
    started: list[_Progress] = []
    name = batch[0][0]
    try:
        for name, data, spare in batch:
            p, padded = _start(fs, folder, name, data, spare)
            p.backup = name + backup_suffix
            started.append(p)
            assert p.fd is not None
            fs.write(p.fd, padded)
        for p in started:
            name = p.name
            assert p.fd is not None
            fs.fdatasync(p.fd)
        for p in started:
            name = p.name
            fd, p.fd = p.fd, None
            assert fd is not None
            fs.close(fd)
        for p in started:
            name = p.name
            if fs.exists(folder / name):
                fs.replace(folder / name, folder / str(p.backup))
                p.backed_up = True
            fs.replace(p.temp, folder / name)
            p.renamed = True
    except OSError as exc:
        _undo_unrenamed(fs, started)
        raise StoreIOError.from_os_error(f"writing {folder / name}", exc) from exc
    except BaseException:
        _undo_unrenamed(fs, started)
        raise


def _undo_unrenamed(fs: FileSystem, started: list[_Progress]) -> None:
    """Take back every file of a failed batch that does not hold its name yet."""
    for p in started:
        if not p.renamed:
            p.undo(fs)
