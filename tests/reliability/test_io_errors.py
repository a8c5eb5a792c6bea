"""I/O errors: fail the Nth file step of an operation, once and then always, for N = 1, 2, ...

After each injected fault: the call raised a StoreIOError with the OSError
chained (or completed, when the fault hit only a step it can do without), the
cache equals the disk, no temporary file is left, and once the fault is gone
the store keeps working and loses nothing. Real faults too: a full disk (a
small tmpfs) and a file-size limit (RLIMIT_FSIZE in a child process).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from tradestore.errors import CommitInDoubtError, StoreError, StoreIOError

from .adapters import Adapter, adapter_names, get_adapter, in_both_modes
from .figures import count
from .harness import child_command, journal_files, temp_files
from .simfs import FaultyFileSystem

BASE = 6  # mutations in the folder before the operation under test


async def _prepare(adapter: Adapter, root: Path) -> Path:
    """A folder as a crash leaves it: a checkpoint, journals after it, a stray temp file."""
    live = root / "live"
    store = adapter.open(live)
    for i in range(BASE - 2):
        await adapter.apply(store, i)
    await store.close()
    store = adapter.open(live)
    for i in range(BASE - 2, BASE):
        await adapter.apply(store, i)
    image = root / "image"
    shutil.copytree(live, image)  # every commit is synced: this is what a crash leaves
    await store.close()
    journal = journal_files(adapter.store_dir(image))[0]  # in a collection's own folder
    (journal.parent / ".doc-stray.json.0123456789ab.tmp").write_bytes(b'{"half')
    return image


async def _disk_state(adapter: Adapter, data_dir: Path) -> dict[str, object]:
    """What a new reader sees on disk (read-only: no lock, no change to the folder)."""
    reader = adapter.open(data_dir, read_only=True)
    try:
        return await adapter.snapshot(reader)
    finally:
        await reader.close()


def _check_raised(exc: BaseException | None, fs: FaultyFileSystem) -> None:
    assert exc is not None, f"the fault at {fs.failures} was swallowed"
    assert isinstance(exc, StoreIOError), f"{exc!r} is not a StoreIOError"
    assert isinstance(exc.__cause__, OSError), f"{exc!r} does not chain the OSError"


async def _run(op: Callable[[], Awaitable[None]]) -> BaseException | None:
    try:
        await op()
    except StoreError as exc:
        return exc
    return None


async def _sweep_commit(adapter: Adapter, image: Path, work: Path, n: int, always: bool) -> bool:
    """Fault at step ``n`` of one mutation; whether the fault fired."""
    data_dir = work / f"c{n}{'a' if always else 'o'}"
    shutil.copytree(image, data_dir)
    fs = FaultyFileSystem()
    store = adapter.open(data_dir, fs=fs)
    await store.initialize()
    before = await adapter.snapshot(store)
    assert before == adapter.expected(BASE)
    fs.fail_at, fs.always = fs.count + n, always
    exc = await _run(lambda: adapter.apply(store, BASE))
    fired = bool(fs.failures)
    fs.fail_at = None
    cache = await adapter.snapshot(store)
    done = BASE
    if fired:
        _check_raised(exc, fs)
        assert isinstance(exc, StoreIOError)
        # A journal that could not be withdrawn stays, and the cache keeps it too.
        in_doubt = isinstance(exc, CommitInDoubtError)
        assert exc.metadata.get("in_doubt", False) == in_doubt
        done = BASE + 1 if in_doubt else BASE
        assert cache == adapter.expected(done), "a failed write changed the cache"
    else:
        assert exc is None, f"{exc!r} raised with no fault injected"
        done = BASE + 1
        assert cache == adapter.expected(done)
    assert cache == await _disk_state(adapter, data_dir), "the cache differs from the disk"
    if not always:  # with every step failing, even the clean-up fails: the reopen removes it
        assert not temp_files(adapter.store_dir(data_dir)), "a temporary file was left behind"
    if done == BASE:  # the fault is gone: the store keeps working
        await adapter.apply(store, BASE)
    await store.close()
    await _check_reopen(adapter, data_dir, BASE + 1)
    return fired


async def _sweep_checkpoint(adapter: Adapter, image: Path, work: Path, n: int,
                            always: bool) -> bool:
    """Fault at step ``n`` of close (the checkpoint); whether the fault fired."""
    data_dir = work / f"k{n}{'a' if always else 'o'}"
    shutil.copytree(image, data_dir)
    fs = FaultyFileSystem()
    store = adapter.open(data_dir, fs=fs)
    await adapter.apply(store, BASE)
    fs.fail_at, fs.always = fs.count + n, always
    exc = await _run(store.close)
    fired = bool(fs.failures)
    fs.fail_at = None
    if exc is not None:
        _check_raised(exc, fs)
    assert await _disk_state(adapter, data_dir) == adapter.expected(BASE + 1)
    if not always:
        assert not temp_files(adapter.store_dir(data_dir)), "a temporary file was left behind"
    await _check_reopen(adapter, data_dir, BASE + 1)
    return fired


async def _sweep_open(adapter: Adapter, image: Path, work: Path, n: int, always: bool) -> bool:
    """Fault at step ``n`` of initialize (recovery, journal replay); whether it fired."""
    data_dir = work / f"o{n}{'a' if always else 'o'}"
    shutil.copytree(image, data_dir)
    fs = FaultyFileSystem(n, always=always)
    store = adapter.open(data_dir, fs=fs)
    exc = await _run(store.initialize)
    fired = bool(fs.failures)
    if exc is not None:
        _check_raised(exc, fs)
        await store.close()
        fs.fail_at = None
        store = adapter.open(data_dir, fs=fs)  # the fault is gone: a new open works
    fs.fail_at = None
    assert await adapter.snapshot(store) == adapter.expected(BASE)
    await adapter.apply(store, BASE)
    await store.close()
    await _check_reopen(adapter, data_dir, BASE + 1)
    return fired


async def _check_reopen(adapter: Adapter, data_dir: Path, n: int) -> None:
    store = adapter.open(data_dir)
    try:
        assert await adapter.snapshot(store) == adapter.expected(n), "a reopen lost data"
    finally:
        await store.close()
    folder = adapter.store_dir(data_dir)
    assert not temp_files(folder), "temporary files survived a reopen"
    assert not journal_files(folder), "journals survived a clean close"
    assert not (folder / "quarantine").exists(), "an I/O error was taken for damage"


SWEEPS = {"commit": _sweep_commit, "checkpoint": _sweep_checkpoint, "open": _sweep_open}


@pytest.mark.parametrize("mode", ["once", "always"])
@pytest.mark.parametrize("operation", list(SWEEPS))
@pytest.mark.parametrize("name", in_both_modes(adapter_names()))
async def test_fault_at_every_step(name: str, operation: str, mode: str, tmp_path: Path) -> None:
    adapter = get_adapter(name)
    image = await _prepare(adapter, tmp_path)
    sweep = SWEEPS[operation]
    n = 1
    while await sweep(adapter, image, tmp_path, n, mode == "always"):
        n += 1
        assert n < 400, "the operation never completes"
    count("io.faults_injected", n - 1, store=name)
    assert n > 3, f"{operation} made only {n - 1} file steps"


# -- real faults ----------------------------------------------------------------------------


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, when this machine lets us mount one (root in a capable container)."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mnt)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=True)


def _fill(folder: Path, leave: int) -> Path:
    """Fill the file system of ``folder`` but ``leave`` bytes."""
    filler = folder / "filler"
    st = os.statvfs(folder)
    size = max(st.f_bavail * st.f_frsize - leave, 0)
    with filler.open("wb") as fh:
        fh.write(b"\0" * size)
    return filler


@pytest.mark.parametrize("name", in_both_modes(adapter_names()))
async def test_full_disk_is_recoverable_and_loses_nothing(name: str, small_tmpfs: Path) -> None:
    adapter = get_adapter(name)
    data_dir = small_tmpfs / "data"
    store = adapter.open(data_dir)
    await store.initialize()
    filler = _fill(small_tmpfs, 48 * 1024)
    i, error = 0, None
    while error is None and i < 1000:
        try:
            await adapter.apply(store, i)
        except StoreIOError as exc:
            error = exc
        else:
            i += 1
    assert error is not None, "the disk never filled"
    count("io.real_faults", 1, store=name)
    assert error.recoverable, f"{error!r} is not marked recoverable"
    assert isinstance(error.__cause__, OSError)
    assert error.__cause__.errno == errno.ENOSPC
    assert await adapter.snapshot(store) == adapter.expected(i), "the cache went ahead"
    assert await _disk_state(adapter, data_dir) == adapter.expected(i), "acknowledged data lost"
    assert not temp_files(adapter.store_dir(data_dir))
    filler.unlink()  # space again: the store keeps working
    await adapter.apply(store, i)
    await store.close()
    await _check_reopen(adapter, data_dir, i + 1)


_FSIZE_CHILD = """
import asyncio, json, resource, signal, sys
from tradestore.errors import StoreIOError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
module = __import__(sys.argv[1], fromlist=["ProbeStore"])
store = module.ProbeStore(sys.argv[2])
async def main() -> None:
    await store.put("small", 1)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    try:
        await store.put("big", 2, "x" * 8000)
    except StoreIOError as exc:
        print(json.dumps({"errno": exc.__cause__.errno, "recoverable": exc.recoverable}))
    else:
        print(json.dumps({"errno": None}))
    await store.put("small", 3)
    print(json.dumps({"items": await store.items()}))
    await store.close()
asyncio.run(main())
"""


def test_file_size_limit_gives_store_io_error(tmp_path: Path) -> None:
    _argv, env = child_command()
    done = subprocess.run(
        [sys.executable, "-c", _FSIZE_CHILD, f"{__package__ or 'reliability'}.probe",
         str(tmp_path / "d")],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines()[:2])
    count("io.real_faults", 1, store="probe")
    assert first == {"errno": errno.EFBIG, "recoverable": False}
    assert second == {"items": {"small": [3, ""]}}


async def test_fault_injector_counts_every_step(tmp_path: Path) -> None:
    fs = FaultyFileSystem(3)
    fs.mkdir(tmp_path / "x")
    fd, path = fs.open_temp(tmp_path / "x", "f")
    with pytest.raises(OSError, match="step 3"):
        fs.write(fd, b"data")
    fs.close(fd)
    assert fs.failures == ["write"]
    assert path.read_bytes() == b""
