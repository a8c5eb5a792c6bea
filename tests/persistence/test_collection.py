"""The persistence layer through a minimal store: commits, failures, recovery, processes."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import os
import shutil
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.persistence.test_durable_replace import FailingFS
from tests.persistence.toy import ToyStore, unfinished_writes
from tradestore.errors import (
    NotFoundError,
    StoreClosedError,
    StoreCorruptedError,
    StoreError,
    StoreIOError,
    ValidationError,
)
from tradestore.persistence._fs import FileSystem

ROOT = str(Path(__file__).resolve().parents[2])
SRC = str(Path(ROOT) / "src")


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (the lock file excluded)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != ".lock":
            out[str(path.relative_to(folder))] = path.read_bytes()
    return out


async def reopen_all(data: Path) -> dict[str, int]:
    async with ToyStore(data, read_only=True) as fresh:
        return await fresh.all()


async def test_round_trip_and_reopen(tmp_path: Path) -> None:
    async with ToyStore(tmp_path) as store:
        assert await store.add("a") == 1
        assert await store.add("a", 4) == 5
        await store.set_many({f"k{i}": i for i in range(100)})
        await store.remove("k3")
        expected = await store.all()
    assert await reopen_all(tmp_path) == expected
    assert expected["a"] == 5
    assert "k3" not in expected


async def test_thousand_concurrent_mutations_lose_nothing(tmp_path: Path) -> None:
    fs = FailingFS()
    async with ToyStore(tmp_path, fs=fs) as store:
        await asyncio.gather(*(store.add(f"c{i % 10}") for i in range(1000)))
        assert sum((await store.all()).values()) == 1000
        commits = fs.calls.count("fsync_dir")
    assert commits < 200, "concurrent mutations should share commits"
    assert sum((await reopen_all(tmp_path)).values()) == 1000


async def test_durable_false_syncs_at_checkpoints_not_per_commit(tmp_path: Path) -> None:
    fs = FailingFS()
    async with ToyStore(tmp_path, fs=fs, durable=False, idle_checkpoint=60) as store:
        await store.add("a")
        start = len(fs.calls)
        for i in range(20):
            await store.add(f"k{i}")
        commits = fs.calls[start:]
        assert commits.count("replace") == 20
        assert "fdatasync" not in commits
        assert "fsync_dir" not in commits
        await store.checkpoint()  # the sync point: documents and folder synced
        checkpoint = fs.calls[start + len(commits):]
        assert "fdatasync" in checkpoint
        assert checkpoint[-1] == "fsync_dir"
    assert await reopen_all(tmp_path) == {"a": 1, **{f"k{i}": 1 for i in range(20)}}


async def test_unacknowledged_state_survives_without_close(tmp_path: Path) -> None:
    store = ToyStore(tmp_path)
    for i in range(20):
        await store.add(f"x{i}", i + 1)
    snapshot = tmp_path.parent / "copy"
    shutil.copytree(tmp_path, snapshot)  # as a crash would leave it: journals, no checkpoint
    await store.close()
    (snapshot / "toy" / ".lock").unlink()
    assert await reopen_all(snapshot) == {f"x{i}": i + 1 for i in range(20)}


@pytest.mark.parametrize(
    "step", ["open_temp", "write", "fdatasync", "close", "replace", "fsync_dir"]
)
async def test_failed_commit_rolls_back_and_recovers(tmp_path: Path, step: str) -> None:
    fs = FailingFS()
    async with ToyStore(tmp_path, fs=fs) as store:
        await store.add("a", 1)
        fs.fail = step
        results = await asyncio.gather(store.add("a", 10), store.add("b", 5),
                                       return_exceptions=True)
        for res in results:
            assert isinstance(res, StoreIOError)
            assert isinstance(res.__cause__, OSError)
        assert await store.get("a") == 1
        assert await store.get("b") is None
        assert not unfinished_writes(tmp_path / "toy")
        assert await reopen_all(tmp_path) == {"a": 1}
        fs.fail = None
        assert await store.add("a", 2) == 3
    assert await reopen_all(tmp_path) == {"a": 3}


async def test_error_inside_mutation_changes_nothing(tmp_path: Path) -> None:
    async with ToyStore(tmp_path) as store:
        await store.add("a")
        before = files(tmp_path)
        with pytest.raises(NotFoundError):
            await store.remove("missing")
        with pytest.raises(ValidationError):
            await store.add("a", -1)
        assert files(tmp_path) == before
        assert await store.all() == {"a": 1}


async def test_cancelled_caller_still_commits_and_leaks_nothing(tmp_path: Path) -> None:
    fds_before = len(os.listdir("/proc/self/fd"))
    async with ToyStore(tmp_path) as store:
        await store.add("warm")
        for k in range(6):
            task = asyncio.create_task(store.add(f"c{k}"))
            for _ in range(k):
                await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await store.flush()
        seen = await store.all()
    after_reopen = await reopen_all(tmp_path)
    assert after_reopen == seen  # whatever was applied is durable, nothing half-done
    assert not unfinished_writes(tmp_path / "toy")
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) <= fds_before


async def test_a_cancelled_caller_leaves_the_others_of_its_batch_waiting(
    tmp_path: Path,
) -> None:
    async with ToyStore(tmp_path, lazy=False) as store:
        await store.add("warm")
        tasks = [asyncio.create_task(store.add(f"b{k}")) for k in range(5)]
        await asyncio.sleep(0)  # each applied its change and joined the pending batch
        tasks[2].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(results[2], asyncio.CancelledError)
        assert [r for k, r in enumerate(results) if k != 2] == [1, 1, 1, 1]
    # The cancelled caller's change was applied, so it is committed with the rest.
    assert await reopen_all(tmp_path) == {"warm": 1, **{f"b{k}": 1 for k in range(5)}}


async def test_a_failed_commit_reaches_every_caller_still_waiting(tmp_path: Path) -> None:
    fs = FailingFS()
    async with ToyStore(tmp_path, fs=fs, lazy=False) as store:
        await store.add("warm")
        fs.fail = "fdatasync"
        tasks = [asyncio.create_task(store.add(f"b{k}")) for k in range(4)]
        await asyncio.sleep(0)
        tasks[1].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        fs.fail = None
        assert isinstance(results[1], asyncio.CancelledError)
        assert all(isinstance(r, StoreIOError) for k, r in enumerate(results) if k != 1)
        assert await store.all() == {"warm": 1}  # rolled back, the cancelled change too
    assert await reopen_all(tmp_path) == {"warm": 1}


async def test_leftover_temp_files_are_removed(tmp_path: Path) -> None:
    async with ToyStore(tmp_path) as store:
        await store.add("a")
    leftover = tmp_path / "toy" / ".journal-0000000000000009.json.abc.tmp"
    leftover.write_bytes(b"partial")
    async with ToyStore(tmp_path) as store:
        assert await store.get("a") == 1
    assert not leftover.exists()


async def test_files_and_folders_are_private(tmp_path: Path) -> None:
    async with ToyStore(tmp_path / "data") as store:
        await store.add("a")
    folder = tmp_path / "data" / "toy"
    assert folder.stat().st_mode & 0o777 == 0o700
    for path in folder.iterdir():
        assert path.stat().st_mode & 0o077 == 0, path


def _doc_path(data: Path, name: str) -> Path:
    return data / "toy" / f"doc-{ToyStore.doc_of(name)}.json"


DAMAGES = {
    # Cut inside the records: cutting only the trailing padding loses nothing.
    "truncated": lambda b: b[: len(b.rstrip(b" ")) // 2],
    "empty": lambda b: b"",
    "zero-filled": lambda b: b"\0" * len(b),
    "bad-json": lambda b: b"{" + b[1:].replace(b":", b";", 3),
    "checksum": lambda b: b.replace(b'"value":2', b'"value":7'),
    "wrong-shape": None,
}


def _wrong_shape(path: Path) -> None:
    from tradestore.persistence._format import encode_file

    doc = path.name[4:-5]
    path.write_bytes(encode_file("doc", "counters", doc, 999, {"a": {"value": "x"}}, lines=True))


@pytest.mark.parametrize("kind", list(DAMAGES))
async def test_damaged_document_recovers_previous_version(tmp_path: Path, kind: str) -> None:
    async with ToyStore(tmp_path) as store:
        await store.add("a", 1)
    async with ToyStore(tmp_path) as store:
        await store.add("a", 1)  # the checkpoint at close keeps value 1 as the .bak
    path = _doc_path(tmp_path, "a")
    original = path.read_bytes()
    damage = DAMAGES[kind]
    if damage is None:
        _wrong_shape(path)
    else:
        path.write_bytes(damage(original))
    damaged = path.read_bytes()
    async with ToyStore(tmp_path) as store:
        assert await store.get("a") == 1  # the previous good version, never a wrong value
    quarantined = list((tmp_path / "toy" / "quarantine").iterdir())
    assert [q.read_bytes() for q in quarantined] == [damaged]


async def test_no_good_version_raises_corrupted_naming_the_file(tmp_path: Path) -> None:
    async with ToyStore(tmp_path) as store:
        await store.add("a", 1)
        await store.add("b", 1)
    path = _doc_path(tmp_path, "a")
    path.write_bytes(b"garbage")
    for _ in range(2):  # every open refuses the same way: the damage is never hidden
        async with ToyStore(tmp_path) as store:
            with pytest.raises(StoreCorruptedError) as info:
                await store.get("a")
            assert str(path) in str(info.value)
            assert info.value.severity == "critical"
            assert await store.get("b") == 1 or ToyStore.doc_of("b") == ToyStore.doc_of("a")
    assert path.read_bytes() == b"garbage"


async def test_newer_format_version_is_refused_untouched(tmp_path: Path) -> None:
    async with ToyStore(tmp_path, lazy=False) as store:
        await store.add("a", 1)
    path = _doc_path(tmp_path, "a")
    newer = path.read_bytes().replace(b'"version":1', b'"version":3', 1)
    path.write_bytes(newer)
    with pytest.raises(StoreCorruptedError, match="newer"):
        await ToyStore(tmp_path, lazy=False).initialize()
    assert path.read_bytes() == newer
    assert not (tmp_path / "toy" / "quarantine").exists()


async def test_damaged_journal_is_quarantined(tmp_path: Path) -> None:
    store = ToyStore(tmp_path)
    await store.add("a", 1)
    await store.add("b", 1)
    crash_copy = tmp_path.parent / "crash"
    shutil.copytree(tmp_path, crash_copy)
    await store.close()
    (crash_copy / "toy" / ".lock").unlink()
    journals = sorted((crash_copy / "toy").glob("journal-*.json"))
    journals[-1].write_bytes(journals[-1].read_bytes()[:20])
    async with ToyStore(crash_copy) as fresh:
        assert await fresh.get("a") == 1
    assert len(list((crash_copy / "toy" / "quarantine").iterdir())) == 1


async def test_second_writer_in_process_is_a_handle_on_the_same_store(tmp_path: Path) -> None:
    async with ToyStore(tmp_path) as first, ToyStore(tmp_path) as second:
        await first.add("a", 2)
        assert await second.add("a", 3) == 5
        assert await first.get("a") == 5


async def test_second_writer_process_is_refused_promptly(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import asyncio, sys, time
        sys.path[:0] = [{SRC!r}, {ROOT!r}]
        from tests.persistence.toy import ToyStore, unfinished_writes
        from tradestore.errors import StoreLockedError
        async def main():
            t = time.monotonic()
            try:
                await ToyStore({str(tmp_path)!r}).initialize()
            except StoreLockedError:
                print("locked", time.monotonic() - t)
        asyncio.run(main())
    """)
    async with ToyStore(tmp_path) as store:
        await store.add("a")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await proc.communicate()
    word, elapsed = out.decode().split()
    assert word == "locked"
    assert float(elapsed) < 1.0


