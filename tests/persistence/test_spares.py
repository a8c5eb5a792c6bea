"""Spares: folded journals and old backups are rewritten in place, never created or freed.

Creating a file costs an inode allocation (slow on some file systems right after
many deletions) and syncing a new file costs a metadata commit; rewriting the
blocks of a file the store no longer needs costs one data flush. These tests pin
what that reuse must keep: the right bytes under the right name, padding that
reads back as nothing, and no damage hidden or invented.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from tests.persistence.toy import ToyStore, unfinished_writes
from tradestore.persistence._format import (
    DamagedFileError,
    Decoded,
    decode_file,
    encode_file,
    pad_blocks,
    pad_to,
)
from tradestore.persistence._fs import FileSystem, is_spare_name
from tradestore.persistence._replace import replace_keeping_backup
from tradestore.persistence._spares import IDLE_SPARES, file_system_of

_DECODER = msgspec.json.Decoder(Decoded[dict[str, int]])


def _spares(folder: Path) -> dict[str, int]:
    """Spare name -> inode number."""
    return {n: os.stat(folder / n).st_ino for n in os.listdir(folder) if is_spare_name(n)}


def _inode(path: Path) -> int:
    return os.stat(path).st_ino


def test_padding_reads_back_as_nothing_and_cuts_inside_the_records_are_caught() -> None:
    data = encode_file("doc", "c", "d", 3, {"a": 1, "b": 2}, lines=True)
    padded = pad_blocks(data)
    assert len(padded) == 4096
    assert padded.startswith(data)
    assert padded.endswith(b" ")
    assert decode_file(padded, _DECODER, kind="doc", collection="c").payload == {"a": 1, "b": 2}
    assert decode_file(padded[:-100], _DECODER, kind="doc", collection="c").seq == 3
    for damaged in (padded[: len(data) - 1], data[:-1], padded[: len(data) // 2],
                    data + b"x" + b" " * 10, data.replace(b'"a":1', b'"a":7')):
        with pytest.raises(DamagedFileError):
            decode_file(damaged, _DECODER, kind="doc", collection="c")
    assert pad_to(data, 10) == data  # never cut


async def test_folded_journals_become_spares_that_later_commits_rewrite(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    async with ToyStore(tmp_path, checkpoint_every=5) as store:
        for i in range(5):
            await store.add(f"k{i}")
        await store.flush()  # the fifth commit started a checkpoint: its journals are spares
        spares = _spares(folder)
        assert len(spares) == 5
        assert not list(folder.glob("journal-*.json"))
        await store.add("k0", 10)
        journal = next(folder.glob("journal-*.json"))
        assert _inode(journal) in spares.values()  # the same file, renamed: none created
        assert len(_spares(folder)) == 4
        assert journal.stat().st_size == 4096  # whole blocks, the records then spaces
    async with ToyStore(tmp_path, read_only=True) as reader:
        assert await reader.all() == {"k0": 11, "k1": 1, "k2": 1, "k3": 1, "k4": 1}


async def test_spares_outlive_close_are_adopted_by_the_next_writer_and_are_not_problems(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "toy"
    async with ToyStore(tmp_path) as store:
        await store.add("a")
        await store.add("b")
    kept = _spares(folder)
    assert len(kept) == 2  # the journals the closing checkpoint folded
    assert await ToyStore(tmp_path, read_only=True).verify() == []
    async with ToyStore(tmp_path) as store:
        assert _spares(folder) == kept  # adopted, not deleted
        await store.add("a")  # a new file: its folder sync makes the spares' names durable
        (first,) = folder.glob("journal-*.json")
        assert _inode(first) not in kept.values()
        await store.add("b")
        (second,) = set(folder.glob("journal-*.json")) - {first}
        assert _inode(second) in kept.values()
    assert not unfinished_writes(folder)
    async with ToyStore(tmp_path, read_only=True) as reader:
        assert await reader.all() == {"a": 2, "b": 2}


async def test_a_checkpoint_writes_a_document_into_its_oldest_backup(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    doc = folder / f"doc-{ToyStore.doc_of('a')}.json"
    for value in range(3):
        async with ToyStore(tmp_path) as store:
            await store.add("a")
        if value == 1:
            oldest = _inode(doc.with_name(doc.name + ".bak"))
            middle = _inode(doc)
    assert _inode(doc) == oldest  # the third version went into the first one's file
    assert _inode(doc.with_name(doc.name + ".bak")) == middle
    async with ToyStore(tmp_path, read_only=True) as reader:
        assert await reader.get("a") == 3


async def test_a_large_spare_is_cut_down_for_a_small_write(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    async with ToyStore(tmp_path) as store:
        await store.set_many({f"k{i}": i for i in range(2000)})  # one large journal
    (big,) = _spares(folder)
    assert (folder / big).stat().st_size > 40_000
    async with ToyStore(tmp_path) as store:
        await store.add("k1")
        journal = next(folder.glob("journal-*.json"))
        assert journal.stat().st_size == 4096  # not the spare's size: a small write stays small
    async with ToyStore(tmp_path, read_only=True) as reader:
        assert await reader.get("k1") == 2


def test_a_vanished_spare_fails_the_write_and_leaves_the_target_alone(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_bytes(b"old")
    with pytest.raises(Exception, match="writing") as info:
        replace_keeping_backup(FileSystem(), tmp_path, "t.json", b"new", durable=True,
                               backup="t.json.bak", spare=tmp_path / ".spare.gone.tmp")
    assert isinstance(info.value.__cause__, FileNotFoundError)
    assert (tmp_path / "t.json").read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["t.json"]


async def test_a_closed_or_idle_store_keeps_only_a_handful_of_spares(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    async with ToyStore(tmp_path, checkpoint_every=400, idle_checkpoint=0.2) as store:
        await asyncio.gather(*(store.add(f"k{i % 50}") for i in range(40)))
        for i in range(300):  # one journal each: the checkpoint folds 300
            await store.add(f"k{i % 50}")
        await store.checkpoint()
        assert 8 < len(_spares(folder)) <= 256  # busy: bounded, but kept for reuse
        await asyncio.sleep(0.5)  # quiet: the idle checkpoint trims the pool
        await store.flush()
        assert len(_spares(folder)) <= IDLE_SPARES
        for i in range(100):
            await store.add(f"k{i % 50}")
    assert len(_spares(folder)) <= IDLE_SPARES
    assert not unfinished_writes(folder)
    async with ToyStore(tmp_path, read_only=True) as reader:
        assert sum((await reader.all()).values()) == 440


async def test_a_burst_ending_on_a_size_checkpoint_is_trimmed_once_quiet(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "toy"
    async with ToyStore(tmp_path, checkpoint_every=100, idle_checkpoint=0.2) as store:
        for i in range(100):  # the last commit starts a checkpoint: 100 journals to spares
            await store.add(f"k{i % 50}")
        await store.coll.drain()
        assert len(_spares(folder)) > IDLE_SPARES
        await asyncio.sleep(0.6)  # quiet from the burst's last commit on
        assert len(_spares(folder)) <= IDLE_SPARES
        assert sum((await store.all()).values()) == 100


async def test_spares_left_by_many_writers_are_cut_down_at_open(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    async with ToyStore(tmp_path) as store:
        await store.add("a")
    (spare,) = _spares(folder)
    for i in range(40):  # what many killed writers could leave behind
        (folder / f".spare.{i:012x}.tmp").write_bytes((folder / spare).read_bytes())
    async with ToyStore(tmp_path) as store:
        assert len(_spares(folder)) <= IDLE_SPARES
        assert await store.get("a") == 1


async def test_reuse_off_keeps_no_spares_and_pads_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    fs = FileSystem()
    fs.reuse_files = False
    async with ToyStore(tmp_path, fs=fs, idle_checkpoint=60) as store:
        for i in range(5):
            await store.add("a", note=f"n{i}")
        journal = next(folder.glob("journal-*.json"))
        assert journal.stat().st_size < 4096
        assert not journal.read_bytes().endswith(b" ")
    assert _spares(folder) == {}
    assert all(not p.read_bytes().endswith(b" ") for p in folder.glob("doc-*"))
    async with ToyStore(tmp_path, read_only=True) as reader:
        assert await reader.get("a") == 5


@pytest.mark.parametrize(("fs", "mkfs", "kind", "spares"), [
    ("ext4", ["mkfs.ext4", "-q", "-F", "-O", "has_journal"], "ext4", True),
    ("ext4nj", ["mkfs.ext4", "-q", "-F", "-O", "^has_journal"], "ext4-nojournal", True),
    ("xfs", ["mkfs.xfs", "-q", "-f"], "xfs", False),
])
async def test_spares_are_on_by_default_only_where_they_measured_a_win(
    loop_mount: Callable[[str, list[str]], Path], fs: str, mkfs: list[str], kind: str,
    spares: bool,
) -> None:
    point = loop_mount(fs, mkfs)
    assert file_system_of(point) == kind
    async with ToyStore(point) as store:
        for i in range(3):
            await store.add(f"k{i}")
    assert bool(_spares(point / "toy")) == spares
    async with ToyStore(point, read_only=True) as reader:
        assert await reader.all() == {"k0": 1, "k1": 1, "k2": 1}
