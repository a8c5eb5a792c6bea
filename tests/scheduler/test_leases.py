"""The scheduler holds a lease on each running task: renewed, and given up when lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tradestore import BackgroundTask, TaskStatus, TaskStore
from tradestore.scheduler import HandlerContext, Scheduler, TaskEvent

from .helpers import START, FakeClock, make_task


async def test_a_long_handler_keeps_its_lease_by_renewing_it(tmp_path: Path) -> None:
    async with TaskStore(tmp_path / "data", durable=False) as store:
        await store.save(make_task("long", at=START))
        other_saw: list[int] = []

        async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
            for _ in range(5):  # 1 s in all: more than three times the lease
                await asyncio.sleep(0.2)
                taken = await store.reclaim_expired("intruder", lease_seconds=60)
                other_saw.append(len(taken))

        sched = Scheduler(store, handlers={"job": handler}, lease_seconds=0.3,
                          poll_interval=0.01)
        stats = await asyncio.wait_for(sched.run_once(), 10)
        assert other_saw == [0] * 5  # never expired while the handler ran
        assert stats.succeeded == 1
        done = await store.get("long")
        assert done is not None
        assert (done.status, done.lease_owner, done.lease_expires_at) == (
            TaskStatus.SUCCEEDED, None, None)


async def test_a_lost_lease_cancels_the_handler_and_its_outcome_is_refused(
    task_store: TaskStore, clock: FakeClock
) -> None:
    await task_store.save(make_task("contested"))
    started = asyncio.Event()
    cancelled = asyncio.Event()
    events: list[TaskEvent] = []

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    sched = Scheduler(task_store, handlers={"job": handler}, clock=clock, lease_seconds=0.3,
                      on_event=events.append)
    runner = asyncio.create_task(sched.run_once())
    await asyncio.wait_for(started.wait(), 5)
    clock.advance(1)  # the lease (0.3 s on this clock) has expired: another scheduler takes it
    [taken] = await task_store.reclaim_expired("intruder", lease_seconds=60)
    await asyncio.wait_for(cancelled.wait(), 5)  # at the next renewal, within 0.1 s
    stats = await asyncio.wait_for(runner, 5)
    assert (stats.lost, stats.cancelled) == (1, 0)
    assert [e.kind for e in events] == ["started", "lost"]
    stored = await task_store.get("contested")
    assert stored is not None
    assert stored == taken.task  # the first holder's late "cancelled" write changed nothing
    assert stored.history == []
