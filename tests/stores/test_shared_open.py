"""Several store objects on one folder in one process share one open store.

The bot this library serves opens two StockStateStores (its scheduler's and its
state module's) and two FundamentalStores on one folder: the second open must be
a handle on the first, not a StoreLockedError. Another process is still refused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tradestore import (
    FundamentalSnapshot,
    FundamentalStore,
    NewsItem,
    StockStateStore,
    StoreClosedError,
    StoreError,
    StoreLockedError,
    StrategyLog,
    StrategyLogStore,
    TaskStore,
)
from tradestore.persistence._shared import _OPEN
from tradestore.stores.task_store import FileTaskStore

from .helpers import FakeClock

SRC = str(Path(__file__).resolve().parents[2] / "src")


def registered(data_dir: Path) -> list[str]:
    """The store folders under ``data_dir`` this process has open for writing."""
    root = os.path.realpath(data_dir)
    return [key for key in list(_OPEN) if key.startswith(root + os.sep)]


def _other_process_opens(data_dir: Path) -> str:
    """What a second process gets when it opens the stock store for writing."""
    script = textwrap.dedent(f"""
        import asyncio, sys
        sys.path.insert(0, {SRC!r})
        from tradestore import StockStateStore, StoreLockedError
        async def main():
            try:
                async with StockStateStore({str(data_dir)!r}, durable=False) as s:
                    print("opened", (await s.get_state("AAPL")).fetch_count)
            except StoreLockedError as exc:
                print("locked:", exc.message)
        asyncio.run(main())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout.strip()


async def test_two_stock_stores_share_one_cache(tmp_path: Path) -> None:
    async with StockStateStore(tmp_path, durable=False) as scheduler_side, \
            StockStateStore(tmp_path, durable=False) as state_module:
        await scheduler_side.update_news_check("INFY", dt.date(2025, 1, 2))
        await state_module.record_fetch("INFY", ok=True)
        for store in (scheduler_side, state_module):
            state = await store.get_state("INFY")
            assert state.last_news_check == dt.date(2025, 1, 2)
            assert state.fetch_count == 1
    assert registered(tmp_path) == []
    async with StockStateStore(tmp_path, durable=False) as reopened:
        assert (await reopened.get_state("INFY")).fetch_count == 1


async def test_another_process_is_refused_until_the_last_handle_closes(tmp_path: Path) -> None:
    first = StockStateStore(tmp_path, durable=False)
    second = StockStateStore(tmp_path, durable=False)
    await asyncio.gather(first.initialize(), second.initialize())
    await first.record_fetch("AAPL", ok=True)
    await first.close()
    out = await asyncio.to_thread(_other_process_opens, tmp_path)
    assert out.startswith("locked:"), out
    assert "another process" in out
    await second.record_fetch("AAPL", ok=True)  # the remaining handle still writes
    await second.close()
    assert await asyncio.to_thread(_other_process_opens, tmp_path) == "opened 2"


async def test_a_closed_handle_raises_while_the_other_works(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, durable=False) as keeper:
        other = TaskStore(tmp_path, durable=False)
        await other.initialize()
        await other.close()
        with pytest.raises(StoreClosedError):
            await other.list_tasks()
        assert await keeper.list_tasks() == []


async def test_each_handle_keeps_its_own_zone_and_clock(tmp_path: Path) -> None:
    at = dt.datetime(2025, 1, 1, 20, 0, tzinfo=dt.UTC)  # 01:30 on Jan 2 in India
    async with StockStateStore(tmp_path, durable=False, clock=FakeClock(at)) as utc, \
            StockStateStore(tmp_path, durable=False, tz="Asia/Kolkata",
                            clock=FakeClock(at)) as india:
        assert utc.today() == dt.date(2025, 1, 1)
        assert india.today() == dt.date(2025, 1, 2)
        await india.update_news_check("TCS")
        assert (await utc.get_state("TCS")).last_news_check == dt.date(2025, 1, 2)


async def test_strategy_logs_written_through_one_handle_are_found_through_another(
    tmp_path: Path,
) -> None:
    day = dt.date(2025, 2, 3)
    async with StrategyLogStore(tmp_path, durable=False) as a:
        await a.get_log("momentum", day)  # builds a's month index before b writes
        async with StrategyLogStore(tmp_path, durable=False) as b:
            await b.add_log("momentum", StrategyLog(date=day, wins=1))
            got = await a.get_log("momentum", day)
            assert got is not None
            assert got.wins == 1
            assert await a.strategy_types() == ["momentum"]


