"""The one place a change ("put, or delete on None") is applied, and what relies on it."""

from __future__ import annotations

import asyncio
import gc

import pytest

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


async def test_each_caller_of_a_batch_waits_on_its_own_future() -> None:
    cache: dict[str, dict[str, Counter]] = {"d": {}}
    batch = Batch()
    waiters = []
    for k in range(3):
        txn: Txn[Counter] = Txn(cache)
        txn.put("d", f"k{k}", Counter(f"k{k}", k))
        waiters.append(batch.add(cache, txn))
    waiters[1].cancel()  # that caller stopped waiting: the others still wait
    batch.done()
    assert [w.cancelled() for w in waiters] == [False, True, False]
    assert waiters[0].result() is None
    assert waiters[2].result() is None


async def test_a_failed_batch_leaves_no_error_unread_for_a_caller_gone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A caller cancelled after the failure, before it woke, never reads its error:
    # asyncio must not report it as "never retrieved" when the future goes. That a
    # waiting caller gets the error, test_a_batch_keeps_the_committed_value... checks.
    cache: dict[str, dict[str, Counter]] = {"d": {}}
    txn: Txn[Counter] = Txn(cache)
    txn.put("d", "b", Counter("b", 1))
    batch = Batch()
    batch.add(cache, txn)
    batch.fail(RuntimeError("disk gone"))
    del batch
    gc.collect()
    await asyncio.sleep(0)
    assert "never retrieved" not in caplog.text