async def test_read_only_sees_snapshot_and_reload(tmp_path: Path) -> None:
    async with ToyStore(tmp_path) as writer:
        await writer.add("a", 1)
        before = files(tmp_path)
        reader = ToyStore(tmp_path, read_only=True)
        assert await reader.get("a") == 1
        await writer.add("a", 1)
        assert await reader.get("a") == 1
        await reader.reload()
        assert await reader.get("a") == 2
        with pytest.raises(StoreError):
            await reader.add("a")
        await reader.close()
        assert set(files(tmp_path)) >= set(before) - {"toy/checkpoint.json"}


async def test_lifecycle(tmp_path: Path) -> None:
    store = ToyStore(tmp_path)
    assert await store.add("a") == 1  # initializes on first use
    await asyncio.gather(*(store.initialize() for _ in range(5)))
    await store.close()
    await store.close()
    with pytest.raises(StoreClosedError):
        await store.get("a")
    with pytest.raises(StoreClosedError):
        await store.add("a")


async def test_unclosed_store_warns(tmp_path: Path) -> None:
    store = ToyStore(tmp_path)
    await store.initialize()
    await store._lock.release()
    with pytest.warns(ResourceWarning, match="never closed"):
        store.__del__()
    await store.close()  # leaves no open store behind for the tests that run after this one


