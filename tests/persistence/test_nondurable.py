"""durable=False: commits sync nothing, checkpoints are the sync points, a torn tail is dropped.

What each mode promises is in the README ("What the stores guarantee"); the
power-loss sweep (``tests/reliability/test_powerloss.py``, workload
"nondurable") and the kill test check the promises across every store. These
tests pin the pieces: the journal names that say "unsynced", and what an open
does with a torn one.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from tests.persistence.toy import ToyStore
from tradestore.persistence import FileSystem


async def _unsynced_journals(tmp_path: Path, n: int) -> list[Path]:
    """A durable=False store with ``n`` commits left as journals (the process 'died')."""
    crash = tmp_path / "crash"
    async with ToyStore(tmp_path / "live", durable=False, idle_checkpoint=60) as store:
        for i in range(n):
            await store.add(f"k{i}")
        shutil.copytree(tmp_path / "live", crash)  # the folder as a kill would leave it
    return sorted((crash / "toy").glob("journal-*.json"))


async def test_unsynced_journals_say_so_in_their_name(tmp_path: Path) -> None:
    journals = await _unsynced_journals(tmp_path, 3)
    assert [p.name.endswith(".unsynced.json") for p in journals] == [True] * 3
    async with ToyStore(tmp_path / "crash", read_only=True) as reader:  # a kill loses nothing
        assert await reader.all() == {"k0": 1, "k1": 1, "k2": 1}


@pytest.mark.parametrize("damage", ["empty", "torn", "stale"])
async def test_a_torn_unsynced_journal_and_those_after_it_are_dropped_not_quarantined(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    journals = await _unsynced_journals(tmp_path, 5)
    second = journals[1]
    if damage == "empty":
        second.write_bytes(b"")
    elif damage == "torn":
        second.write_bytes(second.read_bytes()[:40])
    else:  # a spare's old bytes under the new name: whole, but another journal
        second.write_bytes(journals[0].read_bytes())
    folder = tmp_path / "crash" / "toy"
    problems = await ToyStore(tmp_path / "crash", read_only=True).verify()
    assert [(p.kind, p.recoverable) for p in problems] == [("unsynced_tail", True)]
    with caplog.at_level(logging.WARNING, logger="tradestore.persistence._recovery"):
        async with ToyStore(tmp_path / "crash") as store:
            assert await store.all() == {"k0": 1}  # a prefix: nothing after the torn one
            await store.add("k9")
    assert sum("dropping unsynced journal" in r.getMessage() for r in caplog.records) == 4
    assert not (folder / "quarantine").exists()
    async with ToyStore(tmp_path / "crash", read_only=True) as reader:
        assert await reader.all() == {"k0": 1, "k9": 1}


async def test_a_damaged_synced_journal_is_still_damage(tmp_path: Path) -> None:
    async with ToyStore(tmp_path / "live", idle_checkpoint=60) as store:
        await store.add("a")
        shutil.copytree(tmp_path / "live", tmp_path / "crash")
    (journal,) = (tmp_path / "crash" / "toy").glob("journal-*.json")
    assert not journal.name.endswith(".unsynced.json")
    journal.write_bytes(b"")
    async with ToyStore(tmp_path / "crash") as store:
        assert await store.all() == {}
    assert list((tmp_path / "crash" / "toy" / "quarantine").iterdir())


async def test_spares_wait_for_a_sync_before_a_nondurable_commit_rewrites_them(
    tmp_path: Path,
) -> None:
    calls: list[str] = []

    class Recording(FileSystem):
        def open_spare(self, path: Path, size: int) -> tuple[int, int]:
            calls.append("open_spare")
            return super().open_spare(path, size)

        def fsync_dir(self, folder: Path) -> None:
            calls.append("fsync_dir")
            super().fsync_dir(folder)

    async with ToyStore(tmp_path, idle_checkpoint=60) as store:  # leaves spares behind
        for i in range(3):
            await store.add(f"k{i}")
    async with ToyStore(tmp_path, fs=Recording(), durable=False, idle_checkpoint=60) as store:
        await store.add("a")  # the spares' names are not known durable yet: a new file
        assert "open_spare" not in calls
        await store.checkpoint()  # the sync point
        await store.add("b")
        assert calls[-1] == "open_spare"
        assert calls.index("open_spare") > calls.index("fsync_dir")
