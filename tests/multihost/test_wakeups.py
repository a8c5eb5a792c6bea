"""LISTEN/NOTIFY wake-ups on a real server: what is announced, and healing after a kill."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tradestore import BackgroundTask, TaskPriority, TaskStore
from tradestore.postgres._listen import listen, parse_delay


def _task(task_id: str, at: datetime) -> BackgroundTask:
    return BackgroundTask(task_id=task_id, task_type="work", priority=TaskPriority.MEDIUM,
                          execute_at=at)


class Heard:
    """Consumes a listener in the background (cancelling ``anext`` would end the generator)."""

    def __init__(self, source: AsyncGenerator[float, None]) -> None:
        self.source = source
        self.queue: asyncio.Queue[float] = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        async for delay in self.source:
            self.queue.put_nowait(delay)

    async def next(self, within: float = 5.0) -> float:
        return await asyncio.wait_for(self.queue.get(), within)

    async def quiet(self, seconds: float) -> bool:
        """Whether nothing arrives for ``seconds``."""
        await asyncio.sleep(seconds)
        return self.queue.empty()

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.source.aclose()


def test_payloads_parse_to_seconds_and_foreign_ones_mean_now() -> None:
    assert parse_delay("0") == 0.0
    assert parse_delay("1500") == 1.5
    assert parse_delay("-20") == 0.0
    assert parse_delay("hello") == 0.0


async def test_saving_due_and_future_tasks_is_announced_with_the_delay(pg_dsn: str) -> None:
    heard = Heard(listen(pg_dsn, check_interval=0.5))
    try:
        assert await heard.next() == 0.0  # first: whatever came due while nobody listened
        async with TaskStore(pg_dsn) as store:
            now = datetime.now(UTC)
            await store.save(_task("due", now - timedelta(seconds=5)))
            assert await heard.next() == 0.0
            await store.save(_task("later", now + timedelta(seconds=30)))
            delay = await heard.next()
            assert 25.0 < delay <= 30.0
            # 200 due tasks in one call: one notification, not 200.
            await store.save_many([_task(f"bulk-{i}", now) for i in range(200)])
            assert await heard.next() == 0.0
            assert await heard.quiet(0.7)
            # Deactivating or deleting announces nothing.
            await store.update("due", is_active=False)
            await store.delete("later")
            assert await heard.quiet(0.7)
    finally:
        await heard.close()


async def test_a_listener_killed_by_the_server_reconnects_and_hears_again(
    pg_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="tradestore.postgres._listen")
    heard = Heard(listen(pg_dsn, check_interval=0.3, retry_min=0.05))
    try:
        assert await heard.next() == 0.0
        async with await psycopg.AsyncConnection.connect(pg_dsn, autocommit=True) as admin:
            cur = await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'tradestore-listener' AND datname = current_database()")
            assert [row[0] for row in await cur.fetchall()] == [True]
        assert await heard.next() == 0.0  # reconnected: it says "look now" first
        assert any("connection" in r.getMessage() and "lost" in r.getMessage()
                   for r in caplog.records)
        async with TaskStore(pg_dsn) as store:
            await store.save(_task("after-kill", datetime.now(UTC)))
            assert await heard.next() == 0.0
    finally:
        await heard.close()
