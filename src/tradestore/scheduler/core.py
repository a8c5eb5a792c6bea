"""The scheduler: runs the due tasks of a ``TaskStore`` through handlers registered per type.

Every status change goes through ``TaskStore.update`` before the scheduler moves
on, so a crash at any point leaves the store telling the truth: a task is
PENDING (waiting), RUNNING (started, not finished: recovered at the next start),
SUCCEEDED or FAILED.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tradestore import StoreError, TaskStatus
from tradestore.scheduler.context import Handler, HandlerContext
from tradestore.scheduler.events import EventKind, RunStats, TaskEvent, UnknownTaskTypeError
from tradestore.scheduler.shutdown import relay_event, stop_signals
from tradestore.scheduler.timing import Clock, utc_now
from tradestore.scheduler.transitions import after_crash, after_failure, after_success

if TYPE_CHECKING:
    from tradestore import BackgroundTask, TaskStore

__all__ = ["Scheduler"]

logger = logging.getLogger(__name__)

_INTERRUPTED = "interrupted: the scheduler stopped while the task was running"
_CANCELLED = "cancelled: the scheduler stopped before the task finished"


class Scheduler:
    """Runs the due tasks of ``task_store`` with at most ``concurrency`` at once.

    - Due tasks start in ``TaskStore.due_tasks`` order (priority, run time, id).
    - PENDING -> RUNNING -> SUCCEEDED / FAILED, each change persisted first.
    - A recurring task (``interval_seconds``) goes back to PENDING with its next
      run on its grid after now: missed runs are run once, not replayed.
    - A failure is retried after ``min(backoff_max, backoff_base * 2 ** (n - 1))``
      seconds (n = the retry number) up to ``max_retries`` times, then the task
      is FAILED with ``last_error`` kept. A task whose type has no handler fails
      at once.
    - At start, tasks left RUNNING by a crash go back to PENDING as a retry.
    - ``request_stop()`` (and SIGINT / SIGTERM during ``run``) starts no new task
      and lets running ones finish within ``grace_period`` seconds; the rest are
      cancelled and put back to PENDING.

    ``clock`` (default: ``context.clock``, else UTC now) decides what is due;
    ``poll_interval`` and ``grace_period`` are real seconds.
    """

    def __init__(
        self,
        task_store: TaskStore,
        *,
        handlers: Mapping[str, Handler] | None = None,
        context: HandlerContext | None = None,
        concurrency: int = 4,
        clock: Clock | None = None,
        poll_interval: float = 1.0,
        backoff_base: float = 5.0,
        backoff_max: float = 300.0,
        grace_period: float = 10.0,
        on_event: Callable[[TaskEvent], None] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency!r}")
        for name, value in (
            ("poll_interval", poll_interval),
            ("backoff_base", backoff_base),
            ("backoff_max", backoff_max),
            ("grace_period", grace_period),
        ):
            if not value >= 0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        self.task_store = task_store
        self.context = context if context is not None else HandlerContext()
        if self.context.tasks is None:
            self.context.tasks = task_store
        self.clock: Clock = clock or (self.context.clock if context is not None else utc_now)
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.grace_period = grace_period
        self.on_event = on_event
        self.stats = RunStats()
        self._handlers: dict[str, Handler] = {}
        for task_type, handler in (handlers or {}).items():
            self.register(task_type, handler)
        self._in_flight: dict[asyncio.Task[None], str] = {}
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._recovered = False

    # -- configuration -------------------------------------------------------

    def register(self, task_type: str, handler: Handler) -> None:
        """Run tasks of ``task_type`` with ``handler`` (replacing any previous one)."""
        key = str(task_type)
        if not key:
            raise ValueError("task_type must be a non-empty string")
        self._handlers[key] = handler

    @property
    def handlers(self) -> dict[str, Handler]:
        """A copy of the registered handlers by task type."""
        return dict(self._handlers)

    @property
    def in_flight(self) -> list[str]:
        """Ids of the tasks running now."""
        return list(self._in_flight.values())

    @property
    def stopping(self) -> bool:
        """Whether a stop was requested."""
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Stop gracefully: start nothing new; ``run`` returns once running tasks end.

        Call it from the event loop's thread (use ``loop.call_soon_threadsafe``
        from another thread).
        """
        if not self._stop.is_set():
            logger.info("stop requested; %d task(s) in flight", len(self._in_flight))
        self._stop.set()
        self._wake.set()

    # -- running -------------------------------------------------------------

    async def recover(self) -> int:
        """Put the tasks left RUNNING (by a crash) back to PENDING as a retry; return how many.

        Runs once per scheduler; ``run`` and ``run_once`` call it first.
        """
        if self._recovered:
            return 0
        self._recovered = True
        count = 0
        for task in await self.task_store.list_tasks():
            if task.status != TaskStatus.RUNNING:
                continue
            changes = after_crash(task, _INTERRUPTED)
            status, retries = changes["status"], changes["retry_count"]
            await self.task_store.update(task.task_id, **changes)
            count += 1
            self.stats.recovered += 1
            logger.warning(
                "task %s was left running by an earlier run; now %s (retry %d of %d)",
                task.task_id,
                status,
                retries,
                task.max_retries,
            )
            self._emit("recovered", task, error=_INTERRUPTED)
        return count

    async def run_once(self) -> RunStats:
        """Run every task due now (and retries that come due meanwhile) to the end.

        For tests and cron-style use: returns once nothing is due or running.
        """
        await self.recover()
        await self._fill_slots()
        while self._in_flight:
            await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
            await self._fill_slots()
        return self.stats

    tick = run_once

    async def run(
        self,
        *,
        stop_event: asyncio.Event | None = None,
        duration: float | None = None,
        handle_signals: bool = True,
    ) -> RunStats:
        """Run until ``request_stop()``, ``stop_event`` is set, ``duration`` seconds pass,
        or SIGINT / SIGTERM arrives (with ``handle_signals`` in the main thread).
        """
        loop = asyncio.get_running_loop()
        deadline = None if duration is None else loop.time() + max(0.0, duration)
        with (
            stop_signals(loop, self._on_signal, enabled=handle_signals),
            relay_event(stop_event, self.request_stop),
        ):
            await self.recover()
            while not self._stop.is_set():
                await self._fill_slots()
                timeout = self.poll_interval
                if deadline is not None:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        logger.info("run duration reached")
                        break
                    timeout = min(timeout, remaining)
                self._wake.clear()
                if self._stop.is_set():
                    break
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._wake.wait()
            await self._drain()
        return self.stats

    # -- internals -----------------------------------------------------------

    def _on_signal(self, sig: signal.Signals) -> None:
        if self._stop.is_set():
            logger.warning("%s again: cancelling running tasks now", sig.name)
            for task in self._in_flight:
                task.cancel()
            return
        logger.info("%s received: stopping gracefully", sig.name)
        self.request_stop()

    async def _fill_slots(self) -> None:
        """Start due tasks, in ``due_tasks`` order, while slots are free."""
        if self._stop.is_set():
            return
        free = self.concurrency - len(self._in_flight)
        if free <= 0:
            return
        now = self.clock()
        for task in await self.task_store.due_tasks(now, limit=free):
            if self._stop.is_set():
                return
            started = await self.task_store.update(
                task.task_id, status=TaskStatus.RUNNING, last_executed=now
            )
            self.stats.started += 1
            self.stats.by_type[started.task_type] = self.stats.by_type.get(started.task_type, 0) + 1
            self._emit("started", started)
            job = asyncio.get_running_loop().create_task(
                self._execute(started), name=f"tradestore-task-{started.task_id}"
            )
            self._in_flight[job] = started.task_id
            job.add_done_callback(self._finished)

    def _finished(self, job: asyncio.Task[None]) -> None:
        self._in_flight.pop(job, None)
        self._wake.set()
        if not job.cancelled() and job.exception() is not None:
            logger.error("recording the outcome of a task failed", exc_info=job.exception())

    async def _execute(self, task: BackgroundTask) -> None:
        handler = self._handlers.get(str(task.task_type))
        began = time.perf_counter()
        if handler is None:
            await self._fail(task, UnknownTaskTypeError(str(task.task_type)), began, final=True)
            return
        try:
            result = await handler(task, self.context)
        except asyncio.CancelledError:
            await asyncio.shield(self._cancelled(task))
            raise
        except Exception as exc:  # a handler's failure is the task's, never the scheduler's
            await self._fail(task, exc, began, final=False)
            return
        await self._succeed(task, result, began)

    async def _succeed(
        self, task: BackgroundTask, result: dict[str, Any] | None, began: float
    ) -> None:
        changes, next_run = after_success(task, result, self.clock())
        await self._persist(task, changes)
        self.stats.succeeded += 1
        logger.info("task %s (%s) succeeded", task.task_id, task.task_type)
        self._emit(
            "succeeded",
            task,
            next_run=next_run,
            duration=time.perf_counter() - began,
            result=result,
        )

    async def _fail(
        self, task: BackgroundTask, exc: BaseException, began: float, *, final: bool
    ) -> None:
        message = f"{type(exc).__name__}: {exc}"
        changes, next_run, kind = after_failure(
            task, message, self.clock(), final=final, backoff_base=self.backoff_base,
            backoff_max=self.backoff_max,
        )
        retries = changes["retry_count"]
        if next_run is None:
            self.stats.failed += 1
            logger.error("task %s (%s) failed: %s", task.task_id, task.task_type, message)
        else:
            self.stats.retried += 1
            logger.warning(
                "task %s (%s) failed (retry %d of %d at %s): %s",
                task.task_id,
                task.task_type,
                retries,
                task.max_retries,
                next_run.isoformat(),
                message,
            )
        await self._persist(task, changes)
        self._emit(
            kind, task, error=message, next_run=next_run, duration=time.perf_counter() - began
        )

    async def _cancelled(self, task: BackgroundTask) -> None:
        await self._persist(task, {"status": TaskStatus.PENDING, "last_error": _CANCELLED})
        self.stats.cancelled += 1
        logger.warning("task %s (%s) cancelled at shutdown", task.task_id, task.task_type)
        self._emit("cancelled", task, error=_CANCELLED)

    async def _persist(self, task: BackgroundTask, changes: dict[str, Any]) -> None:
        try:
            await self.task_store.update(task.task_id, **changes)
        except StoreError:
            # The task stays RUNNING on disk and is recovered at the next start.
            logger.exception("could not record the outcome of task %s", task.task_id)
            raise

    async def _drain(self) -> None:
        """Give running tasks ``grace_period`` seconds, then cancel the rest."""
        if not self._in_flight:
            return
        logger.info(
            "waiting up to %.1fs for %d running task(s)", self.grace_period, len(self._in_flight)
        )
        _, late = await asyncio.wait(set(self._in_flight), timeout=self.grace_period)
        for job in late:
            job.cancel()
        if late:
            await asyncio.wait(late)

    def _emit(self, kind: EventKind, task: BackgroundTask, **details: Any) -> None:
        if self.on_event is None:
            return
        event = TaskEvent(
            kind=kind,
            task_id=task.task_id,
            task_type=str(task.task_type),
            at=self.clock(),
            **details,
        )
        try:
            self.on_event(event)
        except Exception:  # a broken progress display must not stop the scheduler
            logger.exception("the on_event callback failed")
