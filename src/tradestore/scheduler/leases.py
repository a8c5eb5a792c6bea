"""Keeping the scheduler's leases: renew them while handlers run, take back expired ones."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from tradestore.errors import TradingError

if TYPE_CHECKING:
    from tradestore.scheduler.core import Scheduler

__all__ = ["LeaseKeeper"]

logger = logging.getLogger(__name__)

RENEWALS_PER_LEASE = 3
"""Leases are renewed this many times per ``lease_seconds``, so one missed renewal is harmless."""


class LeaseKeeper:
    """Renews the leases of a scheduler's running tasks every ``lease_seconds / 3``.

    A lease the store no longer grants (taken over after it expired) cancels its
    handler at once: another scheduler owns the task now, and this one's outcome
    would be refused anyway. When a renewal cannot be written at all (a full
    disk, a lost connection) or takes longer than one period, the handlers whose
    lease would lapse before the next attempt are cancelled.

    When a lease lapses is judged by this process's monotonic clock, never by
    comparing its wall clock with the expiry the store returned (on PostgreSQL
    that expiry is the server's time, and this host's clock may be minutes
    off): a lease counts as held until ``lease_seconds`` after the claim or
    renewal that granted it was *sent*, which is never later than the expiry
    the store wrote. A run already writing its outcome is left alone: the
    fencing token decides whether that write lands. Every ``lease_seconds`` it also takes back tasks
    whose lease expired (``Scheduler._reclaim``), renewing first so that its own
    live leases are never among them.
    """

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.expires: dict[str, datetime] = {}
        """The expiry of each lease held, as the store wrote it (for display)."""
        self.deadlines: dict[str, float] = {}
        """When each lease lapses at the latest, on the event loop's (monotonic) clock."""
        self._sent = 0.0
        self._loop: asyncio.Task[None] | None = None

    @property
    def period(self) -> float:
        """Seconds between renewals."""
        return self.scheduler.lease_seconds / RENEWALS_PER_LEASE

    def claiming(self) -> None:
        """Note that a claim is being sent now (its leases count from this moment)."""
        self._sent = asyncio.get_running_loop().time()

    def held(self, task_id: str, expires: datetime | None) -> None:
        """Note a lease just claimed (by the claim sent at the last ``claiming``)."""
        if expires is not None:
            self.expires[task_id] = expires
        self.deadlines[task_id] = self._sent + self.scheduler.lease_seconds

    def released(self, task_id: str) -> None:
        """Forget a lease whose run ended."""
        self.expires.pop(task_id, None)
        self.deadlines.pop(task_id, None)

    def start(self) -> None:
        """Renew (and reclaim) in the background until ``stop``."""
        if self._loop is None or self._loop.done():
            self._loop = asyncio.get_running_loop().create_task(
                self._run(), name=f"tradestore-leases-{self.scheduler.scheduler_id}")

    async def stop(self) -> None:
        """Stop renewing."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_reclaim = loop.time() + self.scheduler.lease_seconds
        while True:
            await asyncio.sleep(self.period)
            await self.renew()
            if loop.time() >= next_reclaim and not self.scheduler.stopping:
                next_reclaim = loop.time() + self.scheduler.lease_seconds
                try:
                    await self.scheduler._reclaim()  # the scheduler's own step, kept in core.py
                except TradingError:
                    logger.warning("could not take back expired leases", exc_info=True)

    async def renew(self) -> None:
        """Renew every running task's lease now; cancel the handlers that lost theirs."""
        sched = self.scheduler
        running = dict(sched._in_flight)  # the keeper is part of the scheduler
        if not running:
            return
        tokens = {info.task_id: info.lease_token for info in running.values()}
        loop = asyncio.get_running_loop()
        sent = loop.time()
        try:
            async with asyncio.timeout(self.period):  # a hung renewal is a failed one
                renewed = await sched.task_store.renew_leases(
                    sched.scheduler_id, tokens, lease_seconds=sched.lease_seconds,
                    now=sched._now())
        except (TradingError, TimeoutError):
            logger.error("could not renew the leases of %d running task(s)", len(tokens),
                         exc_info=True)
            lapse = loop.time() + self.period
            for job, info in running.items():
                if (self.deadlines.get(info.task_id, 0.0) <= lapse and not job.done()
                        and info.task_id not in sched._settling):
                    logger.error("cancelling task %s: its lease lapses before it can be renewed",
                                 info.task_id)
                    job.cancel()
            return
        for job, info in running.items():
            if info.task_id in renewed:
                self.expires[info.task_id] = renewed[info.task_id]
                self.deadlines[info.task_id] = sent + sched.lease_seconds
            elif not job.done() and info.task_id not in sched._settling:
                logger.error("task %s lost its lease (token %d): cancelling its handler",
                             info.task_id, info.lease_token)
                job.cancel()
