"""The one place a change ("put, or delete on None") is applied, and what relies on it."""

from __future__ import annotations

import asyncio

from tests.persistence.toy import Counter
from tradestore.persistence._changes import Batch, Txn, apply_changes


def test_apply_changes_puts_and_deletes_in_place() -> None:
    records = {"a": 1, "b": 2}
    apply_changes(records, {"a": 10, "b": None, "c": 3, "gone": None})
    assert records == {"a": 10, "c": 3}


async def test_a_batch_keeps_the_committed_value_and_undoes_to_it() -> None:
    cache: dict[str, dict[str, Counter]] = {"d": {"a": Counter("a", 1)}}
    batch = Batch()
    for value in (2, 3):  # two mutations of the same key in one batch
        txn: Txn[Counter] = Txn(cache)
        txn.put("d", "a", Counter("a", value))
        txn.put("d", f"new{value}", Counter("n", value))
        fut = batch.add(cache, txn)
    assert cache["d"]["a"].value == 3
    assert batch.originals["d"] == {"a": Counter("a", 1), "new2": None, "new3": None}
    batch.undo(cache)
    assert cache == {"d": {"a": Counter("a", 1)}}
    batch.fail(RuntimeError("disk gone"))
    assert isinstance(fut.exception(), RuntimeError)
    await asyncio.sleep(0)
