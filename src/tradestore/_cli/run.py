"""``tradestore run``: seed the default tasks, run the scheduler with live progress, summarise."""

from __future__ import annotations

import contextlib
import gc
import time

from tradestore._cli.common import Where, console, option_of, shown
from tradestore._cli.progress import RunProgress, summary_table
from tradestore._cli.web import dashboard_in_process
from tradestore.scheduler import (
    Scheduler,
    SimulatedMarket,
    TaskEvent,
    default_handlers,
    default_tasks,
    open_stores,
)
from tradestore.scheduler.defaults import SAMPLE_WATCHLIST
from tradestore.scheduler.timing import utc_now

__all__ = ["run_scheduler"]


async def run_scheduler(
    data_dir: Where,
    *,
    symbols: list[str],
    duration: float | None,
    once: bool,
    seed: int,
    concurrency: int,
    failure_rate: float,
    began: float,
    web: tuple[str, int] | None = None,
    tz: str = "UTC",
    lease_seconds: float = 30.0,
    journal: str = "files",
) -> None:
    """The body of ``tradestore run``; ``tz`` is the zone of the stores' calendar day."""
    async with open_stores(data_dir, tz=tz, journal=journal) as stores:
        known = sorted(await stores.stocks.all_states())
        watchlist = symbols or known or list(SAMPLE_WATCHLIST)
        if not await stores.tasks.list_tasks():
            # ensure_many, never save_many: hosts starting at once on one database all
            # see no tasks; each default is then added once, and none is overwritten.
            added = await stores.tasks.ensure_many(default_tasks(utc_now(), batch_size=10))
            if added:
                console.print(f"seeded {len(added)} default recurring tasks in "
                              f"{shown(data_dir)}", soft_wrap=True)
        console.print(
            f"watchlist: {', '.join(watchlist)}   market: simulated (seed {seed})"
            + f"   zone: {tz}"
            + (f"   journal: {journal}" if journal != "files" else "")
            + (
                "   once"
                if once
                else f"   duration: {duration:g}s"
                if duration is not None
                else "   Ctrl-C to stop"
            ),
            soft_wrap=True,
        )
        progress = RunProgress(console, duration=duration)

        def on_event(event: TaskEvent) -> None:
            if event.kind != "started":  # the outcome line says enough
                progress.on_event(event)

        scheduler = Scheduler(
            stores.tasks,
            handlers=default_handlers(),
            context=stores.context(
                market=SimulatedMarket(seed, failure_rate=failure_rate), watchlist=watchlist
            ),
            concurrency=concurrency,
            poll_interval=0.5,
            backoff_base=2.0,
            backoff_max=60.0,
            grace_period=5.0,
            on_event=on_event,
            lease_seconds=lease_seconds,
        )
        console.print(f"scheduler: {scheduler.scheduler_id}", soft_wrap=True)
        async with contextlib.AsyncExitStack() as stack:
            if web is not None:
                await stack.enter_async_context(dashboard_in_process(stores, scheduler, *web))
            # What exists now (the interpreter's modules, the open stores) lives as long as
            # the run: frozen out of the garbage collector's passes, a full pass no longer
            # stalls the loop for milliseconds to visit it (docs/benchmarks.md, "GC ms").
            gc.freeze()
            try:
                with progress:
                    stats = await (scheduler.run_once() if once
                                   else scheduler.run(duration=duration))
            finally:
                gc.unfreeze()
    console.print(summary_table(stats, time.monotonic() - began))
    console.print(
        f"state saved in {shown(data_dir)}; 'tradestore status {option_of(data_dir)}' shows it",
        soft_wrap=True,
    )
