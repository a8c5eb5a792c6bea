"""W7's worker processes: one tradestore ``Scheduler`` or one pgqueuer ``QueueManager``.

``python -m benchmarks._w7_worker tradestore|pgqueuer DSN OUT CONCURRENCY POLL``

Prints ``ready`` once connected, then runs until SIGTERM. Every task or job it
starts appends ``<id> <wall time>`` to ``OUT`` with one ``os.write`` (no-op
work otherwise), so the parent counts duplicates and losses and measures
from due to started on one host clock.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from typing import Any

__all__ = ["main"]


async def _tradestore(dsn: str, fd: int, concurrency: int, poll: float) -> None:
    from tradestore import BackgroundTask, TaskStore
    from tradestore.postgres import Database
    from tradestore.scheduler import HandlerContext, Scheduler

    async def noop(task: BackgroundTask, ctx: HandlerContext) -> None:
        os.write(fd, f"{task.task_id} {time.time():.6f}\n".encode())

    async with Database(dsn, min_size=2, max_size=4) as db, TaskStore(db) as store:
        sched = Scheduler(store, handlers={"noop": noop}, concurrency=concurrency,
                          poll_interval=poll, lease_seconds=30.0)
        print("ready", flush=True)
        await sched.run()


async def _pgqueuer(dsn: str, fd: int, concurrency: int, poll: float) -> None:
    import psycopg
    from pgqueuer import Job, QueueManager
    from pgqueuer.queries import Queries

    conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    qm = QueueManager(Queries.from_psycopg_connection(conn))

    @qm.entrypoint("noop")
    async def noop(job: Job) -> None:
        os.write(fd, f"{(job.payload or b'').decode()} {time.time():.6f}\n".encode())

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, qm.shutdown.set)
    print("ready", flush=True)
    from datetime import timedelta

    run: Any = qm.run  # batch_size / dequeue_timeout as pgqueuer documents them
    await run(dequeue_timeout=timedelta(seconds=poll), batch_size=max(1, concurrency // 2),
              max_concurrent_tasks=concurrency)
    await conn.close()


def main(argv: list[str]) -> int:
    """Run one worker until SIGTERM."""
    system, dsn, out, concurrency, poll = argv
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    runner = _tradestore if system == "tradestore" else _pgqueuer
    asyncio.run(runner(dsn, fd, int(concurrency), float(poll)))
    os.close(fd)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
