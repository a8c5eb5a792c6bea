"""journal="append": framed records in a preallocated log, torn tails, reopen, mixed folders.

The power-loss, I/O-fault and kill suites (``tests/reliability``) run every
store in this mode too; these tests pin the pieces: the record framing, what
an open does with a torn tail, the one data flush per commit, group commit,
rollback, and a folder switching between the two modes. The last two tests
pin the sync steps of the mode that a power cut alone cannot show (a killed
writer's unflushed record; the log order with ``durable=False``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.persistence.toy import ToyStore, recording
from tests.reliability.harness import abandon
from tests.reliability.probe import ProbeStore
from tests.reliability.simfs import FaultyFileSystem, SimulatedFileSystem, SkipOneSyncFileSystem
from tradestore import StockStateStore, TaskStore
from tradestore.errors import StoreIOError, ValidationError
from tradestore.persistence._applog import PREALLOC, frame, read_log
from tradestore.persistence._checkpoint import APPEND_CHECKPOINT_EVERY, CHECKPOINT_EVERY
from tradestore.persistence._format import Decoded
from tradestore.persistence._fs import FileSystem
from tradestore.scheduler import open_stores

_DECODER: msgspec.json.Decoder[Decoded[dict[str, Any]]] = msgspec.json.Decoder(
    Decoded[dict[str, Any]]
)


def _log(records: list[tuple[int, dict[str, dict[str, Any]]]], collection: str = "c") -> bytes:
    return b"".join(frame(collection, seq, changes) for seq, changes in records)


RECORDS: list[tuple[int, dict[str, dict[str, Any]]]] = [
    (1, {"d": {"a": 1}}), (2, {"d": {"b": 2}, "e": {"c": None}}), (3, {"d": {"a": 3}}),
]


def test_records_read_back_in_order_and_zeros_end_the_log() -> None:
    data = _log(RECORDS) + bytes(4096)
    records, end = read_log(data, "log", "c", _DECODER)
    assert records == RECORDS
    assert end == len(_log(RECORDS))


def test_a_record_cut_anywhere_is_ignored_with_everything_after_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    whole = _log(RECORDS[:2])
    last = frame("c", 3, RECORDS[2][1])
    # Every record fills whole 4 KiB blocks, so that the next one never shares a block
    # with it (a torn write cannot reach an acknowledged record).
    assert len(whole) % 4096 == 0
    assert len(last) % 4096 == 0
    for cut in range(len(last.rstrip(b"\0"))):
        with caplog.at_level(logging.WARNING):
            records, end = read_log(whole + last[:cut] + bytes(64), "log", "c", _DECODER)
        assert records == RECORDS[:2], cut
        assert end == len(whole)


@pytest.mark.parametrize("damage", ["flip", "other-collection", "seq-not-above", "garbage"])
def test_a_damaged_record_ends_the_log(damage: str) -> None:
    head = _log(RECORDS[:1])
    if damage == "flip":
        bad = bytearray(frame("c", 2, RECORDS[1][1]))
        bad[len(bad.rstrip(b"\0")) - 5] ^= 1  # in the payload, not its padding
        tail = bytes(bad)
    elif damage == "other-collection":
        tail = frame("other", 2, RECORDS[1][1])
    elif damage == "seq-not-above":
        tail = frame("c", 1, RECORDS[1][1])
    else:
        tail = os.urandom(200)
    records, _ = read_log(head + tail + _log(RECORDS[2:]), "log", "c", _DECODER)
    assert records == RECORDS[:1]


def _logs(folder: Path) -> list[Path]:
    return sorted(folder.glob("journal-*.log"))


async def test_append_mode_commits_into_one_preallocated_log_and_close_retires_it(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "probe"
    async with ProbeStore(tmp_path, journal="append", checkpoint_every=1000) as store:
        assert store.journal == "append"
        await store.put("a", 1)
        (log,) = _logs(folder)
        size = log.stat().st_size
        assert size == PREALLOC
        last = PREALLOC // 4096 - 1  # one block a record: these fill the zeros exactly
        for i in range(last):
            await store.put("a", i)
        assert _logs(folder) == [log]
        assert log.stat().st_size == size  # appends change no size: one data flush each
        assert not list(folder.glob("journal-*.json"))
    assert not _logs(folder)
    async with ProbeStore(tmp_path, journal="append") as store:
        assert await store.items() == {"a": (last - 1, "")}


class _Counting(FileSystem):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def pwrite(self, fd: int, data: bytes, offset: int) -> None:
        self.calls.append("pwrite")
        super().pwrite(fd, data, offset)

    def fdatasync(self, fd: int) -> None:
        self.calls.append("fdatasync")
        super().fdatasync(fd)

    def fsync_dir(self, folder: Path) -> None:
        self.calls.append("fsync_dir")
        super().fsync_dir(folder)


async def test_a_durable_commit_is_one_write_and_one_data_flush(tmp_path: Path) -> None:
    fs = _Counting()
    async with ProbeStore(tmp_path, journal="append", fs=fs, checkpoint_every=1000) as store:
        await store.put("a", 0)  # the first commit creates the log
        fs.calls.clear()
        await store.put("a", 1)
        assert fs.calls == ["pwrite", "fdatasync"]
        fs.calls.clear()
        # Group commit: concurrent callers share appends (far fewer than 50).
        await asyncio.gather(*(store.put("a", i) for i in range(50)))
        assert 1 <= fs.calls.count("fdatasync") <= 5
        assert fs.calls.count("fsync_dir") == 0


async def test_a_failed_append_rolls_the_cache_back_and_is_never_read_back(
    tmp_path: Path,
) -> None:
    fs = FaultyFileSystem(only=lambda step: step == "fdatasync")
    async with ProbeStore(tmp_path, journal="append", fs=fs, checkpoint_every=1000) as store:
        await store.put("a", 1)
        fs.fail_at, fs.count = 1, 0  # the next record's flush fails; erasing it works
        with pytest.raises(StoreIOError):
            await store.put("a", 2)
        assert await store.items() == {"a": (1, "")}  # rolled back
        await store.put("b", 3)  # the store works on, in a new log
        shutil.copytree(tmp_path, tmp_path.parent / "killed")  # as a kill leaves the folder
    async with ProbeStore(tmp_path.parent / "killed", journal="append") as again:
        assert await again.items() == {"a": (1, ""), "b": (3, "")}


async def test_a_torn_tail_is_ignored_at_open_logged_and_not_quarantined(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    live, killed = tmp_path / "live", tmp_path / "killed"
    async with ProbeStore(live, journal="append", checkpoint_every=1000) as store:
        for i in range(4):
            await store.put("a", i)
        shutil.copytree(live, killed)
    (log,) = _logs(killed / "probe")
    data = bytearray(log.read_bytes())
    records, end = read_log(bytes(data), "log", "items", _DECODER)
    last = len(frame("items", records[-1][0], records[-1][1]))
    data[end - last + 10:end] = os.urandom(last - 10)  # the last record torn
    log.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="tradestore.persistence._applog"):
        async with ProbeStore(killed, journal="append") as store:
            assert await store.items() == {"a": (2, "")}
            await store.put("b", 1)
    assert any("ignoring its tail" in r.getMessage() for r in caplog.records)
    assert not (killed / "probe" / "quarantine").exists()
    async with ProbeStore(killed, read_only=True) as reader:
        assert await reader.items() == {"a": (2, ""), "b": (1, "")}


@pytest.mark.parametrize("order", [("files", "append", "files"), ("append", "files", "append")])
async def test_a_folder_opens_in_either_mode_whatever_wrote_it(
    tmp_path: Path, order: tuple[str, str, str]
) -> None:
    """Decision: both modes read both kinds of journal, so a folder may switch modes."""
    killed = tmp_path / "killed"
    expected: dict[str, tuple[int, str]] = {}
    src = tmp_path / "live"
    for n, journal in enumerate(order):
        async with ProbeStore(src, journal=journal, checkpoint_every=1000) as store:
            assert await store.items() == expected
            for i in range(3):
                await store.put(f"k{n}{i}", i)
                expected[f"k{n}{i}"] = (i, "")
            # As a kill leaves it: the journals of this mode not yet folded.
            shutil.rmtree(killed, ignore_errors=True)
            shutil.copytree(src, killed)
        nxt = order[(n + 1) % len(order)]
        async with ProbeStore(killed, journal=nxt) as other:
            assert await other.items() == expected
        # The other mode's first checkpoint folded them all: no journal of either kind.
        assert not [p for p in killed.rglob("journal-*") if "quarantine" not in p.parts]


async def test_bad_journal_modes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        TaskStore(tmp_path, journal="wal")
    with pytest.raises(ValidationError):
        async with open_stores(tmp_path, journal="nope"):
            pass
    assert not os.listdir(tmp_path)  # nothing was opened


async def test_open_stores_opens_every_store_in_append_mode(tmp_path: Path) -> None:
    async with open_stores(tmp_path, journal="append") as stores:
        assert {s.journal for s in (stores.tasks, stores.stocks, stores.strategy_logs,
                                    stores.fundamentals)} == {"append"}
        await stores.stocks.update_news_check("AAPL")
        expected = await stores.stocks.get_state("AAPL")
    async with StockStateStore(tmp_path, journal="append") as again:
        assert await again.get_state("AAPL") == expected


def _sound_and_broken(
    tmp_path: Path, function: str,
) -> Iterator[tuple[str, SimulatedFileSystem, Path]]:
    """A sound simulated disk, then one whose ``fdatasync`` in ``function`` is left out."""
    for fs_kind in ("sound", "broken"):
        root = tmp_path / fs_kind
        root.mkdir()
        yield fs_kind, (SimulatedFileSystem(root) if fs_kind == "sound"
                        else SkipOneSyncFileSystem(root, "fdatasync", function)), root


async def test_a_writer_flushes_the_records_a_killed_writer_left_before_building_on_them(
    tmp_path: Path,
) -> None:
    """Sync step ``fdatasync`` in ``read_logs``: kill mid-flush, reopen, commit, power cut."""
    for fs_kind, fs, root in _sound_and_broken(tmp_path, "read_logs"):
        store = ProbeStore(root / "data", fs=fs, journal="append", checkpoint_every=1000)
        await store.initialize()
        await store.put("a", 1)
        fs.crash_after = len(fs.calls) + 1  # the next record is written, its flush never runs
        with pytest.raises(StoreIOError):
            await store.put("a", 2)
        await abandon(store)  # the process is killed: its written pages stay in the cache
        fs.crash_after = None
        fs.calls.clear()
        store = ProbeStore(root / "data", fs=fs, journal="append", checkpoint_every=1000)
        await store.initialize()
        got = await store.get("a")
        assert got is not None
        assert got.value == 2
        await store.put("b", 3)  # acknowledged: builds on a == 2
        fs.crash_after = len(fs.calls)  # power cut: nothing more reaches the disk
        await abandon(store)
        fs.crash()
        async with ProbeStore(root / "data", read_only=True) as reader:
            items = await reader.items()
        if fs_kind == "sound":
            assert items == {"a": (2, ""), "b": (3, "")}
        else:
            assert isinstance(fs, SkipOneSyncFileSystem)
            assert fs.skipped
            assert items == {"a": (1, ""), "b": (3, "")}  # b survived, a == 2 it saw did not


async def test_nondurable_flushes_the_previous_log_before_a_new_one_holds_records(
    tmp_path: Path,
) -> None:
    """Sync step ``fdatasync`` in ``append_record`` with durable=False: a prefix per cut."""
    for fs_kind, fs, root in _sound_and_broken(tmp_path, "append_record"):
        store = ProbeStore(root / "data", fs=fs, journal="append", durable=False,
                           checkpoint_every=1000)
        await store.initialize()
        await store.put("a", 1)
        coll = store._where("a")[0]
        assert coll._log.applog is not None
        coll._log.applog.rotate()
        (first,) = sorted(coll.folder.glob("journal-*.log"))
        await store.put("a", 2)
        assert len(sorted(coll.folder.glob("journal-*.log"))) == 2
        # What a power cut leaves in the first log's file (durable=False syncs no
        # log's name: a later checkpoint's folder sync may make both names durable).
        synced = fs._nodes[fs._node_of(first)].data
        records, _ = read_log(synced, first.name, coll.name, _DECODER)
        if fs_kind == "sound":
            assert [seq for seq, _ in records] == [1]  # flushed before the new log
        else:
            assert records == []
        fs.crash_after = len(fs.calls)
        await abandon(store)
        fs.crash()


@pytest.mark.parametrize(("journal", "durable", "limit"), [
    ("files", True, CHECKPOINT_EVERY),
    ("append", False, CHECKPOINT_EVERY),  # its checkpoints are its sync points
    pytest.param("append", True, APPEND_CHECKPOINT_EVERY, marks=pytest.mark.slow),
])
async def test_a_store_checkpoints_when_its_modes_commit_limit_is_reached(
    tmp_path: Path, journal: str, durable: bool, limit: int,
) -> None:
    # A durable append log checkpoints after 8x more commits than a folder of
    # journal files: its records are one file, and each checkpoint rewrites (and
    # syncs) every partition changed since the last one.
    with recording() as seen:
        async with ToyStore(tmp_path, journal=journal, durable=durable,
                            idle_checkpoint=3600) as store:
            for i in range(limit - 1):
                await store.add(f"c{i % 64}")
            await store.coll.drain()
            assert seen.checkpointed == []
            await store.add("last")
            await store.coll.drain()
            assert seen.checkpointed == [8]  # every partition was changed
        assert await _counted(tmp_path, journal) == limit


async def _counted(root: Path, journal: str) -> int:
    async with ToyStore(root, journal=journal, read_only=True) as store:
        return sum((await store.all()).values())


def _no_cow(path: Path) -> bool:
    """Whether ``lsattr`` shows the file's no-copy-on-write attribute ("C")."""
    done = subprocess.run(["lsattr", str(path)], capture_output=True, text=True, check=True)
    return "C" in done.stdout.split()[0]


