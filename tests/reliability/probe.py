"""A tiny store built on the persistence layer, to prove the harness before the real stores.

It is deliberately like the real stores: validated identifiers, partitioned
documents, a lazy collection, records that are never mutated in the cache.
"""

from __future__ import annotations

import math
import os
import re

import msgspec

from tradestore.errors import NotFoundError, ValidationError
from tradestore.persistence import BaseStore
from tradestore.persistence._collection import Collection, Txn
from tradestore.persistence._fs import FileSystem

__all__ = ["Item", "ProbeStore"]

_KEY_RE = re.compile(r"\A[A-Za-z0-9._:-]{1,128}\Z")
_MAX_NOTE = 10_000


class Item(msgspec.Struct):
    """One record: an integer value and a note."""

    value: int
    note: str = ""


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not _KEY_RE.match(key) or not re.search(r"[A-Za-z0-9]", key):
        raise ValidationError(f"bad key {key!r}", field="key")
    return key


def _check_value(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**53:
        raise ValidationError(f"bad value {value!r}", field="value")
    return value


def _check_note(note: object) -> str:
    if not isinstance(note, str) or len(note) > _MAX_NOTE or any(
        ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in note
    ):
        raise ValidationError("bad note", field="note")
    return note


class ProbeStore(BaseStore):
    """Items keyed by a string, spread over an eager and a lazy collection by key."""

    folder_name = "probe"

    def __init__(
        self, data_dir: str | os.PathLike[str], *, durable: bool = True, read_only: bool = False,
        fs: FileSystem | None = None, checkpoint_every: int = 8, journal: str = "files",
    ) -> None:
        super().__init__(data_dir, durable=durable, read_only=read_only, fs=fs, journal=journal)
        self._items = self._collection(None, "items", Item, checkpoint_every=checkpoint_every)
        self._extra = self._collection("extra", "extra", Item, lazy=True,
                                       checkpoint_every=checkpoint_every)

    def _where(self, key: str) -> tuple[Collection[Item], str]:
        total = sum(key.encode())
        return (self._items if total % 2 else self._extra), f"part/{total % 3}"

    async def put(self, key: str, value: int, note: str = "") -> None:
        """Insert or replace ``key``."""
        await self._ready()
        key, value, note = _check_key(key), _check_value(value), _check_note(note)
        coll, doc = self._where(key)

        def fn(txn: Txn[Item]) -> None:
            txn.put(doc, key, Item(value, note))

        await coll.mutate([doc], fn)

    async def add(self, key: str, delta: float) -> int:
        """Add ``delta`` to an existing item; NotFoundError when missing."""
        await self._ready()
        key = _check_key(key)
        if isinstance(delta, bool) or not isinstance(delta, int | float) or not math.isfinite(
            delta
        ) or delta != int(delta) or abs(delta) >= 2**40:
            raise ValidationError(f"bad delta {delta!r}", field="delta")
        coll, doc = self._where(key)

        def fn(txn: Txn[Item]) -> int:
            cur = txn.get(doc, key)
            if cur is None:
                raise NotFoundError(f"no item {key!r}", key=key)
            new = msgspec.structs.replace(cur, value=_check_value(cur.value + int(delta)))
            txn.put(doc, key, new)
            return new.value

        return await coll.mutate([doc], fn)

    async def delete(self, key: str) -> bool:
        """Remove ``key``; whether it was there."""
        await self._ready()
        key = _check_key(key)
        coll, doc = self._where(key)

        def fn(txn: Txn[Item]) -> bool:
            found = txn.get(doc, key) is not None
            txn.delete(doc, key)
            return found

        return await coll.mutate([doc], fn)

    async def get(self, key: str) -> Item | None:
        """A copy of the item, or None."""
        await self._ready()
        key = _check_key(key)
        coll, doc = self._where(key)
        rec = await coll.get(doc, key)
        return None if rec is None else msgspec.structs.replace(rec)

    async def items(self) -> dict[str, tuple[int, str]]:
        """Every item, as (value, note)."""
        await self._ready()
        out: dict[str, tuple[int, str]] = {}
        for coll in (self._items, self._extra):
            for doc in sorted(coll.doc_ids()):
                out.update({k: (v.value, v.note) for k, v in (await coll.records(doc)).items()})
        return out
