"""One scheduler process of the multi-host tests and of benchmark W7.

``python -m tests.multihost._worker DSN OUT [--concurrency N] [--lease S] ...``

Every handler run appends one line to ``OUT`` before it does anything else:
``task_id planned_at(iso) attempt token pid wall_time``. Lines are written
with one ``os.write`` on an ``O_APPEND`` descriptor, so the lines of all the
processes' runs are whole even when a process is killed; the tests compare
them with what the database says. ``--skew`` shifts this process's own clock
(``Scheduler(clock=...)``) by that many seconds, as a host whose clock is off.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from datetime import UTC, datetime, timedelta

from tradestore import BackgroundTask, TaskStore
from tradestore.postgres import Database
from tradestore.scheduler import HandlerContext, Scheduler


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("dsn")
    parser.add_argument("out")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--skew", type=float, default=0.0)
    parser.add_argument("--work", type=float, default=0.0, help="seconds each handler sleeps")
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--grace", type=float, default=5.0)
    return parser.parse_args(argv)


async def _main(args: argparse.Namespace) -> None:
    fd = os.open(args.out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    skew = timedelta(seconds=args.skew)

    def clock() -> datetime:
        return datetime.now(UTC) + skew

    async def handler(task: BackgroundTask, ctx: HandlerContext) -> None:
        run = ctx.run
        assert run is not None
        line = (f"{task.task_id} {run.planned_at.isoformat()} {run.attempt} "
                f"{run.lease_token} {os.getpid()} {time.time():.6f}\n")
        os.write(fd, line.encode())
        first = float(task.metadata.get("first_attempt_sleep", 0.0))
        await asyncio.sleep(first if run.attempt == 1 and first else args.work)

    async with Database(args.dsn, max_size=4) as db, TaskStore(db, clock=clock) as store:
        sched = Scheduler(store, handlers={"work": handler, "tick": handler},
                          concurrency=args.concurrency, lease_seconds=args.lease,
                          poll_interval=args.poll, clock=clock, grace_period=args.grace,
                          heartbeat_interval=1.0)
        print(f"ready {sched.scheduler_id}", flush=True)
        stats = await sched.run(duration=args.duration)
        print(f"stats started={stats.started} succeeded={stats.succeeded} "
              f"lost={stats.lost} recovered={stats.recovered}", flush=True)
    os.close(fd)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    asyncio.run(_main(_parse(sys.argv[1:])))
