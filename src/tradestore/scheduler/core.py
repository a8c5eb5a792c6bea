"""The scheduler: runs the due tasks of a ``TaskStore`` through handlers registered per type.

Every status change goes through the store before the scheduler moves on, so a
crash at any point leaves the store telling the truth: a task is PENDING
(waiting), RUNNING (started, not finished: recovered at the next start),
SUCCEEDED or FAILED. Every outcome (``TaskOutcome``) is durable, with its
``TaskRun`` in the task's history, before it is counted, logged or emitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from tradestore import StoreClosedError, StoreError
from tradestore.scheduler.clocks import ServerClock, ServerTimed
from tradestore.scheduler.context import Handler, HandlerContext, RunInfo
from tradestore.scheduler.events import (
    EventBus,
    RunStats,
    Subscriber,
    TaskEvent,
)
from tradestore.scheduler.execution import INTERRUPTED, TaskExecution
from tradestore.scheduler.heartbeat import Heartbeat, new_scheduler_id
from tradestore.scheduler.leases import LeaseKeeper
from tradestore.scheduler.shutdown import relay_event, stop_signals
from tradestore.scheduler.timing import Clock, utc_now
from tradestore.scheduler.transitions import (
    crashed,
    planned_time,
)
from tradestore.scheduler.wakeups import WakeupRelay
from tradestore.stores.claims import TaskClaims

if TYPE_CHECKING:
    from tradestore import BackgroundTask, TaskStore

__all__ = ["Scheduler"]

logger = logging.getLogger(__name__)


class Scheduler(TaskExecution):
    """Runs the due tasks of ``task_store`` with at most ``concurrency`` at once.

    - Due tasks start in ``TaskStore.due_tasks`` order (priority, run time, id).
    - PENDING -> RUNNING -> SUCCEEDED / FAILED, each change persisted first; each
      outcome appends a ``TaskRun`` to the task's history in the same write.
    - A recurring task (``interval_seconds``) goes back to PENDING with its next
      run on its grid after now: missed runs are run once, not replayed.
    - A failure is retried after ``min(backoff_max, backoff_base * 2 ** (n - 1))``
      seconds (n = the retry number) up to ``max_retries`` times, then the task
      is FAILED with ``last_error`` kept. A task whose type has no handler fails
      at once.
    - Tasks are claimed through the store's ``TaskClaims`` (one atomic step marks
      them RUNNING under a lease of ``lease_seconds`` with a new fencing token);
      leases are renewed while handlers run, a handler whose lease was lost is
      cancelled at once, and every outcome write names the token, so a run
      taken over by another scheduler changes nothing.
    - At start, tasks left RUNNING by a crash go back to PENDING as a retry
      (``reclaim_expired``); expired leases are taken back every ``lease_seconds``.
    - ``request_stop()``, a set ``stop_event``, the end of ``duration`` and
      SIGINT / SIGTERM during ``run`` all stop the same way: no new task starts,
      running ones get ``grace_period`` seconds, the rest are cancelled and put
      back to PENDING. A second signal cancels them at once.
    - In ``run``, a claim that fails with a ``StoreError`` (a full disk) is logged
      and tried again at the next poll; a closed store ends the run.
    - While ``run`` runs, a ``SchedulerHeartbeat`` is written every
      ``heartbeat_interval`` seconds, and marked stopped at a clean stop.
    - Events go to every subscriber (``subscribe``, and ``on_event``).

    - A store that announces due tasks (``wakeups()``: PostgreSQL's LISTEN/NOTIFY)
      wakes ``run`` at once; the poll every ``poll_interval`` stays the fallback.

    Guarantee: while a lease is live, one scheduler (of any number, on any hosts
    sharing the store) runs the task; a run cut short by a crash is run again
    once its lease has expired (at least once). Handlers get
    ``ctx.run.idempotency_key`` to make their side effects idempotent.

    ``clock`` (default: ``context.clock``, else UTC now) decides what is due and
    times the runs on the file backend. On a store with a server clock
    (PostgreSQL: ``server_time()``) the server's clock does both, so hosts whose
    clocks disagree still agree (``clocks.py``). ``poll_interval``,
    ``grace_period`` and ``heartbeat_interval`` are real seconds.
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
        heartbeat_interval: float = 5.0,
        lease_seconds: float = 30.0,
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
        for name, value in (("heartbeat_interval", heartbeat_interval),
                            ("lease_seconds", lease_seconds)):
            if not 0 < value < float("inf"):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if not isinstance(task_store, TaskClaims):
            raise TypeError(f"{type(task_store).__name__} does not provide the scheduler's "
                            "claims (tradestore.stores.claims.TaskClaims)")
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
        self.heartbeat_interval = float(heartbeat_interval)
        self.lease_seconds = float(lease_seconds)
        self.stats = RunStats()
        self.host = socket.gethostname()
        self.scheduler_id = new_scheduler_id(self.host)
        """Unique per scheduler object: ``"<host>:<pid>:<random hex>"``."""
        self.stop_reason: str | None = None
        self._events = EventBus()
        self._on_event: Callable[[TaskEvent], None] | None = None
        self._drop_on_event: Callable[[], None] | None = None
        self.on_event = on_event
        self._handlers: dict[str, Handler] = {}
        for task_type, handler in (handlers or {}).items():
            self.register(task_type, handler)
        self._in_flight: dict[asyncio.Task[None], RunInfo] = {}
        self._settling: set[str] = set()  # outcome being written: no longer cancellable
        self._leases = LeaseKeeper(self)
        # A store with a server clock (PostgreSQL) times the runs; see clocks.py.
        self._server_clock = (ServerClock(task_store, utc_now)
                              if isinstance(task_store, ServerTimed) else None)
        self._wakeups = WakeupRelay(task_store, self.wake,
                                    name=f"tradestore-wakeups-{self.scheduler_id}")
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._recovered = False
        self._heartbeat = Heartbeat(
            task_store, scheduler_id=self.scheduler_id, host=self.host,
            interval=self.heartbeat_interval, clock=self._now, running=lambda: self.in_flight,
        )

    # -- configuration -------------------------------------------------------

    def register(self, task_type: str, handler: Handler) -> None:
        """Run tasks of ``task_type`` with ``handler`` (replacing any previous one)."""
        key = str(task_type)
        if not key:
            raise ValueError("task_type must be a non-empty string")
        self._handlers[key] = handler

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` for every ``TaskEvent``; returns an unsubscribe function.

        Any number of subscribers, called in subscription order (``on_event``
        first). A sync callback runs inline and should be quick; an async one
        is scheduled as a task, so it never holds the scheduler up (those still
        running at the end of ``run`` get ``grace_period`` seconds). A callback
        that raises is logged and stays subscribed; the scheduler carries on.
        """
        return self._events.subscribe(callback)

    @property
    def on_event(self) -> Callable[[TaskEvent], None] | None:
        """The subscriber given as ``on_event=`` (assign to replace it; None removes it)."""
        return self._on_event

    @on_event.setter
    def on_event(self, callback: Callable[[TaskEvent], None] | None) -> None:
        if self._drop_on_event is not None:
            self._drop_on_event()
            self._drop_on_event = None
        self._on_event = callback
        if callback is not None:
            self._drop_on_event = self._events.subscribe(callback)

    @property
    def handlers(self) -> dict[str, Handler]:
        """A copy of the registered handlers by task type."""
        return dict(self._handlers)

    @property
    def in_flight(self) -> list[str]:
        """Ids of the tasks running now."""
        return [info.task_id for info in self._in_flight.values()]

    @property
    def stopping(self) -> bool:
        """Whether a stop was requested."""
        return self._stop.is_set()

    def wake(self) -> None:
        """Look for due tasks now instead of at the next poll (e.g. after "run now").

        Call it from the event loop's thread (``loop.call_soon_threadsafe(s.wake)``
        from another thread). A no-op once stopping.
        """
        self._wake.set()

    def request_stop(self) -> None:
        """Stop gracefully: start nothing new; ``run`` returns once running tasks end.

        Call it from the event loop's thread (use ``loop.call_soon_threadsafe``
        from another thread).
        """
        self._stop_for("stop requested")

    # -- running -------------------------------------------------------------

    async def recover(self) -> int:
        """Put the tasks left RUNNING (by a crash) back to PENDING as a retry; return how many.

        Runs once per scheduler; ``run`` and ``run_once`` call it first.
        """
        if self._recovered:
            return 0
        self._recovered = True
        return await self._reclaim()

    async def _reclaim(self) -> int:
        """Take over the RUNNING tasks no live scheduler holds, recording each as crashed."""
        now = self._now()
        count = 0
        for task, previous in await self.task_store.reclaim_expired(
            self.scheduler_id, lease_seconds=self.lease_seconds, now=now
        ):
            outcome = crashed(task, INTERRUPTED, now=now, scheduler_id=previous or "")
            if await self._settle(task, outcome):
                count += 1
        return count

    async def run_once(self) -> RunStats:
        """Run every task due now (and retries that come due meanwhile) to the end.

        For tests and cron-style use: returns once nothing is due or running.
        Writes a heartbeat at the start and a stopped one at the end.
        """
        await self._sync_clock()
        await self._heartbeat.beat()
        self._leases.start()
        try:
            await self.recover()
            await self._fill_slots()
            while self._in_flight:
                await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
                await self._fill_slots()
        finally:
            await self._leases.stop()
            await self._heartbeat.stop()
        await self._events.drain(self.grace_period)
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
        deadline = (None if duration is None else
                    loop.call_later(max(0.0, duration), self._stop_for, "run duration reached"))
        try:
            with (
                stop_signals(loop, self._on_signal, enabled=handle_signals),
                relay_event(stop_event, lambda: self._stop_for("stop event set")),
            ):
                await self._sync_clock()
                self._heartbeat.start()
                self._leases.start()
                self._wakeups.start()
                await self.recover()
                while not self._stop.is_set():
                    self._wake.clear()  # before looking: a wake() from now on is kept
                    await self._poll()
                    if self._stop.is_set():
                        break
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.poll_interval):
                            await self._wake.wait()
                await self._drain()
        finally:
            if deadline is not None:
                deadline.cancel()
            await self._wakeups.stop()
            await self._leases.stop()
            await self._heartbeat.stop()
        await self._events.drain(self.grace_period)
        return self.stats

    # -- internals -----------------------------------------------------------

    def _now(self) -> datetime:
        """The time that decides runs: the store server's clock if it has one, else ``clock``."""
        return self._server_clock() if self._server_clock is not None else self.clock()

    async def _sync_clock(self) -> None:
        """Read the server's clock again when the last reading is old (see clocks.py)."""
        if self._server_clock is not None:
            await self._server_clock.sync()

    def _stop_for(self, reason: str, *, now: bool = False) -> None:
        """Every stop path ends here: start nothing new; with ``now``, cancel running tasks."""
        if self._stop.is_set():
            if now:
                logger.warning("%s again: cancelling running tasks now", reason)
                for job in self._in_flight:
                    job.cancel()
            return
        self.stop_reason = reason
        logger.info("stopping (%s); %d task(s) in flight", reason, len(self._in_flight))
        self._stop.set()
        self._wake.set()

    def _on_signal(self, sig: signal.Signals) -> None:
        self._stop_for(f"{sig.name} received", now=True)

    async def _poll(self) -> None:
        """Start due tasks; a store that fails to claim (a full disk) is retried next poll."""
        try:
            await self._sync_clock()
            await self._fill_slots()
        except StoreClosedError:
            raise
        except StoreError:
            logger.exception("could not claim due tasks; trying again in %.1fs",
                             self.poll_interval)

    async def _fill_slots(self) -> None:
        """Start due tasks, in ``due_tasks`` order, while slots are free."""
        if self._stop.is_set():
            return
        free = self.concurrency - len(self._in_flight)
        if free <= 0:
            return
        self._leases.claiming()
        claimed = await self.task_store.claim_due(
            self.scheduler_id, limit=free, lease_seconds=self.lease_seconds, now=self._now()
        )
        for task in claimed:  # claiming changed nothing planned_time reads
            self._launch(task, planned_time(task))

    def _launch(self, task: BackgroundTask, planned: datetime) -> None:
        """Count, report and start the handler of a task now RUNNING in the store."""
        info = RunInfo(
            task_id=task.task_id, planned_at=planned, started_at=task.last_executed or self._now(),
            attempt=task.retry_count + 1, scheduler_id=self.scheduler_id, host=self.host,
            lease_token=task.lease_token,
        )
        self.stats.started += 1
        self.stats.by_type[task.task_type] = self.stats.by_type.get(task.task_type, 0) + 1
        self._emit("started", task)
        job = asyncio.get_running_loop().create_task(
            self._execute(task, info), name=f"tradestore-task-{task.task_id}"
        )
        self._in_flight[job] = info
        self._leases.held(task.task_id, task.lease_expires_at)
        job.add_done_callback(self._finished)

    def _finished(self, job: asyncio.Task[None]) -> None:
        info = self._in_flight.pop(job, None)
        if info is not None:
            self._leases.released(info.task_id)
        self._wake.set()
        if not job.cancelled() and job.exception() is not None:
            logger.error("recording the outcome of a task failed", exc_info=job.exception())

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
