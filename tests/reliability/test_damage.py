"""Damage matrix: every kind of file of every store, damaged every way, then reopened.

The folder is built with two checkpoints (so documents have a ``.bak``) and
journals after them. One file at a time is truncated, emptied, zero-filled,
bit-flipped, given a changed digit that keeps the JSON valid, replaced by
another store's file of the same kind, or by a file claiming a future format
version. Reopening must recover the last good version or raise
StoreCorruptedError; it must never serve a value the store never held, and the
damaged bytes must still be on disk (in ``quarantine/``, or untouched).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tradestore.errors import StoreCorruptedError

from .adapters import Adapter, Snapshot, adapter_names, get_adapter
from .figures import count
from .harness import files_under

CP1, CP2, LAST = 4, 9, 13  # mutations before checkpoint 1, checkpoint 2, and in journals


def _kind(path: Path) -> str | None:
    name = path.name
    if name.startswith("doc-"):
        return "doc.bak" if name.endswith(".bak") else "doc"
    if name.startswith("journal-"):
        return "journal"
    if name.startswith("checkpoint.json"):
        return "checkpoint.bak" if name.endswith(".bak") else "checkpoint"
    return None


async def _build(adapter: Adapter, data_dir: Path) -> None:
    i = 0
    for stop in (CP1, CP2):
        store = adapter.open(data_dir)
        while i < stop:
            await adapter.apply(store, i)
            i += 1
        await store.close()
    store = adapter.open(data_dir)
    while i < LAST:
        await adapter.apply(store, i)
        i += 1
    shutil.copytree(data_dir, data_dir.parent / "image")  # a crash image: journals in place
    await store.close()


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Per store: a data folder with two checkpoints behind it and journals after them."""
    out = {}
    for name in adapter_names():
        root = tmp_path_factory.mktemp(f"image-{name}")
        asyncio.run(_build(get_adapter(name), root / "data"))
        out[name] = root / "image"
    return out


def _digit(data: bytes, rng: random.Random) -> bytes:
    start = data.find(b'"payload":')
    spots = [m.start() for m in re.finditer(rb"\d", data[start:])]
    if not spots:
        return data[:-2] + b"0" + data[-2:]
    pos = start + rng.choice(spots)
    new = bytearray(data)
    new[pos] = ord("0") + (data[pos] - ord("0") + 1 + rng.randrange(9)) % 10
    json.loads(bytes(new))  # still valid JSON
    return bytes(new)


def _flip(data: bytes, rng: random.Random) -> bytes:
    new = bytearray(data or b"\0")
    pos = rng.randrange(len(new))
    new[pos] ^= 1 << rng.randrange(8)
    return bytes(new)


Damage = Callable[[bytes, random.Random, bytes], bytes]
DAMAGES: dict[str, Damage] = {
    # Cut inside the records: a cut in the trailing padding only loses spaces.
    "truncated": lambda d, r, f: d[: r.randrange(1, max(len(d.rstrip(b" ")) - 1, 2))],
    "emptied": lambda d, r, f: b"",
    "zero-filled": lambda d, r, f: b"\0" * len(d),
    "bit-flipped": lambda d, r, f: _flip(d, r),
    "digit-changed": lambda d, r, f: _digit(d, r),
    "foreign": lambda d, r, f: f,
    "future-version": lambda d, r, f: d.replace(b'"version":1,', b'"version":2,', 1),
}


def _targets(image: Path) -> list[Path]:
    """One file of each kind in each collection folder."""
    seen: dict[tuple[Path, str], int] = {}
    out = []
    for path in files_under(image):
        kind = _kind(path)
        if kind is None or "quarantine" in path.parts:
            continue
        key = (path.parent, kind)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 1:
            out.append(path)
    return out


def _foreign(images: dict[str, Path], name: str, kind: str) -> bytes:
    others = [n for n in adapter_names() if n != name]
    for other in others:
        for path in files_under(images[other]):
            if _kind(path) == kind:
                return path.read_bytes()
    raise AssertionError(f"no {kind} file in another store")


