"""The heartbeat part of TaskStore: one record per scheduler run, in ``tasks/heartbeats/``.

All heartbeats live in one small document keyed by ``scheduler_id``: there are
only as many as scheduler runs not yet pruned, and each beat rewrites one record.
"""

from __future__ import annotations

from datetime import datetime

from tradestore.models import SchedulerHeartbeat
from tradestore.persistence import Collection, Txn

__all__ = ["HeartbeatBook"]

_DOC = "beats"


class HeartbeatBook:
    """Heartbeats in ``coll``; callers pass validated input and own the store lifecycle.

    Every method raises ``StoreError`` when the document cannot be read or a write fails.
    """

    def __init__(self, coll: Collection[SchedulerHeartbeat]) -> None:
        self.coll = coll

    async def record(self, beat: SchedulerHeartbeat) -> None:
        """Insert or replace the heartbeat of ``beat.scheduler_id``."""

        def apply(txn: Txn[SchedulerHeartbeat]) -> None:
            txn.put(_DOC, beat.scheduler_id, beat)

        await self.coll.mutate((_DOC,), apply)

    async def all(self) -> list[SchedulerHeartbeat]:
        """Copies of every heartbeat, newest ``last_beat`` first (then by scheduler id)."""
        beats = [beat.clone() for beat in (await self.coll.records(_DOC)).values()]
        beats.sort(key=lambda b: b.scheduler_id)
        beats.sort(key=lambda b: b.last_beat, reverse=True)
        return beats

    async def delete(self, scheduler_id: str) -> bool:
        """Remove one heartbeat; True if it existed."""

        def apply(txn: Txn[SchedulerHeartbeat]) -> bool:
            if txn.get(_DOC, scheduler_id) is None:
                return False
            txn.delete(_DOC, scheduler_id)
            return True

        return await self.coll.mutate((_DOC,), apply)

    async def prune(self, before: datetime) -> int:
        """Remove the heartbeats whose last beat is older than ``before``; return how many."""

        def apply(txn: Txn[SchedulerHeartbeat]) -> int:
            old = [key for key, beat in txn.records(_DOC).items() if beat.last_beat < before]
            for key in old:
                txn.delete(_DOC, key)
            return len(old)

        return await self.coll.mutate((_DOC,), apply)