async def test_unwritable_folder_gives_store_io_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreIOError):
        await ToyStore(blocker).initialize()


async def test_group_commit_is_one_write_for_many_documents(tmp_path: Path) -> None:
    fs = FailingFS()
    async with ToyStore(tmp_path, fs=fs) as store:
        await store.add("warm")
        fs.calls.clear()
        await store.set_many({f"n{i}": i for i in range(200)})  # touches all 8 documents
        assert fs.calls.count("replace") == 1
        assert fs.calls.count("fdatasync") == 1


def test_run_io_keeps_the_loop_free(tmp_path: Path) -> None:
    class SlowFS(FileSystem):
        def fdatasync(self, fd: int) -> None:
            time.sleep(0.05)
            super().fdatasync(fd)

    async def main() -> float:
        async with ToyStore(tmp_path, fs=SlowFS()) as store:
            worst = 0.0
            stop = False

            async def ticker() -> None:
                nonlocal worst
                while not stop:
                    t = time.perf_counter()
                    await asyncio.sleep(0.001)
                    worst = max(worst, time.perf_counter() - t)

            tick = asyncio.create_task(ticker())
            await store.add("a")
            stop = True
            await tick
            return worst

    assert asyncio.run(main()) < 0.04


async def test_fsync_failure_is_not_retried_as_success(tmp_path: Path) -> None:
    fs = FailingFS(fail="fdatasync", err=errno.EIO)
    async with ToyStore(tmp_path, fs=fs) as store:
        with pytest.raises(StoreIOError):
            await store.add("a")
        assert fs.calls.count("fdatasync") == 1
        fs.fail = None
    assert await reopen_all(tmp_path) == {}