async def test_on_btrfs_the_log_is_made_no_copy_on_write_and_reads_back(
    loop_mount: Callable[[str, list[str]], Path],
) -> None:
    point = loop_mount("btrfs", ["mkfs.btrfs", "-q", "-f"])
    async with ToyStore(point, journal="append", idle_checkpoint=3600) as store:
        for i in range(20):
            await store.add(f"k{i}", i + 1)
            if i == 9:
                await store.checkpoint()  # documents, then a new log for the next commits
        logs = list((point / "toy").glob("journal-*.log"))
        assert logs, "append mode keeps its commits in a log"
        assert all(_no_cow(log) for log in logs)
        docs = list((point / "toy").glob("doc-*.json"))
        assert docs
        # Documents are replaced whole: they keep copy-on-write and btrfs's checksums.
        assert not any(_no_cow(doc) for doc in docs)
    async with ToyStore(point, read_only=True) as reader:
        assert await reader.all() == {f"k{i}": i + 1 for i in range(20)}


async def test_elsewhere_the_log_is_made_without_the_attribute(
    loop_mount: Callable[[str, list[str]], Path],
) -> None:
    point = loop_mount("ext4", ["mkfs.ext4", "-q", "-F", "-O", "has_journal"])
    async with ToyStore(point, journal="append", idle_checkpoint=3600) as store:
        await store.add("a", 3)
        (log,) = (point / "toy").glob("journal-*.log")
        assert not _no_cow(log)
    async with ToyStore(point, read_only=True) as reader:
        assert await reader.get("a") == 3
