"""Changes: what one mutation stages, and what a batch of them carries to disk.

A change is a mapping ``{document id: {key: record or None}}``, ``None``
meaning "delete". The same shape is a transaction's writes, a batch's changes,
a journal file's payload and the originals a failed batch puts back, so it is
applied in one place: :func:`apply_changes`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import msgspec

from tradestore.errors import ValidationError

__all__ = ["Batch", "Changes", "Txn", "apply_changes", "check_encodable"]

R = TypeVar("R", bound=msgspec.Struct)
V = TypeVar("V")

#: The changes of one document: key -> new record, or None to delete it.
Changes = dict[str, Any]

_ENCODER = msgspec.json.Encoder()


def apply_changes(records: dict[str, V], changes: Mapping[str, V | None]) -> None:
    """Apply ``changes`` to ``records`` in place: put each record, delete each None."""
    for key, rec in changes.items():
        if rec is None:
            records.pop(key, None)
        else:
            records[key] = rec


class Txn(Generic[R]):
    """The changes of one mutation, applied to the cache only if it returns normally."""

    __slots__ = ("_docs", "writes")

    def __init__(self, docs: dict[str, dict[str, R]]) -> None:
        self._docs = docs
        self.writes: dict[str, dict[str, R | None]] = {}

    def get(self, doc: str, key: str) -> R | None:
        """The record as this transaction sees it (the document must be loaded)."""
        staged = self.writes.get(doc)
        if staged is not None and key in staged:
            return staged[key]
        return self._docs[doc].get(key)

    def records(self, doc: str) -> dict[str, R]:
        """Every record of a loaded document, as this transaction sees them."""
        merged = dict(self._docs[doc])
        apply_changes(merged, self.writes.get(doc, {}))
        return merged

    def put(self, doc: str, key: str, record: R) -> None:
        """Insert or replace a record."""
        self.writes.setdefault(doc, {})[key] = record

    def delete(self, doc: str, key: str) -> None:
        """Remove a record (a no-op if absent)."""
        if self.get(doc, key) is not None:
            self.writes.setdefault(doc, {})[key] = None


def check_encodable(txn: Txn[Any]) -> None:
    """Refuse, before it joins a batch, a record the journal could not encode.

    A value that passed validation but is not encodable (an unknown subclass of a
    builtin, say) must fail its own call with ``ValidationError``, never the
    commit that the other callers of its batch share.
    """
    for writes in txn.writes.values():
        for rec in writes.values():
            if rec is None:
                continue
            try:
                _ENCODER.encode(rec)
            except (TypeError, ValueError, OverflowError, msgspec.EncodeError) as exc:
                raise ValidationError(
                    f"{type(rec).__name__}: a value cannot be stored: {exc}",
                    code="unencodable_value",
                ) from exc


class Batch:
    """Changes applied to the cache but not yet durable, and how to take them back.

    ``originals`` holds, for every key the batch touched, its value before the
    batch's first change to it: the committed value, which a failed commit puts
    back and a checkpoint writes instead of the uncommitted one.

    Each caller waits on a future of its own (``waiters``), not on one shared
    by the batch: a caller cancelled while it waits cancels only its own wait,
    its change is committed with the rest, and no ``asyncio.shield`` (an extra
    future and an extra turn of the event loop per caller) is needed.
    """

    __slots__ = ("changes", "originals", "waiters")

    def __init__(self) -> None:
        self.changes: dict[str, Changes] = {}
        self.originals: dict[str, Changes] = {}
        self.waiters: list[asyncio.Future[None]] = []

    def add(self, cache: dict[str, dict[str, Any]], txn: Txn[Any]) -> asyncio.Future[None]:
        """Apply ``txn`` to ``cache`` and join it to this batch; the caller's future."""
        for doc, writes in txn.writes.items():
            records = cache.setdefault(doc, {})
            originals = self.originals.setdefault(doc, {})
            for key in writes:
                if key not in originals:
                    originals[key] = records.get(key)
            apply_changes(records, writes)
            self.changes.setdefault(doc, {}).update(writes)
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        return waiter

    def undo(self, cache: dict[str, dict[str, Any]]) -> None:
        """Put back in ``cache`` the committed value of every key this batch touched."""
        for doc, originals in self.originals.items():
            records = cache.get(doc)
            if records is not None:
                apply_changes(records, originals)

    def done(self) -> None:
        """Wake every caller still waiting on this batch: it is durable."""
        for waiter in self.waiters:
            if not waiter.done():  # else cancelled: that caller stopped waiting
                waiter.set_result(None)

    def fail(self, err: BaseException) -> None:
        """Wake every caller still waiting on this batch with ``err``."""
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_exception(err)
                # Marked read: a caller cancelled after this, before it woke, never reads it.
                waiter.exception()
