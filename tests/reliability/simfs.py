"""File systems for tests: a power-loss simulation and a fault injector.

:class:`SimulatedFileSystem` runs every step on the real files of one folder
(the *volatile* view: what the page cache shows) and keeps, beside it, what an
fsync has made *durable*:

- a file's contents are durable only as of the last ``fsync`` of that file;
- a folder's entries (creations, renames, unlinks, new sub-folders) are durable
  only as of the last ``fsync_dir`` of that folder.

Files are tracked by identity (an inode created through this layer), so a
rename carries the file's durable contents with it, as on a real disk.
:meth:`SimulatedFileSystem.crash` replaces the volatile state with the durable
one, optionally garbling the tails that were never synced.
"""

from __future__ import annotations

import errno
import itertools
import os
import random
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from tradestore.persistence._format import BLOCK
from tradestore.persistence._fs import FileSystem

__all__ = [
    "TEMP_GLOB",
    "FaultyFileSystem",
    "NoDirFsyncFileSystem",
    "NoFileFsyncFileSystem",
    "SimulatedFileSystem",
    "SkipOneSyncFileSystem",
]

TEMP_GLOB = ".*.tmp"
_ids = itertools.count(1)


@dataclass
class _Node:
    """One file or folder of the durable view."""

    is_dir: bool
    data: bytes = b""  # files: durable contents
    entries: dict[str, int] = field(default_factory=dict)  # folders: durable name -> node id


class PowerLost(OSError):
    """Raised by every step after the simulated power loss."""

    def __init__(self) -> None:
        super().__init__(errno.EIO, "simulated power loss")