async def test_read_only_opens_see_whole_commits_beside_a_busy_writer(tmp_path: Path) -> None:
    names = [f"k{i}" for i in range(40)]  # spread over all 8 documents
    torn: list[set[int]] = []
    views = 0
    async with ToyStore(tmp_path, checkpoint_every=2, durable=False) as writer:
        await writer.set_many(dict.fromkeys(names, 0))
        stop = False

        async def write() -> int:
            value = 0
            while not stop:
                value += 1
                await writer.set_many(dict.fromkeys(names, value))
                await asyncio.sleep(0)
            return value

        task = asyncio.create_task(write())
        for _ in range(8):
            async with ToyStore(tmp_path, read_only=True) as reader:
                values = set((await reader.all()).values())
            views += 1
            if len(values) != 1:
                torn.append(values)
        stop = True
        commits = await task
    assert commits > views
    assert torn == [], f"readers saw torn commits: {torn[:3]}"


async def test_checkpoint_folds_journals_into_documents(tmp_path: Path) -> None:
    async with ToyStore(tmp_path) as store:
        await store.set_many({f"k{i}": i for i in range(20)})
        await store.add("k1")
        folder = tmp_path / "toy"
        assert list(folder.glob("journal-*.json"))
        await store.checkpoint()
        assert not list(folder.glob("journal-*.json"))
        assert list(folder.glob("doc-*.json"))
        assert await store.get("k1") == 2
    assert (await reopen_all(tmp_path))["k1"] == 2