async def test_fundamentals_and_news_are_shared(tmp_path: Path) -> None:
    at = dt.datetime(2025, 2, 3, 9, 0, tzinfo=dt.UTC)
    news = NewsItem(symbol="INFY", title="Results", url="https://x.test/1", published_at=at)
    async with FundamentalStore(tmp_path, durable=False) as a, \
            FundamentalStore(tmp_path, durable=False) as b:
        assert await a.get_latest_fundamentals("INFY") is None
        await b.save_fundamentals(FundamentalSnapshot(symbol="INFY", as_of=at.date()))
        latest = await a.get_latest_fundamentals("INFY")
        assert latest is not None
        assert latest.as_of == at.date()
        assert await a.save_news([news]) == 1
        assert await b.save_news([news]) == 0  # one id index for both handles
        assert await b.symbols() == ["INFY"]


async def test_concurrent_updates_through_two_handles_lose_nothing(tmp_path: Path) -> None:
    async with StockStateStore(tmp_path, durable=False) as a, \
            StockStateStore(tmp_path, durable=False) as b:
        await asyncio.gather(*(
            (a if i % 2 else b).record_fetch("AAPL", ok=True) for i in range(1000)))
        assert (await a.get_state("AAPL")).fetch_count == 1000
    async with StockStateStore(tmp_path, durable=False) as again:
        assert (await again.get_state("AAPL")).fetch_count == 1000


async def test_durable_handle_on_a_non_durable_store_is_refused(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, durable=False):
        durable = TaskStore(tmp_path)  # durable=True: its writes would not be synced
        with pytest.raises(StoreError) as info:
            await durable.initialize()
        assert info.value.code == "store_options_conflict"
        assert "durable=False" in info.value.message
        await durable.close()
    async with TaskStore(tmp_path) as synced, TaskStore(tmp_path, durable=False) as relaxed:
        assert await relaxed.list_tasks() == await synced.list_tasks()  # more syncing is fine


async def test_read_only_open_beside_a_writer_is_its_own_snapshot(tmp_path: Path) -> None:
    async with StockStateStore(tmp_path, durable=False) as writer:
        await writer.record_fetch("AAPL", ok=True)
        async with StockStateStore(tmp_path, read_only=True) as reader:
            await writer.record_fetch("AAPL", ok=True)
            await writer.flush()
            assert (await reader.get_state("AAPL")).fetch_count == 1
            await reader.reload()
            assert (await reader.get_state("AAPL")).fetch_count == 2
            with pytest.raises(StoreError):
                await reader.record_fetch("AAPL", ok=True)


async def test_open_during_the_last_close_gets_a_fresh_open(tmp_path: Path) -> None:
    first = TaskStore(tmp_path, durable=False)
    await first.initialize()
    late = TaskStore(tmp_path, durable=False)
    await asyncio.gather(first.close(), late.initialize())
    try:
        assert await late.list_tasks() == []
    finally:
        await late.close()
    assert registered(tmp_path) == []


def test_a_store_left_open_on_another_event_loop_is_named(tmp_path: Path) -> None:
    leaked = TaskStore(tmp_path, durable=False)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(leaked.initialize())

        async def other_loop() -> None:
            store = TaskStore(tmp_path, durable=False)
            with pytest.raises(StoreLockedError) as info:
                await store.initialize()
            assert "this process on another event loop" in info.value.message
            await store.close()

        asyncio.run(other_loop())
        loop.run_until_complete(leaked.close())
    finally:
        loop.close()


async def test_a_store_dropped_without_close_is_not_kept_registered(tmp_path: Path) -> None:
    store = FileTaskStore(tmp_path, durable=False)
    await store.initialize()
    assert len(registered(tmp_path)) == 1
    await store._lock.release()  # what a garbage-collected lock file object does
    store._state = "closed"  # no ResourceWarning from this deliberate drop
    del store
    gc.collect()
    assert registered(tmp_path) == []
    async with TaskStore(tmp_path, durable=False) as fresh:
        assert await fresh.list_tasks() == []


async def test_a_bot_state_module_beside_open_stores(tmp_path: Path) -> None:
    from tradestore.scheduler import open_stores

    async with open_stores(tmp_path, durable=False, tz="Asia/Kolkata") as stores:
        async with StockStateStore(tmp_path, durable=False) as state_module, \
                FundamentalStore(tmp_path, durable=False) as executor:
            await state_module.record_fetch("INFY", ok=False)
            snap = FundamentalSnapshot(symbol="INFY", as_of=dt.date(2025, 1, 2))
            await executor.save_fundamentals(snap)
            assert (await stores.stocks.get_state("INFY")).error_count == 1
            assert await stores.fundamentals.get_latest_fundamentals("INFY") is not None
        await stores.stocks.record_fetch("INFY", ok=True)  # still open for the scheduler
    assert registered(tmp_path) == []
