"""One small adapter per store: a numbered durable mutation, its expected effect, a full read.

Every suite is written against :class:`Adapter`, so it runs unchanged on every
store. ``apply(store, i)`` performs mutation number ``i`` (deterministic), and
``expected(n)`` is the state after mutations ``0 .. n-1``, computed without
the store; ``snapshot(store)`` reads the same state back through the public
API. A store holds exactly the acknowledged prefix (or one more, the call in
flight) or something is wrong.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from tradestore.persistence import BaseStore, FileSystem

from .probe import ProbeStore

__all__ = ["ADAPTERS", "Adapter", "ProbeAdapter", "adapter_names", "get_adapter"]

Snapshot = dict[str, Any]


class Adapter:
    """How the suites drive one store."""

    name: ClassVar[str]
    folder: ClassVar[str]

    def open(self, data_dir: str | os.PathLike[str], *, fs: FileSystem | None = None,
             read_only: bool = False, durable: bool = True) -> BaseStore:
        """A new, not yet initialized store on ``data_dir``."""
        raise NotImplementedError

    async def apply(self, store: BaseStore, i: int) -> None:
        """Mutation number ``i``; returns once it is acknowledged."""
        raise NotImplementedError

    def expected(self, n: int) -> Snapshot:
        """The state after mutations ``0 .. n-1``."""
        raise NotImplementedError

    async def snapshot(self, store: BaseStore) -> Snapshot:
        """The state, read back through the public API."""
        raise NotImplementedError

    def store_dir(self, data_dir: Path) -> Path:
        """The store's own folder."""
        return data_dir / self.folder


class ProbeAdapter(Adapter):
    """The test store of :mod:`probe`: puts and deletes over two collections."""

    name = "probe"
    folder = ProbeStore.folder_name

    def open(self, data_dir: str | os.PathLike[str], *, fs: FileSystem | None = None,
             read_only: bool = False, durable: bool = True) -> BaseStore:
        return ProbeStore(data_dir, fs=fs, read_only=read_only, durable=durable)

    @staticmethod
    def _op(i: int) -> tuple[str, str, int, str]:
        key = f"k{(i * 7) % 11}"
        return ("delete" if i % 5 == 4 else "put"), key, i, f"n{i}" * (i % 4)

    async def apply(self, store: BaseStore, i: int) -> None:
        assert isinstance(store, ProbeStore)
        op, key, value, note = self._op(i)
        if op == "delete":
            await store.delete(key)
        else:
            await store.put(key, value, note)

    def expected(self, n: int) -> Snapshot:
        state: Snapshot = {}
        for i in range(n):
            op, key, value, note = self._op(i)
            if op == "delete":
                state.pop(key, None)
            else:
                state[key] = [value, note]
        return state

    async def snapshot(self, store: BaseStore) -> Snapshot:
        assert isinstance(store, ProbeStore)
        return {k: [v, note] for k, (v, note) in (await store.items()).items()}


ADAPTERS: dict[str, Adapter] = {"probe": ProbeAdapter()}


def adapter_names() -> list[str]:
    """Every adapter the suites are parametrised over."""
    return list(ADAPTERS)


def get_adapter(name: str) -> Adapter:
    """The adapter called ``name``."""
    return ADAPTERS[name]
