"""Group commit for ``finish_run`` on PostgreSQL: concurrent outcomes share one transaction.

A scheduler with 32 tasks in flight finishes many runs within a millisecond.
Written one by one, each outcome is its own transaction: a pool checkout, a
round trip and a WAL flush (``fsync``) each, and on a 2-core host the server's
commits and the client's per-statement work cap the runs per second. Here the
first outcome that arrives while nothing is being written starts a writer; the
outcomes that arrive before it gets the event loop, and those that arrive while
it writes, go in its next transaction: ``BEGIN``, the statements pipelined (one
round trip), ``COMMIT``. No outcome waits for a timer: a lone outcome is
written at once, on its own, as a single statement.

Each caller still gets its own result (its row, or None when its token no
longer holds), and nothing else changes:

- the statements are the same conditional ``UPDATE`` s, run in submission order
  except that they are sorted by task id, so two hosts' batches lock rows in
  one order and cannot deadlock each other;
- a transaction that fails before its ``COMMIT`` committed nothing: every
  outcome in it is tried again alone, so one refused outcome (a value the
  database rejects, a deadlock with a lease renewal) fails only its own caller;
- a connection lost during the ``COMMIT`` leaves every outcome in that
  transaction in doubt, and each caller gets that ``StoreIOError``
  (``in_doubt``), as a single statement would;
- a caller cancelled while it waits does not cancel the write: the other
  callers' outcomes are in the same transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tradestore.errors import StoreError
from tradestore.postgres._database import Database

__all__ = ["OutcomeWriter"]

Row = tuple[Any, ...]
_MAX_BATCH = 256  # statements per transaction: bounds one commit's size and latency


@dataclass(slots=True)
class _Outcome:
    task_id: str
    sql: bytes
    params: list[Any]
    done: asyncio.Future[Row | None] = field(repr=False)


class OutcomeWriter:
    """Writes ``finish_run`` statements, grouping those that arrive together."""

    def __init__(self, database: Database, *, durable: bool,
                 alone: Callable[[bytes, list[Any]], Awaitable[Row | None]]) -> None:
        self._database = database
        self._durable = durable
        self._alone = alone  # one statement on its own: the path of a lone outcome
        self._queue: list[_Outcome] = []
        self._writer: asyncio.Task[None] | None = None
        self.transactions = 0
        """Transactions written so far (a lone outcome counts as one)."""

    async def write(self, task_id: str, sql: bytes, params: list[Any]) -> Row | None:
        """The row ``sql`` returned (None: no row matched), once it is committed."""
        loop = asyncio.get_running_loop()
        item = _Outcome(task_id, sql, params, loop.create_future())
        self._queue.append(item)
        if self._writer is None:
            self._writer = loop.create_task(self._drain(), name="tradestore-outcomes")
        return await asyncio.shield(item.done)

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:_MAX_BATCH], self._queue[_MAX_BATCH:]
                await self._write_batch(batch)
        finally:
            self._writer = None

    async def _write_batch(self, batch: list[_Outcome]) -> None:
        self.transactions += 1
        if len(batch) == 1:
            await self._write_alone(batch[0])
            return
        batch.sort(key=lambda item: item.task_id)  # stable: one task's outcomes keep order
        try:
            rows = await self._together(batch)
        except StoreError as exc:
            if exc.metadata.get("in_doubt"):
                for item in batch:
                    _settle(item, error=exc)
                return
            # Nothing was committed: each outcome on its own, with its own result.
            for item in batch:
                await self._write_alone(item)
            return
        except BaseException as exc:  # cancelled with the loop: the callers hear of it
            for item in batch:
                _settle(item, error=exc)
            raise
        for item, row in zip(batch, rows, strict=True):
            _settle(item, row=row)

    async def _write_alone(self, item: _Outcome) -> None:
        try:
            row = await self._alone(item.sql, item.params)
        except BaseException as exc:
            _settle(item, error=exc)
            if not isinstance(exc, Exception):
                raise
            return
        _settle(item, row=row)

    async def _together(self, batch: list[_Outcome]) -> list[Row | None]:
        async with self._database.transaction("recording runs",
                                              durable=self._durable) as conn:
            async with conn.pipeline():
                cursors = [await conn.execute(item.sql, item.params) for item in batch]
            return [await cur.fetchone() for cur in cursors]


def _settle(item: _Outcome, *, row: Row | None = None,
            error: BaseException | None = None) -> None:
    done = item.done
    if done.done():
        return
    if error is None:
        done.set_result(row)
    elif isinstance(error, asyncio.CancelledError):
        done.cancel()
    else:
        done.set_exception(error)
        done.exception()  # marked retrieved: a caller cancelled meanwhile leaves no warning
