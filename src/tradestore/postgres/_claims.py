"""The scheduler's claims on PostgreSQL (see ``tradestore.stores.claims``), mixed into TaskStore.

Every method is one transaction, timed by the server's clock (``now`` is
validated and ignored), so hosts whose clocks disagree still agree on leases:

- ``claim_due``: one ``UPDATE ... FROM (SELECT ... FOR UPDATE SKIP LOCKED)``:
  two schedulers claiming at once never get the same task and never wait on
  each other's rows;
- ``renew_leases``: one ``UPDATE`` conditional on owner, status and token;
- ``finish_run``: one ``UPDATE`` conditional on status and token writes the
  outcome and appends the run to the bounded history; outcomes that arrive
  together share one transaction (``_outcomes.py``);
- ``reclaim_expired``: RUNNING rows with no lease or an expired one, taken
  over with a new token (``SKIP LOCKED``: a row being finished is left alone).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import psycopg

from tradestore.errors import ValidationError
from tradestore.models import MAX_TASK_HISTORY, BackgroundTask, TaskRun
from tradestore.models._checks import (
    ensure_aware,
    ensure_finite,
    ensure_identifier,
    ensure_non_negative_int,
    ensure_task_id,
)
from tradestore.postgres._outcomes import OutcomeWriter
from tradestore.postgres._rows import RowCodec
from tradestore.postgres._store import PgStore
from tradestore.stores._task_rules import checked_changes, due_order
from tradestore.stores.claims import LEASE_FIELDS, Reclaimed

__all__ = ["PgClaims"]


def _lease(value: object) -> float:
    seconds = ensure_finite(value, "lease_seconds")
    if seconds <= 0:
        raise ValidationError(f"lease_seconds: expected a number > 0, got {value!r}",
                              field="lease_seconds")
    return seconds


def _check_now(now: datetime | None) -> None:
    if now is not None:
        ensure_aware(now, "now")  # validated; the server's clock times leases


_TAKE = ("status = 'running', lease_owner = %s, "
         "lease_expires_at = now() + make_interval(secs => %s), lease_expires_at_off = 0, "
         "lease_token = t.lease_token + 1")


class PgClaims(PgStore):
    """``TaskClaims`` for the PostgreSQL ``TaskStore``."""

    _codec: ClassVar[RowCodec[BackgroundTask]]
    _outcome_writer: OutcomeWriter | None = None

    @contextlib.asynccontextmanager
    async def _statement(self, action: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection for one writing statement: one round trip instead of three.

        A single statement in autocommit is a transaction of its own (atomic, and
        durable at its commit); ``durable=False`` needs the transaction block for
        its ``SET LOCAL synchronous_commit = off``.
        """
        if not self.durable:
            async with self._write(action) as conn:
                yield conn
            return
        await self._ready()
        self._check_writable()
        async with self.database.connection(action) as conn:
            yield conn

    async def claim_due(
        self, owner: str, *, limit: int, lease_seconds: float, now: datetime | None = None
    ) -> list[BackgroundTask]:
        who = ensure_identifier(owner, "owner")
        lease = _lease(lease_seconds)
        cap = ensure_non_negative_int(limit, "limit")
        _check_now(now)
        codec = self._codec
        select = ", ".join(f"t.{c}" for c in codec.select_list.split(", "))
        sql = (
            f"UPDATE tradestore.tasks t SET {_TAKE}, last_executed = now(), "
            "last_executed_off = 0 FROM (SELECT task_id FROM tradestore.tasks "
            "WHERE is_active AND status = 'pending' AND run_at <= now() "
            "ORDER BY priority_rank, run_at, task_id LIMIT %s FOR UPDATE SKIP LOCKED) due "
            f"WHERE t.task_id = due.task_id RETURNING {select}")
        async with self._statement("claiming due tasks") as conn:
            if not cap:
                return []
            rows = await (await conn.execute(sql.encode(), (who, lease, cap))).fetchall()
        claimed = [codec.load(row) for row in rows]
        claimed.sort(key=due_order)
        return claimed

    async def renew_leases(
        self, owner: str, tokens: Mapping[str, int], *, lease_seconds: float,
        now: datetime | None = None,
    ) -> dict[str, datetime]:
        who = ensure_identifier(owner, "owner")
        lease = _lease(lease_seconds)
        _check_now(now)
        if not isinstance(tokens, Mapping):
            raise ValidationError("tokens: expected a mapping of task id to token",
                                  field="tokens")
        wanted = {ensure_task_id(key, "tokens"): ensure_non_negative_int(value, "tokens")
                  for key, value in tokens.items()}
        async with self._statement("renewing leases") as conn:
            if not wanted:
                return {}
            cur = await conn.execute(
                "UPDATE tradestore.tasks t SET lease_expires_at = now() + make_interval("
                "secs => %s), lease_expires_at_off = 0 FROM unnest(%s::text[], %s::bigint[]) "
                "AS w(task_id, token) WHERE t.task_id = w.task_id AND t.lease_token = w.token "
                "AND t.status = 'running' AND t.lease_owner = %s "
                "RETURNING t.task_id, t.lease_expires_at",
                (lease, list(wanted), list(wanted.values()), who))
            rows = await cur.fetchall()
        return {task_id: expires for task_id, expires in rows}

    async def finish_run(
        self, task_id: str, token: int, run: TaskRun, **changes: Any
    ) -> BackgroundTask | None:
        key = ensure_task_id(task_id)
        fence = ensure_non_negative_int(token, "token")
        record = TaskRun.checked(run, "run")
        values = checked_changes(changes, "finish_run", refused=LEASE_FIELDS)
        codec = self._codec
        cols, marks, params = codec.dump_fields(
            {**values, "lease_owner": None, "lease_expires_at": None})
        sets = ", ".join(f"{c} = {m}" for c, m in zip(cols, marks, strict=True))
        _, _, (run_json,) = codec.dump_fields({"history": [record]})
        # One statement: the token check, the outcome and the run appended to the
        # newest MAX_TASK_HISTORY entries, atomic without a transaction block.
        sql = (f"UPDATE tradestore.tasks SET {sets}, history = (SELECT coalesce(jsonb_agg("
               "e ORDER BY n), '[]'::jsonb) FROM jsonb_array_elements(history || %s::jsonb) "
               "WITH ORDINALITY AS h(e, n) WHERE n > jsonb_array_length(history) + 1 - %s) "
               "WHERE task_id = %s AND status = 'running' AND lease_token = %s "
               f"RETURNING {codec.select_list}")
        await self._ready()
        self._check_writable()
        row = await self._outcomes().write(
            key, sql.encode(), [*params, run_json, MAX_TASK_HISTORY, key, fence])
        return None if row is None else codec.load(row)

    def _outcomes(self) -> OutcomeWriter:
        """The group commit of this store's outcomes (``_outcomes.py``), made at first use."""
        writer = self._outcome_writer
        if writer is None:
            writer = OutcomeWriter(self.database, durable=self.durable, alone=self._finish_alone)
            self._outcome_writer = writer
        return writer

    async def _finish_alone(self, sql: bytes, params: list[Any]) -> tuple[Any, ...] | None:
        async with self._statement("recording a run") as conn:
            return await (await conn.execute(sql, params)).fetchone()

    async def reclaim_expired(
        self, owner: str, *, lease_seconds: float, now: datetime | None = None
    ) -> list[Reclaimed]:
        who = ensure_identifier(owner, "owner")
        lease = _lease(lease_seconds)
        _check_now(now)
        codec = self._codec
        select = ", ".join(f"t.{c}" for c in codec.select_list.split(", "))
        sql = (
            f"UPDATE tradestore.tasks t SET {_TAKE} FROM (SELECT task_id, lease_owner AS "
            "previous FROM tradestore.tasks WHERE status = 'running' AND (lease_owner IS NULL "
            "OR lease_expires_at IS NULL OR lease_expires_at <= now()) "
            "FOR UPDATE SKIP LOCKED) old "
            f"WHERE t.task_id = old.task_id RETURNING {select}, old.previous")
        async with self._statement("reclaiming expired leases") as conn:
            rows = await (await conn.execute(sql.encode(), (who, lease))).fetchall()
        taken = [Reclaimed(codec.load(row[:-1]), row[-1]) for row in rows]
        taken.sort(key=lambda item: item.task.task_id)
        return taken
