"""TaskStore's claims (tradestore.stores.claims.TaskClaims) on the file backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tradestore import (
    BackgroundTask,
    RunOutcome,
    StoreError,
    TaskPriority,
    TaskRun,
    TaskStatus,
    TaskStore,
    ValidationError,
)
from tradestore.stores.claims import Reclaimed, TaskClaims

T0 = datetime(2025, 6, 2, 14, 30, tzinfo=UTC)
LEASE = 30.0
NAIVE = datetime(2025, 1, 1)  # naive on purpose


def task(task_id: str, **changes: Any) -> BackgroundTask:
    fields: dict[str, Any] = {"task_id": task_id, "task_type": "job",
                              "priority": TaskPriority.MEDIUM, "execute_at": T0}
    fields.update(changes)
    return BackgroundTask(**fields)


def run(outcome: RunOutcome = RunOutcome.SUCCEEDED) -> TaskRun:
    return TaskRun(started_at=T0, finished_at=T0, outcome=outcome, duration_seconds=0.5,
                   scheduler_id="me")


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def journals(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "tasks").glob("journal-*.json"))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    async with TaskStore(tmp_path, durable=False, clock=Clock()) as s:
        yield s


def test_task_store_provides_the_claims_contract(tmp_path: Path) -> None:
    assert isinstance(TaskStore(tmp_path), TaskClaims)


async def test_claim_takes_due_tasks_in_order_in_one_commit(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, clock=Clock()) as store:
        await store.save_many([
            task("low", priority=TaskPriority.LOW), task("late", execute_at=T0 + timedelta(1)),
            task("b"), task("a"), task("crit", priority=TaskPriority.CRITICAL),
            task("off", is_active=False), task("done", status=TaskStatus.SUCCEEDED),
        ])
        await store.flush()
        before = journals(tmp_path)
        claimed = await store.claim_due("me", limit=3, lease_seconds=LEASE, now=T0)
        assert len(set(journals(tmp_path)) - set(before)) == 1
        assert [t.task_id for t in claimed] == ["crit", "a", "b"]
        for t in claimed:
            assert (t.status, t.lease_owner, t.lease_token) == (TaskStatus.RUNNING, "me", 1)
            assert t.lease_expires_at == T0 + timedelta(seconds=LEASE)
            assert t.last_executed == T0
        stored = await store.get("a")
        assert stored == claimed[1]
        again = await store.claim_due("me", limit=10, lease_seconds=LEASE, now=T0)
        assert [t.task_id for t in again] == ["low"]  # "late" is not due, others taken
        assert await store.claim_due("me", limit=0, lease_seconds=LEASE) == []


async def test_concurrent_claims_never_share_a_task(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, clock=Clock()) as store:
        await store.save_many([task(f"t{i:02d}") for i in range(40)])
        batches = await asyncio.gather(*(
            store.claim_due(f"owner-{n}", limit=3, lease_seconds=LEASE) for n in range(16)))
        ids = [t.task_id for batch in batches for t in batch]
        assert len(ids) == len(set(ids)) == 40
        for n, batch in enumerate(batches):
            for t in batch:
                stored = await store.get(t.task_id)
                assert stored is not None
                assert stored.lease_owner == f"owner-{n}"


async def test_bad_claim_arguments_change_nothing(store: TaskStore, tmp_path: Path) -> None:
    await store.save(task("a"))
    await store.flush()
    on_disk = files(tmp_path)
    bad: list[dict[str, Any]] = [
        {"owner": "", "limit": 1, "lease_seconds": LEASE},
        {"owner": "a/b", "limit": 1, "lease_seconds": LEASE},
        {"owner": "me", "limit": -1, "lease_seconds": LEASE},
        {"owner": "me", "limit": 1, "lease_seconds": 0},
        {"owner": "me", "limit": 1, "lease_seconds": float("nan")},
        {"owner": "me", "limit": 1, "lease_seconds": LEASE, "now": NAIVE},
    ]
    for kwargs in bad:
        with pytest.raises(ValidationError):
            await store.claim_due(**kwargs)
    with pytest.raises(ValidationError):
        await store.renew_leases("me", {"a": -1}, lease_seconds=LEASE)
    with pytest.raises(ValidationError):
        await store.renew_leases("me", {"../a": 1}, lease_seconds=LEASE)
    with pytest.raises(ValidationError):
        await store.reclaim_expired("bad owner", lease_seconds=LEASE)
    await store.flush()
    assert files(tmp_path) == on_disk


async def test_renew_only_the_leases_still_held(store: TaskStore) -> None:
    await store.save_many([task("a"), task("b"), task("c")])
    claimed = {t.task_id: t for t in await store.claim_due("me", limit=3, lease_seconds=LEASE)}
    await store.delete("c")
    later = T0 + timedelta(seconds=20)
    renewed = await store.renew_leases(
        "me", {"a": claimed["a"].lease_token, "b": claimed["b"].lease_token + 5, "c": 1},
        lease_seconds=LEASE, now=later)
    assert renewed == {"a": later + timedelta(seconds=LEASE)}
    assert await store.renew_leases("someone-else", {"a": 1}, lease_seconds=LEASE) == {}
    a, b = await store.get("a"), await store.get("b")
    assert a is not None
    assert b is not None
    assert a.lease_expires_at == later + timedelta(seconds=LEASE)
    assert b.lease_expires_at == T0 + timedelta(seconds=LEASE)


async def test_finish_writes_outcome_and_run_once_and_refuses_a_stale_token(
    tmp_path: Path,
) -> None:
    async with TaskStore(tmp_path, clock=Clock()) as store:
        await store.save(task("a", max_retries=5))
        [mine] = await store.claim_due("me", limit=1, lease_seconds=LEASE)
        await store.flush()
        before = journals(tmp_path)
        done = await store.finish_run("a", mine.lease_token, run(RunOutcome.RETRY),
                                      status=TaskStatus.PENDING, retry_count=1,
                                      last_error="boom")
        assert len(set(journals(tmp_path)) - set(before)) == 1  # outcome + run: one commit
        assert done is not None
        assert (done.status, done.retry_count, done.last_error) == (TaskStatus.PENDING, 1,
                                                                    "boom")
        assert [r.outcome for r in done.history] == [RunOutcome.RETRY]
        assert (done.lease_owner, done.lease_expires_at, done.lease_token) == (None, None, 1)
        await store.flush()
        on_disk = files(tmp_path)
        # The same token again (a duplicate write), or any other one: refused, nothing changes.
        for token in (mine.lease_token, mine.lease_token + 1):
            assert await store.finish_run("a", token, run(), status=TaskStatus.SUCCEEDED) is None
        assert await store.finish_run("missing", 1, run()) is None
        await store.flush()
        assert files(tmp_path) == on_disk
    async with TaskStore(tmp_path) as store:
        stored = await store.get("a")
        assert stored == done


async def test_finish_refuses_store_managed_fields_and_bad_values(store: TaskStore) -> None:
    await store.save(task("a"))
    [mine] = await store.claim_due("me", limit=1, lease_seconds=LEASE)
    bad: list[dict[str, Any]] = [{"history": []}, {"lease_token": 9}, {"lease_owner": "x"},
                                 {"nope": 1}, {"retry_count": -1}]
    for changes in bad:
        with pytest.raises(ValidationError):
            await store.finish_run("a", mine.lease_token, run(), **changes)
    with pytest.raises(ValidationError):
        await store.finish_run("a", mine.lease_token, "not a run")  # type: ignore[arg-type]  # bad on purpose
    stored = await store.get("a")
    assert stored == mine  # still claimed, untouched


async def test_reclaim_takes_expired_and_orphaned_runs_and_fences_the_old_holder(
    tmp_path: Path,
) -> None:
    async with TaskStore(tmp_path, durable=False) as store:
        await store.save_many([task("old-process"), task("by-hand", status=TaskStatus.RUNNING)])
        await store.claim_due("dead-owner", limit=1, lease_seconds=3600, now=T0)
    async with TaskStore(tmp_path, durable=False) as store:  # a new process
        await store.save_many([task("live"), task("short")])
        [live] = await store.claim_due("me", limit=1, lease_seconds=3600, now=T0)
        [short] = await store.claim_due("other", limit=1, lease_seconds=10, now=T0)
        assert (live.task_id, short.task_id) == ("live", "short")
        taken = await store.reclaim_expired("me", lease_seconds=LEASE, now=T0 + timedelta(
            seconds=10))
        assert [(r.task.task_id, r.previous_owner) for r in taken] == [
            ("by-hand", None), ("old-process", "dead-owner"), ("short", "other")]
        assert all(isinstance(r, Reclaimed) for r in taken)
        for r in taken:
            assert (r.task.status, r.task.lease_owner) == (TaskStatus.RUNNING, "me")
        fenced = {r.task.task_id: r.task for r in taken}
        assert fenced["short"].lease_token == short.lease_token + 1
        # The old holder's late outcome is refused; the new holder's lands.
        assert await store.finish_run("short", short.lease_token, run()) is None
        assert await store.renew_leases("other", {"short": short.lease_token},
                                        lease_seconds=LEASE) == {}
        ok = await store.finish_run("short", fenced["short"].lease_token,
                                    run(RunOutcome.CRASHED), status=TaskStatus.PENDING)
        assert ok is not None
        assert [r.outcome for r in ok.history] == [RunOutcome.CRASHED]
        still = await store.get("live")
        assert still == live  # a live lease of this process is never taken
        assert await store.reclaim_expired("me", lease_seconds=LEASE, now=T0) == []


async def test_leases_survive_a_reopen_and_read_only_refuses_claims(tmp_path: Path) -> None:
    async with TaskStore(tmp_path) as store:
        await store.save(task("a"))
        [mine] = await store.claim_due("me", limit=1, lease_seconds=LEASE, now=T0)
    async with TaskStore(tmp_path, read_only=True) as reader:
        assert await reader.get("a") == mine
        with pytest.raises(StoreError):
            await reader.claim_due("me", limit=1, lease_seconds=LEASE)
        with pytest.raises(StoreError):
            await reader.finish_run("a", mine.lease_token, run())
        with pytest.raises(StoreError):
            await reader.reclaim_expired("me", lease_seconds=LEASE)
