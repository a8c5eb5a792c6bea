"""Running one claimed task and settling its outcome: the scheduler's second half.

:class:`TaskExecution` is mixed into :class:`~tradestore.scheduler.core.Scheduler`.
It takes a task the scheduler has claimed (RUNNING in the store, under a lease
with a fencing token) through its handler, then settles the outcome: written
first (the task's changes and its ``TaskRun`` in one write, which the store
refuses if the lease's token is no longer the task's), and only once stored
counted, logged and emitted. A handler's failure is the task's, never the
scheduler's; a handler cancelled at shutdown still has its outcome written.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tradestore import TradingError, ValidationError
from tradestore.models import RunOutcome
from tradestore.models._json_checks import ensure_json_object
from tradestore.scheduler.context import Handler, HandlerContext, RunInfo
from tradestore.scheduler.events import (
    EventBus,
    EventKind,
    RunStats,
    TaskEvent,
    UnknownTaskTypeError,
)
from tradestore.scheduler.transitions import TaskOutcome, cancelled, failed, succeeded

if TYPE_CHECKING:
    from tradestore import BackgroundTask, TaskStore

__all__ = ["INTERRUPTED", "TaskExecution"]

logger = logging.getLogger(__name__)

INTERRUPTED = "interrupted: the scheduler stopped while the task was running"
_CANCELLED = "cancelled: the scheduler stopped before the task finished"
_LEASE_LOST = "lease lost: another scheduler took the task over; this outcome was not recorded"
_COUNTERS = {
    RunOutcome.SUCCEEDED: "succeeded",
    RunOutcome.RETRY: "retried",
    RunOutcome.FAILED: "failed",
    RunOutcome.CANCELLED: "cancelled",
    RunOutcome.CRASHED: "recovered",
}


class TaskExecution:
    """A claimed task's run and the recording of its outcome (part of ``Scheduler``)."""

    # Set by Scheduler.__init__.
    task_store: TaskStore
    context: HandlerContext
    host: str
    scheduler_id: str
    backoff_base: float
    backoff_max: float
    stats: RunStats
    _handlers: dict[str, Handler]
    _settling: set[str]  # outcome being written: no longer cancellable
    _events: EventBus

    def _now(self) -> datetime:
        raise NotImplementedError  # Scheduler's clock

    async def _execute(self, task: BackgroundTask, info: RunInfo) -> None:
        handler = self._handlers.get(str(task.task_type))
        began = time.perf_counter()
        where: dict[str, Any] = {"started_at": info.started_at, "host": self.host,
                 "scheduler_id": self.scheduler_id, "planned_at": info.planned_at}
        if handler is None:
            error = _message(UnknownTaskTypeError(str(task.task_type)))
            await self._settle(task, self._failed(task, error, began, where, final=True))
            return
        try:
            result = await handler(task, dataclasses.replace(self.context, run=info))
            if result is not None:  # checked as it will be stored, size limit included
                ensure_json_object({**task.metadata, "last_result": result}, "result")
        except asyncio.CancelledError:
            outcome = cancelled(task, _CANCELLED, now=self._now(),
                                duration=time.perf_counter() - began, **where)
            await asyncio.shield(self._settle(task, outcome))
            raise
        except Exception as exc:  # a handler's failure is the task's, never the scheduler's
            if isinstance(exc, ValidationError) and exc.field == "result":
                error = f"the handler returned a result that cannot be stored: {exc.message}"
            else:
                error = _message(exc)
            await self._settle(task, self._failed(task, error, began, where, final=False))
            return
        outcome = succeeded(task, result, now=self._now(),
                            duration=time.perf_counter() - began, **where)
        await self._settle(task, outcome)

    def _failed(self, task: BackgroundTask, error: str, began: float, where: dict[str, Any],
                *, final: bool) -> TaskOutcome:
        return failed(task, error, now=self._now(), duration=time.perf_counter() - began,
                      final=final, backoff_base=self.backoff_base,
                      backoff_max=self.backoff_max, **where)

    async def _settle(self, task: BackgroundTask, outcome: TaskOutcome) -> bool:
        """Persist ``outcome`` (changes and run, one write), then count, log and emit it.

        Returns False, counting the run as lost, if the write failed: the task is
        still RUNNING on disk and crash recovery takes it at the next start. While
        it writes, the lease keeper leaves the run alone: the handler is over, and
        the token decides whether the write lands (a refusal is logged here).
        """
        self._settling.add(task.task_id)
        try:
            return await self._record(task, outcome)
        finally:
            self._settling.discard(task.task_id)

    async def _record(self, task: BackgroundTask, outcome: TaskOutcome) -> bool:
        try:
            stored = await self.task_store.finish_run(
                task.task_id, task.lease_token, outcome.run, **outcome.changes
            )
        except TradingError as exc:
            self.stats.lost += 1
            logger.error("could not record that task %s %s: %s; left to crash recovery",
                         task.task_id, outcome.outcome, exc)
            self._emit("lost", task, error=_message(exc))
            return False
        if stored is None:
            self.stats.lost += 1
            logger.warning(
                "task %s %s, but its lease (token %d) was lost: the store refused the "
                "outcome and changed nothing", task.task_id, outcome.outcome, task.lease_token,
            )
            self._emit("lost", task, error=_LEASE_LOST)
            return False
        setattr(self.stats, _COUNTERS[outcome.outcome],
                getattr(self.stats, _COUNTERS[outcome.outcome]) + 1)
        _log_outcome(task, outcome)
        self._emit(outcome.kind, task, error=outcome.error, next_run=outcome.next_run,
                   duration=outcome.run.duration_seconds, result=outcome.result,
                   run=outcome.run)
        return True

    def _emit(self, kind: EventKind, task: BackgroundTask, **details: Any) -> None:
        if not len(self._events):
            return
        self._events.emit(TaskEvent(
            kind=kind, task_id=task.task_id, task_type=str(task.task_type), at=self._now(),
            scheduler_id=self.scheduler_id, **details,
        ))


def _message(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _log_outcome(task: BackgroundTask, outcome: TaskOutcome) -> None:
    kind = outcome.outcome
    if kind is RunOutcome.SUCCEEDED:
        logger.info("task %s (%s) succeeded", task.task_id, task.task_type)
    elif kind is RunOutcome.FAILED:
        logger.error("task %s (%s) failed: %s", task.task_id, task.task_type, outcome.error)
    elif kind is RunOutcome.RETRY:
        logger.warning(
            "task %s (%s) failed (retry %d of %d at %s): %s", task.task_id, task.task_type,
            outcome.changes["retry_count"], task.max_retries,
            outcome.next_run.isoformat() if outcome.next_run else "-", outcome.error,
        )
    elif kind is RunOutcome.CANCELLED:
        logger.warning("task %s (%s) cancelled at shutdown", task.task_id, task.task_type)
    else:
        logger.warning(
            "task %s was left running by an earlier run; now %s (retry %d of %d)",
            task.task_id, outcome.changes["status"], outcome.changes["retry_count"],
            task.max_retries,
        )
