"""TaskStore on both backends: every documented method, reopen, concurrency, bad input."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from tests.stores.helpers import T0, FakeClock
from tradestore import (
    BackgroundTask,
    NotFoundError,
    RunOutcome,
    SchedulerHeartbeat,
    StoreClosedError,
    StoreError,
    TaskPriority,
    TaskRun,
    TaskStatus,
    TaskStore,
    TaskType,
    ValidationError,
)

IST = timezone(timedelta(hours=5, minutes=30))


def task(task_id: str = "news-AAPL", **changes: Any) -> BackgroundTask:
    fields: dict[str, Any] = {"task_id": task_id, "task_type": TaskType.NEWS_MONITORING,
                              "priority": TaskPriority.MEDIUM, "execute_at": T0}
    fields.update(changes)
    return BackgroundTask(**fields)


async def test_save_get_round_trips_exactly_and_survives_reopen(location: str) -> None:
    original = task(
        execute_at=datetime(2025, 6, 2, 20, 0, 0, 123456, tzinfo=IST),
        interval_seconds=0.1 + 0.2, max_retries=5, retry_count=1,
        last_executed=T0 - timedelta(hours=1), next_execution=T0 + timedelta(minutes=5),
        status=TaskStatus.FAILED, last_error="boom\x00 with NUL \x01 and ünïcode",
        metadata={"k": [1, 2.5, None, True, "x\x00y"], "nested": {"\x00key": {"a": []}},
                  "\x01": "mark"},
        task_type="custom_kind",
    )
    async with TaskStore(location) as store:
        assert isinstance(store, TaskStore)
        await store.save(original)
        got = await store.get(original.task_id)
    assert got == original
    assert got is not None
    assert got.execute_at.utcoffset() == timedelta(hours=5, minutes=30)
    async with TaskStore(location, read_only=True) as store:
        again = await store.get(original.task_id)
    assert again == original
    assert again is not None
    assert again.task_type == "custom_kind"
    assert again.last_error == original.last_error
    assert again.metadata == original.metadata


async def test_returned_objects_are_copies(location: str) -> None:
    async with TaskStore(location) as store:
        mine = task(metadata={"a": [1]})
        await store.save(mine)
        mine.metadata["a"].append(2)
        got = await store.get("news-AAPL")
        assert got is not None
        assert got.metadata == {"a": [1]}
        got.metadata["b"] = 1
        assert (await store.get("news-AAPL")) == task(metadata={"a": [1]})


async def test_save_many_delete_update_list(location: str) -> None:
    async with TaskStore(location) as store:
        await store.save_many([task("b"), task("a", is_active=False),
                               task("c", task_type=TaskType.HEALTH_CHECK),
                               task("b", max_retries=9)])
        assert [t.task_id for t in await store.list_tasks()] == ["a", "b", "c"]
        assert (await store.get("b")) == task("b", max_retries=9)
        assert [t.task_id for t in await store.list_tasks(active_only=True)] == ["b", "c"]
        assert [t.task_id for t in await store.list_tasks(task_type="health_check")] == ["c"]
        updated = await store.update("a", status="running", retry_count=2, metadata={"x": 1})
        assert updated.status is TaskStatus.RUNNING
        assert updated == task("a", is_active=False, status=TaskStatus.RUNNING, retry_count=2,
                               metadata={"x": 1})
        assert (await store.get("a")) == updated
        assert (await store.update("a")) == updated
        with pytest.raises(NotFoundError):
            await store.update("nope", retry_count=1)
        with pytest.raises(ValidationError):
            await store.update("a", no_such_field=1)
        with pytest.raises(ValidationError):
            await store.update("a", retry_count=-1)
        with pytest.raises(ValidationError):
            await store.update("a", interval_seconds=float("nan"))
        assert (await store.get("a")) == updated
        assert await store.delete("a") is True
        assert await store.delete("a") is False
        assert await store.get("a") is None
        await store.save_many([])


async def test_due_tasks_order_and_filters(location: str) -> None:
    async with TaskStore(location) as store:
        await store.save_many([
            task("low", priority=TaskPriority.LOW, execute_at=T0 - timedelta(hours=2)),
            task("crit-late", priority=TaskPriority.CRITICAL, execute_at=T0),
            task("crit-early", priority=TaskPriority.CRITICAL, execute_at=T0 - timedelta(hours=1)),
            task("crit-tie-b", priority=TaskPriority.CRITICAL, execute_at=T0 - timedelta(hours=1)),
            task("future", priority=TaskPriority.CRITICAL, execute_at=T0 + timedelta(seconds=1)),
            task("rescheduled", priority=TaskPriority.HIGH, execute_at=T0 + timedelta(days=1),
                 next_execution=T0 - timedelta(minutes=1)),
            task("postponed", priority=TaskPriority.HIGH, execute_at=T0 - timedelta(days=1),
                 next_execution=T0 + timedelta(minutes=1)),
            task("inactive", is_active=False, execute_at=T0 - timedelta(days=1)),
            task("running", status=TaskStatus.RUNNING, execute_at=T0 - timedelta(days=1)),
        ])
        due = [t.task_id for t in await store.due_tasks(T0)]
        assert due == ["crit-early", "crit-tie-b", "crit-late", "rescheduled", "low"]
        assert [t.task_id for t in await store.due_tasks(T0, limit=2)] == due[:2]
        assert await store.due_tasks(T0, limit=0) == []
        assert [t.task_id for t in await store.due_tasks(T0.astimezone(IST))] == due
        with pytest.raises(ValidationError):
            await store.due_tasks(datetime(2025, 1, 1))  # naive on purpose
        with pytest.raises(ValidationError):
            await store.due_tasks(T0, limit=-1)


async def test_due_tasks_default_now_is_the_store_clock(location: str, clock: FakeClock) -> None:
    async with TaskStore(location, clock=clock) as store:
        await store.save(task(execute_at=T0 + timedelta(minutes=10)))
        assert await store.due_tasks() == []
        clock.advance(minutes=10)
        assert [t.task_id for t in await store.due_tasks()] == ["news-AAPL"]


async def test_concurrent_updates_lose_nothing(location: str) -> None:
    async with TaskStore(location) as store:
        await store.save_many([task(f"t{i}") for i in range(20)])
        await asyncio.gather(*(store.update(f"t{i % 20}", retry_count=i // 20 + 1)
                               for i in range(100)))
        assert sorted(t.retry_count for t in await store.list_tasks()) == [5] * 20


async def test_bad_input_is_refused_and_nothing_changes(location: str) -> None:
    async with TaskStore(location) as store:
        await store.save(task())
        for bad in ("", "a/b", "x" * 129, "tab\t", None, 5):
            with pytest.raises(ValidationError):
                await store.get(bad)  # type: ignore[arg-type]  # bad on purpose
        with pytest.raises(ValidationError):
            await store.save("not a task")  # type: ignore[arg-type]  # bad on purpose
        with pytest.raises(ValidationError):
            await store.save(task("y", execute_at=datetime(2025, 1, 1)))
        bad_meta = task("z")
        bad_meta.metadata = {"f": float("inf")}
        with pytest.raises(ValidationError):
            await store.save_many([task("ok"), bad_meta])
        with pytest.raises(ValidationError):
            await store.list_tasks(task_type="bad type")
        assert [t.task_id for t in await store.list_tasks()] == ["news-AAPL"]


async def test_read_only_refuses_writes_and_closed_refuses_all(location: str) -> None:
    async with TaskStore(location) as writer:
        await writer.save(task())
    reader = TaskStore(location, read_only=True)
    try:
        with pytest.raises(StoreError):
            await reader.save(task("other"))
        with pytest.raises(StoreError):
            await reader.delete("news-AAPL")
        assert (await reader.get("news-AAPL")) == task()
    finally:
        await reader.close()
    with pytest.raises(StoreClosedError):
        await reader.get("news-AAPL")
    await reader.close()  # idempotent


async def test_initialize_is_idempotent_and_concurrent(location: str) -> None:
    store = TaskStore(location)
    await asyncio.gather(*(store.initialize() for _ in range(5)))
    await store.initialize()
    await store.save(task())
    await store.close()
    async with TaskStore(location) as again:
        assert (await again.get("news-AAPL")) == task()


async def test_ensure_status_filter_and_counts(location: str) -> None:
    async with TaskStore(location) as store:
        await store.save(task("a", status=TaskStatus.RUNNING, retry_count=2))
        assert await store.ensure(task("a")) is False
        assert (await store.get("a")) == task("a", status=TaskStatus.RUNNING, retry_count=2)
        assert await store.ensure(task("b")) is True
        assert await store.ensure_many([task("c"), task("a"), task("c", max_retries=1),
                                        task("d", is_active=False,
                                             status=TaskStatus.FAILED)]) == ["c", "d"]
        assert (await store.get("c")) == task("c")
        with pytest.raises(ValidationError):
            await store.ensure_many([task("e"), task("", max_retries=1)])
        assert await store.get("e") is None
        assert [t.task_id for t in await store.list_tasks(status="pending")] == ["b", "c"]
        assert [t.task_id for t in await store.list_tasks(status=TaskStatus.FAILED)] == ["d"]
        with pytest.raises(ValidationError):
            await store.list_tasks(status="sleeping")
        counts = await store.count_by_status()
        assert counts == {TaskStatus.PENDING: 2, TaskStatus.RUNNING: 1,
                          TaskStatus.SUCCEEDED: 0, TaskStatus.FAILED: 1}
        assert (await store.count_by_status(active_only=True))[TaskStatus.FAILED] == 0


async def test_history_and_lease_round_trip(location: str) -> None:
    run = TaskRun(started_at=T0, finished_at=T0 + timedelta(seconds=2),
                  outcome=RunOutcome.RETRY, duration_seconds=2.0, error="err\x00",
                  host="h", scheduler_id="s1", planned_at=T0.astimezone(IST))
    async with TaskStore(location) as store:
        await store.save(task(history=[run], lease_owner="s1",
                              lease_expires_at=T0 + timedelta(seconds=30), lease_token=7))
        runs = [run] + [msgspec.structs.replace(run, outcome=RunOutcome.SUCCEEDED)] * 2
        updated = await store.update("news-AAPL", history=runs, lease_token=8)
        assert updated.history == runs
    async with TaskStore(location, read_only=True) as store:
        got = await store.get("news-AAPL")
    assert got is not None
    assert got.history == runs
    assert got.history[0].outcome is RunOutcome.RETRY
    assert got.history[0].planned_at is not None
    assert got.history[0].planned_at.utcoffset() == timedelta(hours=5, minutes=30)
    assert (got.lease_owner, got.lease_token) == ("s1", 8)
    assert got.lease_expires_at == T0 + timedelta(seconds=30)


async def test_heartbeats(location: str) -> None:
    def beat(sid: str, seconds: int, **kw: Any) -> SchedulerHeartbeat:
        return SchedulerHeartbeat(scheduler_id=sid, host="host\x00x", pid=42, started_at=T0,
                                  last_beat=T0 + timedelta(seconds=seconds), **kw)

    async with TaskStore(location) as store:
        await store.record_heartbeat(beat("b", 5, running=["t1", "t2"]))
        await store.record_heartbeat(beat("a", 5))
        await store.record_heartbeat(beat("c", 1, stopped_at=T0 + timedelta(seconds=2)))
        await store.record_heartbeat(beat("c", 9))
        assert [b.scheduler_id for b in await store.heartbeats()] == ["c", "a", "b"]
        assert (await store.heartbeats())[2] == beat("b", 5, running=["t1", "t2"])
        with pytest.raises(ValidationError):
            await store.record_heartbeat(beat("d", 1, interval_seconds=float("nan")))
        assert await store.delete_heartbeat("a") is True
        assert await store.delete_heartbeat("a") is False
        assert await store.prune_heartbeats(T0 + timedelta(seconds=6)) == 1
        assert [b.scheduler_id for b in await store.heartbeats()] == ["c"]


async def test_claims_leases_and_fenced_outcomes(location: str) -> None:
    async with TaskStore(location) as store:
        await store.save_many([task("a", priority=TaskPriority.LOW), task("b"),
                               task("c", priority=TaskPriority.CRITICAL),
                               task("later", execute_at=datetime.now(UTC) + timedelta(days=1))])
        first = await store.claim_due("s1", limit=2, lease_seconds=30)
        assert [t.task_id for t in first] == ["c", "b"]
        assert all(t.status is TaskStatus.RUNNING and t.lease_owner == "s1"
                   and t.lease_token == 1 and t.lease_expires_at is not None for t in first)
        second = await store.claim_due("s2", limit=5, lease_seconds=30)
        assert [t.task_id for t in second] == ["a"]
        assert await store.claim_due("s3", limit=5, lease_seconds=30) == []
        renewed = await store.renew_leases("s1", {"c": 1, "b": 7, "a": 1}, lease_seconds=60)
        assert set(renewed) == {"c"}
        run = TaskRun(started_at=T0, finished_at=T0, outcome=RunOutcome.SUCCEEDED,
                      duration_seconds=0.0)
        assert await store.finish_run("c", 9, run, status=TaskStatus.SUCCEEDED) is None
        done = await store.finish_run("c", 1, run, status=TaskStatus.SUCCEEDED, retry_count=0)
        assert done is not None
        assert (done.status, done.lease_owner, done.lease_token) == (TaskStatus.SUCCEEDED,
                                                                     None, 1)
        assert done.history == [run]
        assert await store.get("c") == done
        with pytest.raises(ValidationError):
            await store.finish_run("b", 1, run, lease_token=5)
        with pytest.raises(ValidationError):
            await store.claim_due("s1", limit=1, lease_seconds=float("nan"))
        await store.claim_due("s4", limit=0, lease_seconds=30)
        short = await store.renew_leases("s2", {"a": 1}, lease_seconds=0.001)
        assert set(short) == {"a"}
        await asyncio.sleep(0.05)
        taken = await store.reclaim_expired("s5", lease_seconds=30)
        assert [(r.task.task_id, r.previous_owner, r.task.lease_token) for r in taken] == [
            ("a", "s2", 2)]
        assert await store.finish_run("a", 1, run, status=TaskStatus.FAILED) is None  # fenced


async def test_known_task_types_come_back_as_task_type_after_a_reopen(location: str) -> None:
    async with TaskStore(location) as store:
        await store.save(task("known", task_type="news_monitoring"))
        await store.save(task("mine", task_type="rebalance"))
        await store.update("known", retry_count=1)
    async with TaskStore(location) as store:
        known, mine = await store.get("known"), await store.get("mine")
        listed = {t.task_id: t for t in await store.list_tasks()}
    assert known is not None
    assert mine is not None
    assert known.task_type is TaskType.NEWS_MONITORING
    assert listed["known"].task_type is TaskType.NEWS_MONITORING
    assert type(mine.task_type) is str
    assert mine.task_type == "rebalance"
