"""verify() names every damaged file without changing anything; repair() recovers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.persistence.test_collection import files
from tests.persistence.toy import ToyStore
from tradestore.errors import StoreCorruptedError


async def _two_generations(data: Path) -> None:
    async with ToyStore(data) as store:
        await store.set_many({f"k{i}": 1 for i in range(40)})
    async with ToyStore(data) as store:
        await store.set_many({f"k{i}": 2 for i in range(40)})


async def test_clean_store_has_no_problems(tmp_path: Path) -> None:
    await _two_generations(tmp_path)
    assert await ToyStore(tmp_path, read_only=True).verify() == []


async def test_verify_names_damage_and_changes_nothing(tmp_path: Path) -> None:
    await _two_generations(tmp_path)
    folder = tmp_path / "toy"
    docs = sorted(folder.glob("doc-*.json"))
    docs[0].write_bytes(docs[0].read_bytes().rstrip(b" ")[:-10])  # has a good .bak
    docs[1].write_bytes(b"")
    (folder / (docs[1].name + ".bak")).write_bytes(b"junk")  # no good version left
    (folder / ".doc-p1.json.x.tmp").write_bytes(b"partial")
    before = files(tmp_path)
    problems = await ToyStore(tmp_path, read_only=True).verify()
    assert files(tmp_path) == before
    by_path = {Path(p.path).name: p for p in problems}
    assert by_path[docs[0].name].kind == "damaged"
    assert by_path[docs[0].name].recoverable
    assert not by_path[docs[1].name].recoverable
    assert by_path[docs[1].name + ".bak"].kind == "damaged"
    assert by_path[".doc-p1.json.x.tmp"].kind == "leftover_temp"
    assert len(problems) == 4


async def test_repair_recovers_quarantines_and_reports_losses(tmp_path: Path) -> None:
    await _two_generations(tmp_path)
    folder = tmp_path / "toy"
    docs = sorted(folder.glob("doc-*.json"))
    docs[0].write_bytes(b"\0" * 100)
    docs[1].write_bytes(b"")
    (folder / (docs[1].name + ".bak")).write_bytes(b"junk")
    lost_key = next(f"k{i}" for i in range(40) if ToyStore.doc_of(f"k{i}") == docs[1].name[4:-5])
    async with ToyStore(tmp_path) as before_repair:
        with pytest.raises(StoreCorruptedError):
            await before_repair.get(lost_key)
    seen: list[str] = []
    store = ToyStore(tmp_path)
    report = await store.repair(progress=seen.append)
    await store.close()
    assert seen == [str(folder)]
    assert str(docs[1]) in report.lost
    assert report.recovered == [str(docs[0])]
    assert await ToyStore(tmp_path, read_only=True).verify() == []
    async with ToyStore(tmp_path, read_only=True) as reader:
        values = await reader.all()
    lost_doc = docs[1].name[4:-5]
    recovered_doc = docs[0].name[4:-5]
    assert all(v == 2 for k, v in values.items() if ToyStore.doc_of(k) != recovered_doc)
    assert all(v == 1 for k, v in values.items() if ToyStore.doc_of(k) == recovered_doc)
    assert not any(ToyStore.doc_of(k) == lost_doc for k in values)
    quarantined = {q.read_bytes() for q in (folder / "quarantine").iterdir()}
    assert {b"\0" * 100, b"", b"junk"} <= quarantined


async def test_repair_salvages_an_eagerly_loaded_collection(tmp_path: Path) -> None:
    async with ToyStore(tmp_path, lazy=False) as store:
        await store.set_many({f"k{i}": 1 for i in range(40)})
    doc = sorted((tmp_path / "toy").glob("doc-*.json"))[0]
    doc.write_bytes(b"rot")  # no .bak yet: nothing good is left for this document
    with pytest.raises(StoreCorruptedError):
        await ToyStore(tmp_path, lazy=False).initialize()
    store = ToyStore(tmp_path, lazy=False)
    report = await store.repair()
    await store.close()
    assert report.lost == [str(doc)]
    async with ToyStore(tmp_path, lazy=False) as reopened:
        values = await reopened.all()
    lost = doc.name[4:-5]
    assert values == {f"k{i}": 1 for i in range(40) if ToyStore.doc_of(f"k{i}") != lost}
    assert b"rot" in [q.read_bytes() for q in (tmp_path / "toy" / "quarantine").iterdir()]
