"""Outcomes are durable first, land in the task's history, and reach every subscriber."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tradestore import (
    BackgroundTask,
    RunOutcome,
    StoreIOError,
    TaskRun,
    TaskStatus,
    TaskStore,
)
from tradestore.scheduler import HandlerContext, RunInfo, Scheduler, TaskEvent, new_scheduler_id

from .helpers import START, FakeClock, make_task


class FailingOutcomeStore(TaskStore):
    """A real TaskStore whose outcome writes (and claims) fail on demand."""

    fail_outcomes = False
    failing_claims = 0
    on_outcome: Any = None

    async def claim_due(self, owner: str, *, limit: int, lease_seconds: float,
                        now: datetime | None = None) -> list[BackgroundTask]:
        if self.failing_claims:
            self.failing_claims -= 1
            raise StoreIOError("injected: disk full", code="io_error")
        return await super().claim_due(owner, limit=limit, lease_seconds=lease_seconds,
                                       now=now)

    async def finish_run(self, task_id: str, token: int, run: TaskRun, **changes: Any
                         ) -> BackgroundTask | None:
        if self.on_outcome is not None:
            self.on_outcome(changes)
        if self.fail_outcomes:
            raise StoreIOError("injected: disk full", code="io_error")
        return await super().finish_run(task_id, token, run, **changes)


async def test_a_success_appends_one_run_with_where_and_when(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("one", interval_seconds=60))

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
        return {"ok": True}

    sched = Scheduler(task_store, handlers={"job": handler}, clock=clock)
    await sched.run_once()
    stored = await task_store.get("one")
    assert stored is not None
    assert stored.status == TaskStatus.PENDING
    [run] = stored.history
    assert run.outcome is RunOutcome.SUCCEEDED
    assert (run.started_at, run.finished_at, run.planned_at) == (START, START, START)
    assert run.duration_seconds >= 0
    assert (run.host, run.scheduler_id, run.error) == (socket.gethostname(), sched.scheduler_id,
                                                       None)


async def test_retries_keep_the_idempotency_key_and_history_tells_each_attempt(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("flaky", max_retries=2))
    seen: list[RunInfo] = []

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
        assert ctx.run is not None
        seen.append(ctx.run)
        raise RuntimeError(f"attempt {ctx.run.attempt}")

    sched = Scheduler(task_store, handlers={"job": handler}, clock=clock, backoff_base=1)
    for _ in range(3):
        await sched.run_once()
        clock.advance(60)
    stored = await task_store.get("flaky")
    assert stored is not None
    assert stored.status == TaskStatus.FAILED
    assert [r.outcome for r in stored.history] == [RunOutcome.RETRY, RunOutcome.RETRY,
                                                   RunOutcome.FAILED]
    assert [r.error for r in stored.history] == [
        "RuntimeError: attempt 1", "RuntimeError: attempt 2", "RuntimeError: attempt 3"]
    assert [i.attempt for i in seen] == [1, 2, 3]
    assert {i.idempotency_key for i in seen} == {f"flaky@{START.isoformat()}"}
    assert {r.planned_at for r in stored.history} == {START}


async def test_each_slot_of_a_recurring_task_has_its_own_key(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("tick", interval_seconds=60))
    keys: list[str] = []

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
        assert ctx.run is not None
        keys.append(ctx.run.idempotency_key)

    sched = Scheduler(task_store, handlers={"job": handler}, clock=clock)
    for _ in range(3):
        await sched.run_once()
        clock.advance(60)
    assert keys == [f"tick@{(START + timedelta(minutes=m)).isoformat()}" for m in range(3)]


async def test_outcome_is_persisted_before_it_is_counted_logged_or_emitted(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = FailingOutcomeStore(tmp_path / "data", durable=False, clock=clock)
    async with store:
        await store.save(make_task("doomed"))
        events: list[TaskEvent] = []

        async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
            raise RuntimeError("boom")

        sched = Scheduler(store, handlers={"job": handler}, clock=clock, on_event=events.append)
        counted_at_write: list[int] = []
        store.on_outcome = lambda changes: counted_at_write.append(sched.stats.retried)
        store.fail_outcomes = True
        with caplog.at_level(logging.WARNING, logger="tradestore.scheduler"):
            stats = await sched.run_once()
        assert counted_at_write == [0]
        assert (stats.retried, stats.failed, stats.lost) == (0, 0, 1)
        assert [e.kind for e in events] == ["started", "lost"]
        assert not any("retry 1 of" in r.getMessage() for r in caplog.records)
        stuck = await store.get("doomed")
        assert stuck is not None
        assert (stuck.status, stuck.history) == (TaskStatus.RUNNING, [])

        store.fail_outcomes = False  # the disk is back
        # Its lease is still live: no scheduler takes it over yet...
        assert await Scheduler(store, handlers={"job": handler}, clock=clock).recover() == 0
        clock.advance(30)  # ...until the lease (30 s by default) has expired.
        later = Scheduler(store, handlers={"job": handler}, clock=clock)
        assert await later.recover() == 1
        recovered = await store.get("doomed")
        assert recovered is not None
        assert [r.outcome for r in recovered.history] == [RunOutcome.CRASHED]
        assert recovered.status == TaskStatus.PENDING
        assert counted_at_write == [0, 0]  # the recovery was counted after its write too
        assert later.stats.recovered == 1


async def test_crash_recovery_and_cancellation_are_in_the_history(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("crashed", status=TaskStatus.RUNNING,
                                    last_executed=START - timedelta(seconds=30)))
    await task_store.save(make_task("stuck"))
    keys: list[str] = []
    started = asyncio.Event()

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
        assert ctx.run is not None
        keys.append(ctx.run.idempotency_key)
        if task.task_id == "stuck":
            started.set()
            await asyncio.sleep(3600)

    sched = Scheduler(task_store, handlers={"job": handler}, clock=clock, grace_period=0.01,
                      poll_interval=0.01, concurrency=2)
    runner = asyncio.create_task(sched.run(handle_signals=False))
    await asyncio.wait_for(started.wait(), 5)
    sched.request_stop()
    await asyncio.wait_for(runner, 5)
    crashed = await task_store.get("crashed")
    stuck = await task_store.get("stuck")
    assert crashed is not None
    assert stuck is not None
    outcomes = [r.outcome for r in crashed.history]
    assert outcomes == [RunOutcome.CRASHED, RunOutcome.SUCCEEDED]
    assert crashed.history[0].duration_seconds == 30.0  # found 30 s after it started
    assert crashed.history[0].planned_at == crashed.history[1].planned_at == START
    assert [r.outcome for r in stuck.history] == [RunOutcome.CANCELLED]
    assert stuck.status == TaskStatus.PENDING
    assert sched.stop_reason == "stop requested"


async def test_a_result_that_cannot_be_stored_fails_the_run_instead_of_sticking(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("odd", max_retries=0))

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
        return {"when": object()}

    await Scheduler(task_store, handlers={"job": handler}, clock=clock).run_once()
    stored = await task_store.get("odd")
    assert stored is not None
    assert stored.status == TaskStatus.FAILED
    assert stored.last_error is not None
    assert "cannot be stored" in stored.last_error


async def test_several_subscribers_sync_and_async_and_a_broken_one(
    task_store: TaskStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await task_store.save_many([make_task("a"), make_task("b")])
    legacy: list[str] = []
    sync_seen: list[str] = []
    async_seen: list[str] = []
    stored_at_event: list[TaskStatus] = []

    def broken(event: TaskEvent) -> None:
        raise RuntimeError("subscriber bug")

    async def broken_async(event: TaskEvent) -> None:
        raise RuntimeError("async subscriber bug")

    async def slow(event: TaskEvent) -> None:
        if event.kind == "succeeded":
            task = await task_store.get(event.task_id)
            assert task is not None
            stored_at_event.append(task.status)
        await asyncio.sleep(0.01)
        async_seen.append(f"{event.kind}:{event.task_id}")

    sched = Scheduler(task_store, handlers={"job": _noop}, clock=clock, concurrency=1,
                      on_event=lambda e: legacy.append(e.kind))
    sched.subscribe(broken)
    sched.subscribe(lambda e: sync_seen.append(f"{e.kind}:{e.task_id}"))
    sched.subscribe(slow)
    sched.subscribe(broken_async)
    with caplog.at_level(logging.ERROR, logger="tradestore.scheduler"):
        stats = await sched.run_once()
    expected = ["started:a", "succeeded:a", "started:b", "succeeded:b"]
    assert stats.succeeded == 2
    assert legacy == ["started", "succeeded", "started", "succeeded"]
    assert sync_seen == expected
    assert sorted(async_seen) == sorted(expected)  # all delivered before run_once returned
    assert stored_at_event == [TaskStatus.SUCCEEDED, TaskStatus.SUCCEEDED]
    messages = [r.getMessage() for r in caplog.records]
    assert sum("event subscriber failed" in m for m in messages) == 8  # 4 events x 2 broken


async def test_unsubscribe_stops_delivery_and_async_subscribers_do_not_block(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save_many([make_task("a"), make_task("b", at=START + timedelta(hours=1))])
    seen: list[str] = []
    release = asyncio.Event()

    async def blocking(event: TaskEvent) -> None:
        await release.wait()

    sched = Scheduler(task_store, handlers={"job": _noop}, clock=clock, grace_period=0.05)
    unsubscribe = sched.subscribe(lambda e: seen.append(e.kind))
    sched.subscribe(blocking)
    await asyncio.wait_for(sched.run_once(), 5)  # a subscriber that never ends cannot hold it
    assert seen == ["started", "succeeded"]
    unsubscribe()
    unsubscribe()  # idempotent
    clock.advance(3600)
    await sched.run_once()
    assert seen == ["started", "succeeded"]
    with pytest.raises(TypeError):
        sched.subscribe("not callable")  # type: ignore[arg-type]  # wrong on purpose


async def test_wake_starts_a_newly_due_task_without_waiting_for_the_poll(
    task_store: TaskStore,
) -> None:
    ran = asyncio.Event()

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
        ran.set()

    sched = Scheduler(task_store, handlers={"job": handler}, poll_interval=60,
                      heartbeat_interval=60)
    runner = asyncio.create_task(sched.run(handle_signals=False))
    await asyncio.sleep(0.1)  # the scheduler is now waiting out its 60 s poll
    await task_store.save(make_task("now", at=START))
    sched.wake()
    await asyncio.wait_for(ran.wait(), 2)
    sched.request_stop()
    await asyncio.wait_for(runner, 5)


async def test_heartbeat_shows_the_running_task_then_a_clean_stop(tmp_path: Path) -> None:
    async with TaskStore(tmp_path / "data", durable=False) as store:
        await store.save(make_task("slow", at=START))
        started, release = asyncio.Event(), asyncio.Event()

        async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
            started.set()
            await release.wait()

        sched = Scheduler(store, handlers={"job": handler}, poll_interval=0.01,
                          heartbeat_interval=0.02)
        host, pid, token = sched.scheduler_id.rsplit(":", 2)
        assert host == new_scheduler_id(sched.host, 1).split(":")[0]
        assert (pid, len(token)) == (str(os.getpid()), 8)
        assert Scheduler(store).scheduler_id != sched.scheduler_id
        runner = asyncio.create_task(sched.run(handle_signals=False))
        await asyncio.wait_for(started.wait(), 5)
        for _ in range(200):  # a beat written while the task runs names it
            beats = await store.heartbeats()
            if beats and beats[0].running == ["slow"]:
                break
            await asyncio.sleep(0.01)
        [beat] = await store.heartbeats()
        assert (beat.scheduler_id, beat.host, beat.pid) == (sched.scheduler_id,
                                                            socket.gethostname(), os.getpid())
        assert beat.running == ["slow"]
        assert beat.interval_seconds == 0.02
        assert beat.stopped_at is None
        assert beat.is_alive(beat.last_beat)
        release.set()
        await asyncio.sleep(0.05)
        sched.request_stop()
        await asyncio.wait_for(runner, 5)
    async with TaskStore(tmp_path / "data", read_only=True) as store:
        [beat] = await store.heartbeats()
        assert beat.stopped_at is not None
        assert beat.running == []
        assert not beat.is_alive(beat.last_beat)


def test_scheduler_ids_are_identifiers_whatever_the_host_name() -> None:
    assert re.fullmatch(r"my-box-1:7:[0-9a-f]{8}", new_scheduler_id("my box/1", 7))
    assert re.fullmatch(r"host:7:[0-9a-f]{8}", new_scheduler_id("", 7))
    assert len(new_scheduler_id("x" * 500, 2**31)) <= 128


async def test_every_stop_path_records_why(task_store: TaskStore) -> None:
    sched = Scheduler(task_store, poll_interval=0.01)
    await asyncio.wait_for(sched.run(duration=0.05, handle_signals=False), 5)
    assert sched.stop_reason == "run duration reached"
    event = asyncio.Event()
    sched = Scheduler(task_store, poll_interval=0.01)
    runner = asyncio.create_task(sched.run(stop_event=event, handle_signals=False))
    await asyncio.sleep(0.02)
    event.set()
    await asyncio.wait_for(runner, 5)
    assert sched.stop_reason == "stop event set"
    with pytest.raises(ValueError, match="heartbeat_interval"):
        Scheduler(task_store, heartbeat_interval=0)


async def _noop(task: BackgroundTask, ctx: HandlerContext) -> None:
    return None


async def test_a_result_too_big_to_store_fails_the_run(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("huge", max_retries=0))

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
        return {"blob": "x" * (2 << 20)}  # over the 1 MiB a task's metadata may hold

    stats = await Scheduler(task_store, handlers={"job": handler}, clock=clock).run_once()
    assert (stats.failed, stats.lost) == (1, 0)
    stored = await task_store.get("huge")
    assert stored is not None
    assert stored.status == TaskStatus.FAILED
    assert "last_result" not in stored.metadata


async def test_on_event_can_be_replaced_after_construction(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save_many([make_task("a"), make_task("b", at=START + timedelta(hours=1))])
    first: list[TaskEvent] = []
    second: list[str] = []
    sched = Scheduler(task_store, handlers={"job": _noop}, clock=clock, on_event=first.append)
    await sched.run_once()
    sched.on_event = lambda e: second.append(e.kind)
    clock.advance(3600)
    await sched.run_once()
    assert len(first) == 2
    assert second == ["started", "succeeded"]
    sched.on_event = None
    assert sched.on_event is None


async def test_a_failing_claim_is_retried_at_the_next_poll(tmp_path: Path) -> None:
    async with FailingOutcomeStore(tmp_path / "data", durable=False) as store:
        await store.save(make_task("eventually"))
        store.failing_claims = 3
        ran = asyncio.Event()

        async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
            ran.set()

        sched = Scheduler(store, handlers={"job": handler}, poll_interval=0.01)
        runner = asyncio.create_task(sched.run(handle_signals=False))
        await asyncio.wait_for(ran.wait(), 5)
        sched.request_stop()
        stats = await asyncio.wait_for(runner, 5)
        assert (store.failing_claims, stats.succeeded) == (0, 1)