class SimulatedFileSystem(FileSystem):
    """A :class:`FileSystem` that models what survives a power loss under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.calls: list[str] = []
        self.crash_after: int | None = None
        self._nodes: dict[int, _Node] = {}
        self._by_inode: dict[int, int] = {}  # st_ino -> node id
        self._fds: dict[int, int] = {}  # descriptor -> node id
        self._adopt_tree()

    # -- bookkeeping -----------------------------------------------------------------------

    def _adopt_tree(self) -> None:
        """Take everything now under ``root`` as durable."""
        self._nodes.clear()
        self._by_inode.clear()
        self._adopt(self.root)

    def _adopt(self, path: Path) -> int:
        st = os.lstat(path)
        node_id = next(_ids)
        if path.is_dir() and not path.is_symlink():
            node = _Node(is_dir=True)
            self._nodes[node_id] = node
            self._by_inode[st.st_ino] = node_id
            for name in sorted(os.listdir(path)):
                node.entries[name] = self._adopt(path / name)
        else:
            self._nodes[node_id] = _Node(is_dir=False, data=path.read_bytes())
            self._by_inode[st.st_ino] = node_id
        return node_id

    def _node_of(self, path: Path) -> int:
        st = os.lstat(path)
        node_id = self._by_inode.get(st.st_ino)
        if node_id is None:  # made outside this layer (the lock file): new, nothing durable
            node_id = next(_ids)
            self._nodes[node_id] = _Node(is_dir=os.path.isdir(path))
            self._by_inode[st.st_ino] = node_id
        return node_id

    def _step(self, name: str) -> None:
        if self.crash_after is not None and len(self.calls) >= self.crash_after:
            raise PowerLost()
        self.calls.append(name)

    @property
    def dead(self) -> bool:
        """Whether the simulated power loss has happened."""
        return self.crash_after is not None and len(self.calls) >= self.crash_after

    # -- the steps -------------------------------------------------------------------------

    def open_temp(self, folder: Path, prefix: str) -> tuple[int, Path]:
        self._step("open_temp")
        fd, path = super().open_temp(folder, prefix)
        node_id = next(_ids)
        self._nodes[node_id] = _Node(is_dir=False)
        self._by_inode[os.fstat(fd).st_ino] = node_id
        self._fds[fd] = node_id
        return fd, path

    def open_spare(self, path: Path, size: int) -> tuple[int, int]:
        self._step("open_spare")
        fd, size = super().open_spare(path, size)
        self._fds[fd] = self._node_of(path)  # the same file: its durable contents stay
        return fd, size

    def open_log(self, path: Path) -> int:
        self._step("open_log")
        fd = super().open_log(path)
        node_id = next(_ids)
        self._nodes[node_id] = _Node(is_dir=False)
        self._by_inode[os.fstat(fd).st_ino] = node_id
        self._fds[fd] = node_id
        return fd

    def reopen_log(self, path: Path) -> int:
        self._step("reopen_log")
        fd = super().reopen_log(path)
        self._fds[fd] = self._node_of(path)
        return fd

    def pwrite(self, fd: int, data: bytes, offset: int) -> None:
        self._step("pwrite")
        super().pwrite(fd, data, offset)

    def write(self, fd: int, data: bytes) -> None:
        self._step("write")
        super().write(fd, data)

    def fdatasync(self, fd: int) -> None:
        self._step("fdatasync")
        os.fstat(fd)  # a closed descriptor fails as the real call would
        self._sync_file(fd)  # the model decides what is durable: no need to hit the disk

    def _sync_file(self, fd: int) -> None:
        node_id = self._fds[fd]
        with open(f"/proc/self/fd/{fd}", "rb") as fh:
            self._nodes[node_id].data = fh.read()

    def close(self, fd: int) -> None:
        self._step("close")
        self._fds.pop(fd, None)
        super().close(fd)

    def replace(self, src: Path, dst: Path) -> None:
        self._step("replace")
        super().replace(src, dst)

    def fsync_dir(self, folder: Path) -> None:
        self._step("fsync_dir")
        self._sync_dir(folder)

    def _sync_dir(self, folder: Path) -> None:
        node = self._nodes[self._node_of(folder)]
        node.entries = {name: self._node_of(folder / name) for name in os.listdir(folder)}

    def unlink(self, path: Path) -> None:
        self._step("unlink")
        super().unlink(path)

    def mkdir(self, folder: Path) -> None:
        self._step("mkdir")
        missing: list[Path] = []
        level = folder
        while not os.path.lexists(level):
            missing.append(level)
            level = level.parent
        super().mkdir(folder)
        for created in missing:
            node_id = next(_ids)
            self._nodes[node_id] = _Node(is_dir=True)
            self._by_inode[os.lstat(created).st_ino] = node_id

    def read(self, path: Path) -> bytes:
        self._step("read")
        return super().read(path)

    def listdir(self, folder: Path) -> list[str]:
        self._step("listdir")
        return super().listdir(folder)

    def exists(self, path: Path) -> bool:
        self._step("exists")
        return super().exists(path)

    # -- the crash -------------------------------------------------------------------------

    def durable_tree(self) -> dict[str, bytes | None]:
        """Relative path -> durable bytes (None for a folder), as a crash would leave it."""
        out: dict[str, bytes | None] = {}

        def walk(node_id: int, rel: str) -> None:
            node = self._nodes[node_id]
            for name, child_id in sorted(node.entries.items()):
                child = self._nodes[child_id]
                path = f"{rel}/{name}" if rel else name
                if child.is_dir:
                    out[path] = None
                    walk(child_id, path)
                else:
                    out[path] = child.data

        walk(self._by_inode[os.lstat(self.root).st_ino], "")
        return out

    def crash(self, *, garble: random.Random | None = None) -> None:
        """Lose power now: the folder becomes its durable view; then power comes back.

        With ``garble``, a file whose synced contents differ from what was
        written gets a random mix instead: a prefix of the unsynced bytes, with
        noise, as a disk that wrote part of its cache might leave. A file written
        in place (an append log with synced records) is torn block by block
        instead (``_torn_blocks``): blocks no unsynced write touched keep their
        synced bytes, as on a disk that writes whole blocks or nothing of a block
        it was not asked to write.
        """
        volatile: dict[int, bytes] = {}
        if garble is not None:
            for dirpath, _dirs, files in os.walk(self.root):
                for name in files:
                    path = Path(dirpath) / name
                    node_id = self._by_inode.get(os.lstat(path).st_ino)
                    if node_id is not None and not path.is_symlink():
                        volatile[node_id] = path.read_bytes()
        tree = self.durable_tree()
        if garble is not None:
            tree = self._garbled(tree, volatile, garble)
        for fd in list(self._fds):
            os.close(fd)
        self._fds.clear()
        for entry in os.listdir(self.root):
            path = self.root / entry
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        for rel, data in tree.items():
            path = self.root / rel
            if data is None:
                path.mkdir(mode=0o700)
            else:
                path.write_bytes(data)
        self.crash_after = None
        self.calls.clear()
        self._adopt_tree()

    def _garbled(
        self, tree: dict[str, bytes | None], volatile: dict[int, bytes], rng: random.Random
    ) -> dict[str, bytes | None]:
        by_data: dict[str, int] = {}

        def walk(node_id: int, rel: str) -> None:
            for name, child_id in self._nodes[node_id].entries.items():
                path = f"{rel}/{name}" if rel else name
                by_data[path] = child_id
                if self._nodes[child_id].is_dir:
                    walk(child_id, path)

        walk(self._by_inode[os.lstat(self.root).st_ino], "")
        out = dict(tree)
        for rel, data in tree.items():
            if data is None:
                continue
            fresh = volatile.get(by_data[rel])
            if fresh is None or fresh == data:
                continue
            if rel.endswith(".log") and data:
                out[rel] = _torn_blocks(data, fresh, rng)
                continue
            cut = rng.randrange(len(fresh) + 1)
            noisy = bytearray(fresh[:cut])
            for _ in range(rng.randrange(3)):
                if noisy:
                    noisy[rng.randrange(len(noisy))] = rng.randrange(256)
            out[rel] = bytes(noisy)
        return out


def _torn_blocks(synced: bytes, fresh: bytes, rng: random.Random) -> bytes:
    """A file written in place (an append log) after a power cut: its blocks torn, not the rest.

    A block (4 KiB) whose bytes the unsynced writes did not change is left as it
    was synced; each one they changed comes back old, new, or new with noise (a
    write the disk tore). Blocks past the synced length survive as a prefix.
    """
    block = BLOCK  # the unit the append log aligns its records to
    kept_tail = rng.randrange((max(0, len(fresh) - len(synced)) // block) + 1)
    size = max(len(synced), min(len(fresh), len(synced) + kept_tail * block))
    out = bytearray()
    for at in range(0, size, block):
        old, new = synced[at:at + block], fresh[at:at + block]
        if old == new:
            out += old
            continue
        pick = rng.randrange(3)
        chunk = bytearray(old if pick == 0 and len(old) == len(new) else new)
        if pick == 2 and chunk:
            for _ in range(1 + rng.randrange(2)):
                chunk[rng.randrange(len(chunk))] = rng.randrange(256)
        out += chunk
    return bytes(out)


class NoFileFsyncFileSystem(SimulatedFileSystem):
    """A broken layer's view: ``fsync`` of a file does nothing."""

    def fdatasync(self, fd: int) -> None:
        self._step("fdatasync")