def _backup_of(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


async def test_emptied_documents_are_removed_and_misses_cache_nothing(tmp_path: Path) -> None:
    async with ToyStore(tmp_path) as store:
        await store.add("a", 1)
        await store.checkpoint()
        path = _doc_path(tmp_path, "a")
        assert path.exists()
        await store.remove("a")
        await store.checkpoint()
        assert not path.exists()
        assert not _backup_of(path).exists()
        assert store.coll.doc_ids() == set()
        for i in range(100):
            assert await store.get(f"missing{i}") is None
        assert store.coll._docs == {}
    async with ToyStore(tmp_path) as store:
        assert await store.all() == {}
        assert await store.add("a", 5) == 5
    assert await reopen_all(tmp_path) == {"a": 5}


async def test_commits_during_a_large_checkpoint_survive_a_crash(tmp_path: Path) -> None:
    # The snapshot of 3,000 documents yields to the loop between documents, long
    # enough for the batch already in flight to commit in the middle of it.
    names = [f"k{i}" for i in range(4000)]
    # No idle checkpoint: the crash copy below must not race a background one.
    store = ToyStore(tmp_path, parts=2000, durable=False, idle_checkpoint=3600)
    await store.set_many(dict.fromkeys(names, 0))

    async def writer(w: int) -> None:
        for j in range(20):
            await store.add(names[(w * 997 + j * 13) % len(names)])

    for _ in range(3):
        writers = [asyncio.create_task(writer(w)) for w in range(20)]
        await asyncio.sleep(0)
        await store.coll.checkpoint()  # as the background trigger runs it: no drain first
        await asyncio.gather(*writers)
        await store.set_many({n: 1 for n in names[::7]})
    acknowledged = await store.all()
    crash = tmp_path.parent / "crash-mid"
    shutil.copytree(tmp_path, crash)
    await store.close()
    (crash / "toy" / ".lock").unlink()
    async with ToyStore(crash, parts=2000, read_only=True) as reopened:
        assert await reopened.all() == acknowledged


async def test_close_with_an_unrecoverable_document_keeps_journals_and_releases(
    tmp_path: Path,
) -> None:
    async with ToyStore(tmp_path) as store:
        await store.add("a", 1)
    store = ToyStore(tmp_path)
    await store.add("a", 1)  # a journal for a's document, as a crash would leave it
    crash = tmp_path.parent / "crash-close"
    shutil.copytree(tmp_path, crash)
    await store.close()
    (crash / "toy" / ".lock").unlink()
    _doc_path(crash, "a").write_bytes(b"rot")
    journals = sorted((crash / "toy").glob("journal-*.json"))
    assert journals
    damaged = ToyStore(crash)
    await damaged.initialize()
    await damaged.close()  # its checkpoint cannot read a's document: skipped, not fatal
    assert sorted((crash / "toy").glob("journal-*.json")) == journals
    async with ToyStore(crash) as again:  # the lock was released
        with pytest.raises(StoreCorruptedError):
            await again.get("a")


@pytest.mark.parametrize("kind", ["damaged", "newer"])
async def test_checkpoint_never_overwrites_a_bad_backup(tmp_path: Path, kind: str) -> None:
    async with ToyStore(tmp_path) as store:
        await store.add("a", 1)
    async with ToyStore(tmp_path) as store:
        await store.add("a", 1)  # now doc + .bak
    backup = _backup_of(_doc_path(tmp_path, "a"))
    good = backup.read_bytes()
    if kind == "damaged":
        bad = good.rstrip(b" ")[:-7]
    else:
        bad = good.replace(b'"version":1', b'"version":9', 1)
    backup.write_bytes(bad)
    async with ToyStore(tmp_path) as store:
        assert await store.add("a", 1) == 3  # the checkpoint at close rotates the backup
    kept = [q.read_bytes() for q in (tmp_path / "toy" / "quarantine").iterdir()]
    assert kept == [bad]
    assert backup.read_bytes() != bad
    async with ToyStore(tmp_path, read_only=True) as reader:
        assert await reader.get("a") == 3


class _TornOnceFS(FileSystem):
    """Reads one journal torn the first time, as a read beside an in-place rewrite is."""

    def __init__(self) -> None:
        super().__init__()
        self.torn: set[str] = set()

    def read(self, path: Path) -> bytes:
        data = super().read(path)
        if path.name.startswith("journal-") and path.name not in self.torn:
            self.torn.add(path.name)
            return data[: len(data.rstrip()) // 2]  # past the padding: a real tear
        return data


@pytest.mark.parametrize("durable", [True, False])
async def test_read_only_open_retries_a_torn_journal_instead_of_skipping_it(
    tmp_path: Path, durable: bool,
) -> None:
    """A reader never serves a state without a journal it happened to read torn."""
    writer = ToyStore(tmp_path, durable=durable, idle_checkpoint=3600)
    await writer.initialize()
    try:
        await writer.add("a", 1)
        await writer.add("b", 2)
        reader = ToyStore(tmp_path, read_only=True, fs=_TornOnceFS())
        async with reader:
            assert await reader.all() == {"a": 1, "b": 2}
    finally:
        await writer.close()
