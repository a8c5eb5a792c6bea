"""One writable open of a store folder per process, shared by every store object on it.

A store object opened for writing on a folder this process already has open is
a *handle* on that open: it adopts the open's state (collections, lock, caches,
indexes: every attribute but the per-handle ones) instead of taking the lock a
second time. The registry is keyed by the folder's real path and holds only
what the handles hold: a store dropped without ``close()`` is not kept alive.
"""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import Any

from tradestore.errors import StoreError, StoreLockedError

__all__ = ["HANDLE_ATTRS", "SharedOpen", "find_open", "register_open"]

HANDLE_ATTRS = frozenset({
    "data_dir", "folder", "durable", "read_only", "_clock", "_state", "_opening",
    "_salvage", "_share",
})
"""BaseStore's attributes that belong to one handle (a subclass adds its ``handle_attrs``)."""


class SharedOpen:
    """One writable open of a store folder in this process, and how many handles use it."""

    __slots__ = ("__weakref__", "closing", "durable", "handles", "key", "kind", "loop",
                 "ready", "state")

    def __init__(self, key: str, kind: type, durable: bool,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.key = key
        self.kind = kind
        self.durable = durable
        self.state: dict[str, Any] = {}  # the attributes every handle adopts, once open
        self.handles = 1
        self.loop = loop
        self.ready: asyncio.Future[None] = loop.create_future()
        self.closing: asyncio.Future[None] | None = None

    def opened(self, store: object, keep: frozenset[str]) -> None:
        """The first handle's open succeeded: record the state the others adopt."""
        self.state = {name: value for name, value in vars(store).items() if name not in keep}
        self.ready.set_result(None)

    def failed(self, exc: BaseException) -> None:
        """The first handle's open failed: leave the registry; waiting opens retry."""
        if _OPEN.get(self.key) is self:
            del _OPEN[self.key]
        if isinstance(exc, Exception):
            self.ready.set_exception(exc)
            self.ready.exception()  # read: waiting handles only look at it
        else:
            self.ready.cancel()

    def join(self, store: object, folder: Path, lock_path: Path) -> None:
        """Make ``store`` one more handle on this open.

        :raises StoreLockedError: the open is of another store class.
        :raises StoreError: ``store`` asks for ``durable=True`` on a non-durable open.
        """
        if self.kind is not type(store):
            raise StoreLockedError(f"{folder} is open for writing in this process by a "
                                   f"{self.kind.__name__}", path=str(lock_path))
        if getattr(store, "durable", False) and not self.durable:
            raise StoreError(
                f"{folder} is already open in this process with durable=False; "
                "open it with durable=False too (or read_only=True)",
                code="store_options_conflict",
            )
        for name, value in self.state.items():
            setattr(store, name, value)
        self.handles += 1

    def leave(self) -> asyncio.Future[None] | None:
        """One handle is closing: None if others remain, else the future to resolve
        (with :meth:`closed`) once the files are closed and the lock released."""
        self.handles -= 1
        if self.handles > 0:
            return None
        self.closing = self.loop.create_future()
        return self.closing

    def closed(self) -> None:
        """The last handle finished closing: later opens start afresh."""
        if _OPEN.get(self.key) is self:
            del _OPEN[self.key]
        if self.closing is not None:
            self.closing.set_result(None)


_OPEN: weakref.WeakValueDictionary[str, SharedOpen] = weakref.WeakValueDictionary()


async def find_open(key: str, folder: Path, lock_path: Path) -> SharedOpen | None:
    """The ready open of ``key`` in this process to join, or None if there is none.

    Waits for an open in progress (and for a last close in progress, then looks
    again); an open that failed is not returned.

    :raises StoreLockedError: the folder is open on another event loop.
    """
    loop = asyncio.get_running_loop()
    while (shared := _OPEN.get(key)) is not None:
        if shared.loop is not loop:
            raise StoreLockedError(
                f"{folder} is open for writing in this process on another event loop; "
                "close it there first", path=str(lock_path))
        if shared.closing is not None:
            await asyncio.wait([shared.closing])
            continue
        await asyncio.wait([shared.ready])
        if shared.ready.cancelled() or shared.ready.exception() is not None:
            continue  # the first open failed (and left): the caller opens on its own
        if _OPEN.get(key) is shared and shared.closing is None:
            return shared
    return None


def register_open(key: str, kind: type, durable: bool) -> SharedOpen:
    """Register the open the caller is about to make of ``key`` (call right after
    :func:`find_open` returned None, with no await in between)."""
    shared = SharedOpen(key, kind, durable, asyncio.get_running_loop())
    _OPEN[key] = shared
    return shared