class NoDirFsyncFileSystem(SimulatedFileSystem):
    """A broken layer's view: ``fsync_dir`` does nothing."""

    def fsync_dir(self, folder: Path) -> None:
        self._step("fsync_dir")


class SkipOneSyncFileSystem(SimulatedFileSystem):
    """A broken layer: one sync step of the protocol is left out, the others run.

    The step is named by the sync (``"fdatasync"`` or ``"fsync_dir"``) and the
    protocol function it belongs to (``"write_new"``, ``"_write_marker"``, ...):
    a sync is skipped when that function is among its closest callers.
    ``skipped`` counts the syncs left out, so a test can check the step ran.
    """

    DEPTH = 4  # the protocol function is at most this many frames above the sync

    def __init__(self, root: Path, sync: str, step: str) -> None:
        super().__init__(root)
        self.sync = sync
        self.step = step
        self.skipped = 0

    def _skip(self, sync: str) -> bool:
        if sync != self.sync:
            return False
        frame: FrameType | None = sys._getframe(2)  # the caller of fdatasync / fsync_dir
        for _ in range(self.DEPTH):
            if frame is None:
                break
            if frame.f_code.co_name == self.step:
                self.skipped += 1
                return True
            frame = frame.f_back
        return False

    def fdatasync(self, fd: int) -> None:
        if self._skip("fdatasync"):
            self._step("fdatasync")
        else:
            super().fdatasync(fd)

    def fsync_dir(self, folder: Path) -> None:
        if self._skip("fsync_dir"):
            self._step("fsync_dir")
        else:
            super().fsync_dir(folder)


