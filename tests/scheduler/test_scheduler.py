"""Scheduler semantics against a real TaskStore, with a hand-driven clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from tradestore import BackgroundTask, TaskPriority, TaskStatus, TaskStore
from tradestore.scheduler import HandlerContext, Scheduler, TaskEvent

from .helpers import START, FakeClock, make_task


def recorder(calls: list[str]) -> Any:
    async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
        calls.append(task.task_id)

    return handler


async def test_due_tasks_run_in_priority_then_time_then_id_order(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save_many(
        [
            make_task("c-low", priority=TaskPriority.LOW),
            make_task("b-medium-late", at=START + timedelta(seconds=5)),
            make_task("a-medium-late", at=START + timedelta(seconds=5)),
            make_task("z-medium-early", at=START - timedelta(minutes=1)),
            make_task("y-critical", priority=TaskPriority.CRITICAL),
            make_task("not-due", at=START + timedelta(hours=1), priority=TaskPriority.CRITICAL),
        ]
    )
    clock.advance(10)
    calls: list[str] = []
    await Scheduler(
        task_store, handlers={"job": recorder(calls)}, concurrency=1, clock=clock
    ).run_once()
    assert calls == ["y-critical", "z-medium-early", "a-medium-late", "b-medium-late", "c-low"]
    not_due = await task_store.get("not-due")
    assert not_due is not None
    assert not_due.status == TaskStatus.PENDING


async def test_no_more_than_concurrency_handlers_run_at_once(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save_many([make_task(f"t{i:02d}") for i in range(12)])
    running = 0
    peak = 0

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1

    stats = await Scheduler(
        task_store, handlers={"job": handler}, concurrency=3, clock=clock
    ).run_once()
    assert peak == 3
    assert stats.succeeded == 12
    assert all(t.status == TaskStatus.SUCCEEDED for t in await task_store.list_tasks())


async def test_running_status_is_persisted_while_the_handler_runs(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("one"))
    seen: list[TaskStatus] = []

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
        stored = await task_store.get(task.task_id)
        assert stored is not None
        seen.append(stored.status)
        return {"items": 3}

    await Scheduler(task_store, handlers={"job": handler}, clock=clock).run_once()
    done = await task_store.get("one")
    assert seen == [TaskStatus.RUNNING]
    assert done is not None
    assert done.status == TaskStatus.SUCCEEDED
    assert done.last_executed == START
    assert done.metadata["last_result"] == {"items": 3}


async def test_recurring_task_goes_back_to_pending_with_its_next_run(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("every-minute", interval_seconds=60))
    clock.advance(5)
    sched = Scheduler(task_store, handlers={"job": recorder([])}, clock=clock)
    await sched.run_once()
    task = await task_store.get("every-minute")
    assert task is not None
    assert task.status == TaskStatus.PENDING
    assert task.next_execution == START + timedelta(seconds=60)
    await sched.run_once()  # not due yet: nothing runs
    assert sched.stats.started == 1


async def test_missed_recurring_runs_run_once_after_downtime(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("every-minute", interval_seconds=60))
    clock.advance(10 * 60 + 30)  # ten runs missed while "down"
    calls: list[str] = []
    await Scheduler(task_store, handlers={"job": recorder(calls)}, clock=clock).run_once()
    assert calls == ["every-minute"]
    task = await task_store.get("every-minute")
    assert task is not None
    assert task.next_execution == START + timedelta(minutes=11)


async def test_failures_retry_with_exponential_backoff_then_fail(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("flaky", max_retries=3))
    attempts = 0

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
        nonlocal attempts
        attempts += 1
        raise RuntimeError(f"boom {attempts}")

    sched = Scheduler(
        task_store, handlers={"job": handler}, clock=clock, backoff_base=10, backoff_max=25
    )
    expected_delays = [10, 20, 25]  # 10 * 2**0, 10 * 2**1, capped at 25
    for retry, delay in enumerate(expected_delays, start=1):
        await sched.run_once()
        task = await task_store.get("flaky")
        assert task is not None
        assert task.status == TaskStatus.PENDING
        assert task.retry_count == retry
        assert task.last_error == f"RuntimeError: boom {retry}"
        assert task.next_execution == clock.now + timedelta(seconds=delay)
        clock.advance(delay - 1)
        await sched.run_once()  # one second early: not retried yet
        assert attempts == retry
        clock.advance(1)
    await sched.run_once()
    task = await task_store.get("flaky")
    assert task is not None
    assert attempts == 4  # the first run and max_retries retries
    assert task.status == TaskStatus.FAILED
    assert task.retry_count == 4
    assert task.last_error == "RuntimeError: boom 4"
    clock.advance(3600)
    await sched.run_once()
    assert attempts == 4


async def test_a_success_after_a_retry_clears_the_error(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("flaky-once", interval_seconds=300))
    attempts = 0

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("feed down")

    sched = Scheduler(task_store, handlers={"job": handler}, clock=clock, backoff_base=30)
    await sched.run_once()
    clock.advance(30)
    await sched.run_once()
    task = await task_store.get("flaky-once")
    assert task is not None
    assert (task.status, task.retry_count, task.last_error) == (TaskStatus.PENDING, 0, None)
    assert task.next_execution == START + timedelta(seconds=300)


async def test_unknown_type_fails_that_task_only(task_store: TaskStore, clock: FakeClock) -> None:
    await task_store.save_many([make_task("mystery", "no_such_type"), make_task("fine")])
    calls: list[str] = []
    sched = Scheduler(task_store, handlers={"job": recorder(calls)}, clock=clock)
    await sched.run_once()
    mystery = await task_store.get("mystery")
    assert mystery is not None
    assert mystery.status == TaskStatus.FAILED
    assert mystery.last_error is not None
    assert "no handler registered for task type 'no_such_type'" in mystery.last_error
    assert calls == ["fine"]


async def test_handlers_can_be_registered_after_construction(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("later", "custom"))
    calls: list[str] = []
    sched = Scheduler(task_store, clock=clock)
    sched.register("custom", recorder(calls))
    await sched.run_once()
    assert calls == ["later"]


async def test_tasks_left_running_are_recovered_as_a_retry(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save_many(
        [
            make_task("crashed", status=TaskStatus.RUNNING, retry_count=1),
            make_task("crashed-too-often", status=TaskStatus.RUNNING, retry_count=3),
        ]
    )
    calls: list[str] = []
    events: list[TaskEvent] = []
    sched = Scheduler(
        task_store, handlers={"job": recorder(calls)}, clock=clock, on_event=events.append
    )
    assert await sched.recover() == 2
    crashed = await task_store.get("crashed")
    worn = await task_store.get("crashed-too-often")
    assert crashed is not None
    assert worn is not None
    assert (crashed.status, crashed.retry_count) == (TaskStatus.PENDING, 2)
    assert crashed.last_error is not None
    assert "interrupted" in crashed.last_error
    assert (worn.status, worn.retry_count) == (TaskStatus.FAILED, 4)
    await sched.run_once()
    assert calls == ["crashed"]
    assert [e.kind for e in events][:2] == ["recovered", "recovered"]


async def test_stop_cancels_in_flight_after_grace_and_starts_nothing_new(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save_many([make_task("a-stuck"), make_task("b-quick"), make_task("c-next")])
    started = asyncio.Event()
    calls: list[str] = []

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
        calls.append(task.task_id)
        if task.task_id == "a-stuck":
            started.set()
            await asyncio.sleep(3600)

    stop = asyncio.Event()
    sched = Scheduler(
        task_store,
        handlers={"job": handler},
        concurrency=1,
        clock=clock,
        grace_period=0.05,
        poll_interval=0.01,
    )
    runner = asyncio.create_task(sched.run(stop_event=stop, handle_signals=False))
    await asyncio.wait_for(started.wait(), 5)
    stop.set()
    stats = await asyncio.wait_for(runner, 5)
    assert calls == ["a-stuck"]
    assert stats.cancelled == 1
    stuck = await task_store.get("a-stuck")
    assert stuck is not None
    assert stuck.status == TaskStatus.PENDING
    assert stuck.last_error is not None
    assert "cancelled" in stuck.last_error
    for task_id in ("b-quick", "c-next"):
        waiting = await task_store.get(task_id)
        assert waiting is not None
        assert waiting.status == TaskStatus.PENDING


async def test_stop_lets_in_flight_tasks_finish_within_grace(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("slowish"))
    started = asyncio.Event()

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
        started.set()
        await asyncio.sleep(0.1)

    sched = Scheduler(task_store, handlers={"job": handler}, clock=clock, grace_period=5)
    runner = asyncio.create_task(sched.run(handle_signals=False))
    await asyncio.wait_for(started.wait(), 5)
    sched.request_stop()
    await asyncio.wait_for(runner, 5)
    task = await task_store.get("slowish")
    assert task is not None
    assert task.status == TaskStatus.SUCCEEDED


async def test_run_for_a_duration_keeps_running_recurring_tasks(
    task_store: TaskStore,
) -> None:
    # Real time here: a 0.05 s interval should run several times in 0.4 s.
    await task_store.save(make_task("fast", at=START, interval_seconds=0.05))
    calls: list[str] = []
    sched = Scheduler(task_store, handlers={"job": recorder(calls)}, poll_interval=0.01)
    stats = await asyncio.wait_for(sched.run(duration=0.4, handle_signals=False), 5)
    assert 3 <= len(calls) <= 10  # once for the missed past, then every 0.05 s
    assert stats.succeeded == len(calls)


async def test_context_gives_handlers_the_stores_and_the_clock(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("ctx", metadata={"symbols": ["aapl", " msft "]}))
    seen: dict[str, Any] = {}

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
        seen.update(tasks=ctx.tasks, now=ctx.now(), symbols=ctx.symbols_for(task))

    ctx = HandlerContext(watchlist=["SPY"], clock=clock)
    await Scheduler(task_store, handlers={"job": handler}, context=ctx).run_once()
    assert seen == {"tasks": task_store, "now": START, "symbols": ["AAPL", "MSFT"]}


def test_bad_settings_are_refused(task_store: TaskStore) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        Scheduler(task_store, concurrency=0)
    with pytest.raises(ValueError, match="backoff_base"):
        Scheduler(task_store, backoff_base=float("nan"))