def _history(adapter: Adapter) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for n in range(LAST + 1):
        for key, value in adapter.expected(n).items():
            out.setdefault(key, set()).add(json.dumps(value, sort_keys=True))
    return out


async def _open(adapter: Adapter, data_dir: Path) -> Snapshot | StoreCorruptedError:
    store = adapter.open(data_dir)
    try:
        result: Snapshot | StoreCorruptedError = await adapter.snapshot(store)
    except StoreCorruptedError as exc:
        result = exc
    try:
        await store.close()  # its checkpoint may meet the same damaged document
    except StoreCorruptedError as exc:
        if not isinstance(result, StoreCorruptedError):
            result = exc
    return result


@pytest.mark.parametrize("name", adapter_names())
async def test_damaged_files_are_recovered_or_refused_never_served(
    name: str, images: dict[str, Path], tmp_path: Path
) -> None:
    adapter = get_adapter(name)
    image = images[name]
    history = _history(adapter)
    targets = _targets(image)
    kinds = {_kind(p) for p in targets}
    assert kinds == {"doc", "doc.bak", "journal", "checkpoint", "checkpoint.bak"}, kinds
    rng = random.Random(f"damage-{name}")
    problems: list[str] = []
    cases = 0
    for target in targets:
        kind = _kind(target)
        assert kind is not None
        rel = target.relative_to(image)
        for damage_name, damage in DAMAGES.items():
            cases += 1
            case = f"{rel} {damage_name}"
            data_dir = tmp_path / f"case{cases}"
            shutil.copytree(image, data_dir)
            bad = damage(target.read_bytes(), rng, _foreign(images, name, kind.split(".")[0]))
            (data_dir / rel).write_bytes(bad)
            result = await _open(adapter, data_dir)
            problems.extend(f"{case}: {p}" for p in _judge(
                adapter, kind, damage_name, result, history))
            # The damaged bytes are still there: where they were, or in quarantine/.
            # A backup about to be rotated is checked first and moved aside whole.
            moved_ok = kind.endswith(".bak")
            contents = {p.read_bytes() for p in files_under(data_dir)}
            if bad not in contents:
                problems.append(f"{case}: the damaged bytes were deleted")
            if damage_name == "future-version" and not moved_ok and (
                data_dir / rel
            ).read_bytes() != bad:
                problems.append(f"{case}: a future-version file was touched")
            again = await _open(adapter, data_dir)  # recovery is stable
            if isinstance(result, StoreCorruptedError) != isinstance(again, StoreCorruptedError):
                problems.append(f"{case}: a second open disagrees: {result!r} then {again!r}")
            elif not isinstance(result, StoreCorruptedError) and again != result:
                problems.append(f"{case}: a second open reads differently")
    count("damage.cases", cases, store=name)
    count("damage.lost_or_wrong", len(problems), store=name)
    assert not problems, "\n".join(problems)


def _judge(adapter: Adapter, kind: str, damage: str, result: Snapshot | StoreCorruptedError,
           history: dict[str, set[str]]) -> list[str]:
    full = adapter.expected(LAST)
    if damage == "future-version" and kind in ("doc", "journal", "checkpoint"):
        if not isinstance(result, StoreCorruptedError):
            return ["a file of a future format version was not refused"]
        return []
    if isinstance(result, StoreCorruptedError):
        if kind == "doc":  # a document with no good backup: refusing is right
            return []
        return [f"refused although a good version exists: {result}"]
    if kind in ("doc.bak", "checkpoint", "checkpoint.bak") and result != full:
        return [f"lost data although the live files are good: {result!r}"]
    wrong = [k for k, v in result.items()
             if json.dumps(v, sort_keys=True) not in history.get(k, set())]
    if wrong:
        return [f"served values the store never held: {[(k, result[k]) for k in wrong]}"]
    return []
