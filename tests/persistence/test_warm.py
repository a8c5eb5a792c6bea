"""Loading ahead of use: a lazy collection with ``warm`` reads its documents after open.

The first touch of a document a lazy open has not read costs a thread hop and a
read; the warm-up does those reads in the background, many to a job, and must
never put a stale or damaged document in the cache, nor hold up a caller or a
close.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from pathlib import Path

from tests.persistence.toy import ToyStore
from tradestore import StockStateStore
from tradestore.errors import StoreCorruptedError
from tradestore.persistence._cache import WARM_BATCH
from tradestore.persistence._fs import FileSystem
from tradestore.persistence._naming import doc_file_name
from tradestore.stores.stock_state_store import FileStockStateStore

PARTS = 40  # more documents than one warm-up job reads
VALUES = {f"k{i}": i for i in range(200)}


class ReadLog(FileSystem):
    """Records the name of each document file read; can hold the first read of one file."""

    def __init__(self, hold: str | None = None) -> None:
        self.reads: list[str] = []
        self.hold = hold
        self.held = threading.Event()
        self.release = threading.Event()

    def read(self, path: Path) -> bytes:
        if path.name.startswith("doc-"):
            self.reads.append(path.name)
        if path.name == self.hold:
            self.hold = None  # only the first read waits
            self.held.set()
            self.release.wait(30)
        return super().read(path)


async def _fill(data: Path, values: dict[str, int] = VALUES) -> None:
    async with ToyStore(data, parts=PARTS) as store:
        await store.set_many(values)


async def _warmed(store: ToyStore) -> None:
    warmer = store.coll._warmer
    assert warmer is not None, "a warm lazy open starts loading ahead of use"
    await warmer


def _doc_files(data: Path) -> set[str]:
    return {p.name for p in (data / "toy").glob("doc-*.json")}


async def test_a_warm_open_reads_every_document_once_and_first_touches_read_nothing(
    tmp_path: Path,
) -> None:
    await _fill(tmp_path)
    fs = ReadLog()
    async with ToyStore(tmp_path, parts=PARTS, fs=fs, warm=True) as store:
        assert len(_doc_files(tmp_path)) > WARM_BATCH
        await _warmed(store)
        assert sorted(fs.reads) == sorted(_doc_files(tmp_path))
        reads = len(fs.reads)
        assert {k: await store.get(k) for k in VALUES} == VALUES
        assert await store.add("k7") == 8
        assert len(fs.reads) == reads, "a warmed document is read again on first touch"


async def test_without_warm_a_lazy_open_reads_a_document_on_first_touch_only(
    tmp_path: Path,
) -> None:
    await _fill(tmp_path)
    fs = ReadLog()
    async with ToyStore(tmp_path, parts=PARTS, fs=fs) as store:
        await asyncio.sleep(0.05)
        assert fs.reads == []
        assert store.coll._warmer is None
        assert await store.get("k1") == 1
        assert fs.reads == [doc_file_name(ToyStore.doc_of("k1", PARTS))]


async def test_a_read_only_open_does_not_warm(tmp_path: Path) -> None:
    await _fill(tmp_path)
    async with ToyStore(tmp_path, parts=PARTS, warm=True, read_only=True) as store:
        assert store.coll._warmer is None
        assert await store.get("k5") == 5


async def test_the_warm_up_replays_the_journals_newer_than_each_document(
    tmp_path: Path,
) -> None:
    await _fill(tmp_path / "a")
    async with ToyStore(tmp_path / "a", parts=PARTS, idle_checkpoint=3600) as store:
        for key in ("k1", "k2", "k150"):
            await store.add(key, 1000)
        await store.remove("k3")
        # A copy of the folder now: documents as of the last close, and journals.
        shutil.copytree(tmp_path / "a", tmp_path / "b")
    expected = {**VALUES, "k1": 1001, "k2": 1002, "k150": 1150}
    del expected["k3"]
    fs = ReadLog()
    async with ToyStore(tmp_path / "b", parts=PARTS, fs=fs, warm=True) as store:
        await _warmed(store)
        reads = len(fs.reads)
        assert await store.all() == expected
        assert len(fs.reads) == reads


async def test_a_change_made_while_the_warm_up_reads_its_document_is_kept(
    tmp_path: Path,
) -> None:
    await _fill(tmp_path)
    doc = ToyStore.doc_of("k9", PARTS)
    fs = ReadLog(hold=doc_file_name(doc))
    async with ToyStore(tmp_path, parts=PARTS, fs=fs, warm=True) as store:
        # Hold the warm-up's read of k9's document, change k9 meanwhile, then let it go.
        assert await asyncio.to_thread(fs.held.wait, 10)
        assert await store.add("k9", 100) == 109
        fs.release.set()
        await _warmed(store)
        assert await store.get("k9") == 109, "the warm-up put back what it had read before"
    async with ToyStore(tmp_path, parts=PARTS) as reopened:
        assert await reopened.get("k9") == 109


async def test_close_does_not_wait_for_a_warm_up_read(tmp_path: Path) -> None:
    await _fill(tmp_path)
    first = sorted(_doc_files(tmp_path))[0]
    fs = ReadLog(hold=first)
    store = ToyStore(tmp_path, parts=PARTS, fs=fs, warm=True)
    await store.initialize()
    try:
        assert await asyncio.to_thread(fs.held.wait, 10)
        await asyncio.wait_for(store.close(), 5)
        assert store.coll._warmer is None
    finally:
        fs.release.set()
    async with ToyStore(tmp_path, parts=PARTS) as reopened:
        assert await reopened.all() == VALUES


async def _damaged_copy(data: Path, into: Path, *, keep_backup: bool) -> str:
    shutil.copytree(data, into)
    doc = ToyStore.doc_of("k11", PARTS)
    live = into / "toy" / doc_file_name(doc)
    live.write_bytes(b"{garbage" + live.read_bytes()[8:])
    if not keep_backup:
        for backup in (into / "toy").glob(doc_file_name(doc) + ".*"):
            backup.unlink()
    return doc


async def _outcome(data: Path, *, warm: bool) -> tuple[dict[str, object], list[str]]:
    """Every key's value (or the error's type), and the quarantined files."""
    got: dict[str, object] = {}
    async with ToyStore(data, parts=PARTS, warm=warm) as store:
        if warm:
            await _warmed(store)
        for key in VALUES:
            try:
                got[key] = await store.get(key)
            except StoreCorruptedError as exc:
                got[key] = type(exc).__name__
    return got, _quarantined(data)


def _quarantined(data: Path) -> list[str]:
    """The files moved to quarantine, by the name each had (less its time stamp)."""
    return sorted(p.name.rsplit(".", 2)[0] for p in data.rglob("*")
                  if p.is_file() and "quarantine" in p.parts)


async def test_a_damaged_document_is_left_to_its_first_use_as_without_a_warm_up(
    tmp_path: Path,
) -> None:
    await _fill(tmp_path / "src")
    await _fill(tmp_path / "src", {k: v + 1 for k, v in VALUES.items()})  # backups exist
    for keep_backup in (True, False):
        runs = {}
        for warm in (False, True):
            copy = tmp_path / f"{keep_backup}-{warm}"
            await _damaged_copy(tmp_path / "src", copy, keep_backup=keep_backup)
            runs[warm] = await _outcome(copy, warm=warm)
        assert runs[True] == runs[False]
        values, _ = runs[True]
        if not keep_backup:
            assert values["k11"] == "StoreCorruptedError"
        assert values["k12"] == 13


async def test_a_reopened_stock_state_store_loads_its_partitions_ahead_of_use(
    tmp_path: Path,
) -> None:
    symbols = [f"S{i:03d}" for i in range(300)]
    async with StockStateStore(tmp_path) as store:
        for symbol in symbols:
            await store.record_fetch(symbol, ok=True)
    fs = ReadLog()
    async with StockStateStore(tmp_path, fs=fs) as store:
        assert isinstance(store, FileStockStateStore)
        await store.get_state(symbols[0])
        warmer = store._states._warmer
        assert warmer is not None
        await warmer
        reads = len(fs.reads)
        assert reads >= len(symbols) // 2  # about one partition a symbol at this size
        for symbol in symbols:
            assert (await store.get_state(symbol)).fetch_count == 1
        assert len(fs.reads) == reads