OPERATIONS = (
    "open_temp", "open_spare", "open_log", "reopen_log", "pwrite", "write", "fdatasync", "close",
    "replace", "fsync_dir", "unlink",
    "mkdir", "read", "listdir", "exists",
)


class FaultyFileSystem(FileSystem):
    """Fails the Nth step (``once``) or every step from the Nth on (``always``).

    A failed step leaves no trace other than its error, except ``close``,
    which releases the descriptor first (as Linux does when close fails).
    """

    def __init__(self, fail_at: int | None = None, *, always: bool = False,
                 err: int = errno.EIO, only: Callable[[str], bool] | None = None) -> None:
        self.fail_at = fail_at
        self.always = always
        self.err = err
        self.only = only
        self.count = 0
        self.failures: list[str] = []

    def _step(self, name: str) -> None:
        if self.only is not None and not self.only(name):
            return
        self.count += 1
        if self.fail_at is not None and (
            self.count == self.fail_at or (self.always and self.count > self.fail_at)
        ):
            self.failures.append(name)
            raise OSError(self.err, f"injected fault in {name} (step {self.count})")

    def open_temp(self, folder: Path, prefix: str) -> tuple[int, Path]:
        self._step("open_temp")
        return super().open_temp(folder, prefix)

    def open_spare(self, path: Path, size: int) -> tuple[int, int]:
        self._step("open_spare")
        return super().open_spare(path, size)

    def open_log(self, path: Path) -> int:
        self._step("open_log")
        return super().open_log(path)

    def reopen_log(self, path: Path) -> int:
        self._step("reopen_log")
        return super().reopen_log(path)

    def pwrite(self, fd: int, data: bytes, offset: int) -> None:
        self._step("pwrite")
        super().pwrite(fd, data, offset)

    def write(self, fd: int, data: bytes) -> None:
        self._step("write")
        super().write(fd, data)

    def fdatasync(self, fd: int) -> None:
        self._step("fdatasync")
        super().fdatasync(fd)

    def close(self, fd: int) -> None:
        try:
            self._step("close")
        finally:
            super().close(fd)

    def replace(self, src: Path, dst: Path) -> None:
        self._step("replace")
        super().replace(src, dst)

    def fsync_dir(self, folder: Path) -> None:
        self._step("fsync_dir")
        super().fsync_dir(folder)

    def unlink(self, path: Path) -> None:
        self._step("unlink")
        super().unlink(path)

    def mkdir(self, folder: Path) -> None:
        self._step("mkdir")
        super().mkdir(folder)

    def read(self, path: Path) -> bytes:
        self._step("read")
        return super().read(path)

    def listdir(self, folder: Path) -> list[str]:
        self._step("listdir")
        return super().listdir(folder)

    def exists(self, path: Path) -> bool:
        self._step("exists")
        return super().exists(path)
