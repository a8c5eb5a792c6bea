"""A minimal store on the persistence layer, used to test the layer on its own."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from tradestore.errors import NotFoundError, ValidationError
from tradestore.persistence import BaseStore
from tradestore.persistence._fs import FileSystem, is_spare_name, is_temp_name
from tradestore.persistence._observe import add_observer, remove_observer

__all__ = ["Counter", "ToyStore"]


class Counter(msgspec.Struct):
    """A named counter."""

    name: str
    value: int = 0
    note: str = ""

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("negative")


class ToyStore(BaseStore):
    """Counters partitioned over 8 documents."""

    folder_name = "toy"

    def __init__(self, data_dir: str | os.PathLike[str], *, lazy: bool = True,
                 fs: FileSystem | None = None, checkpoint_every: int | None = None,
                 parts: int = 8, idle_checkpoint: float = 1.0, warm: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(data_dir, fs=fs, **kwargs)
        self.parts = parts
        self.coll = self._collection(None, "counters", Counter, lazy=lazy, warm=warm,
                                     checkpoint_every=checkpoint_every,
                                     idle_checkpoint=idle_checkpoint)

    @staticmethod
    def doc_of(name: str, parts: int = 8) -> str:
        """The partition of a counter."""
        return f"p{zlib.crc32(name.encode()) % parts}"

    async def add(self, name: str, amount: int = 1, note: str = "") -> int:
        """Add to a counter, creating it; returns the new value."""
        await self._ready()
        if amount < 0:
            raise ValidationError("amount must be >= 0", field="amount")
        doc = self.doc_of(name, self.parts)

        def change(txn: Any) -> int:
            old = txn.get(doc, name)
            new = Counter(name, (old.value if old else 0) + amount, note)
            txn.put(doc, name, new)
            return new.value

        result: int = await self.coll.mutate([doc], change)
        return result

    async def set_many(self, values: dict[str, int]) -> None:
        """Set several counters in one atomic change."""
        await self._ready()
        docs = {self.doc_of(n, self.parts) for n in values}

        def change(txn: Any) -> None:
            for name, value in values.items():
                txn.put(self.doc_of(name, self.parts), name, Counter(name, value))

        await self.coll.mutate(docs, change)

    async def remove(self, name: str) -> None:
        """Remove a counter; NotFoundError if missing."""
        await self._ready()
        doc = self.doc_of(name, self.parts)

        def change(txn: Any) -> None:
            if txn.get(doc, name) is None:
                raise NotFoundError(f"no counter {name}", key=name)
            txn.delete(doc, name)

        await self.coll.mutate([doc], change)

    async def get(self, name: str) -> int | None:
        """A counter's value."""
        await self._ready()
        rec = await self.coll.get(self.doc_of(name, self.parts), name)
        return None if rec is None else rec.value

    async def all(self) -> dict[str, int]:
        """Every counter."""
        await self._ready()
        await self.coll.load_all()
        out: dict[str, int] = {}
        for doc in self.coll.doc_ids():
            for name, rec in (await self.coll.records(doc)).items():
                out[name] = rec.value
        return out


def unfinished_writes(folder: Path) -> list[str]:
    """Temporary files in ``folder`` other than spares (blanks kept for reuse)."""
    return [n for n in os.listdir(folder) if is_temp_name(n) and not is_spare_name(n)]


class Recorder:
    """An observer of the layer's commits and checkpoints: (folder, seconds, count) each."""

    def __init__(self) -> None:
        self.commits: list[tuple[Path, float, int]] = []
        self.checkpoints: list[tuple[Path, float, int]] = []

    def commit_observed(self, folder: Path, seconds: float, records: int) -> None:
        self.commits.append((folder, seconds, records))

    def checkpoint_observed(self, folder: Path, seconds: float, documents: int) -> None:
        self.checkpoints.append((folder, seconds, documents))

    @property
    def checkpointed(self) -> list[int]:
        """The documents each checkpoint rewrote, in order."""
        return [documents for _, _, documents in self.checkpoints]


@contextmanager
def recording() -> Iterator[Recorder]:
    """A :class:`Recorder` observing the layer for the ``with`` block."""
    recorder = Recorder()
    add_observer(recorder)
    try:
        yield recorder
    finally:
        remove_observer(recorder)
