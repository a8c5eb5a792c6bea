"""Run history on tasks and scheduler heartbeats in TaskStore: validation, reopen, bounds."""

from __future__ import annotations

import asyncio
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tradestore import (
    MAX_TASK_HISTORY,
    BackgroundTask,
    RunOutcome,
    SchedulerHeartbeat,
    StoreError,
    TaskPriority,
    TaskRun,
    TaskStatus,
    TaskStore,
    ValidationError,
)
from tradestore.models import append_run
from tradestore.persistence._format import encode_file, pad_blocks
from tradestore.persistence._naming import journal_file_name

T0 = datetime(2025, 6, 2, 14, 30, tzinfo=UTC)


def task(task_id: str = "job-1", **changes: Any) -> BackgroundTask:
    fields: dict[str, Any] = {"task_id": task_id, "task_type": "job",
                              "priority": TaskPriority.MEDIUM, "execute_at": T0}
    fields.update(changes)
    return BackgroundTask(**fields)


def run(n: int = 0, outcome: RunOutcome = RunOutcome.SUCCEEDED, **changes: Any) -> TaskRun:
    start = T0 + timedelta(minutes=n)
    fields: dict[str, Any] = {"started_at": start, "finished_at": start + timedelta(seconds=2),
                              "outcome": outcome, "duration_seconds": 2.0, "host": "box-1",
                              "scheduler_id": "box-1:42:abcd", "planned_at": start}
    fields.update(changes)
    return TaskRun(**fields)


def beat(scheduler_id: str = "box-1:42:abcd", at: datetime = T0, **changes: Any
         ) -> SchedulerHeartbeat:
    fields: dict[str, Any] = {"scheduler_id": scheduler_id, "host": "box-1", "pid": 42,
                              "started_at": T0, "last_beat": at}
    fields.update(changes)
    return SchedulerHeartbeat(**fields)


def journals(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("journal-*.json"))


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


# -- the models ----------------------------------------------------------------------------


def test_new_fields_have_defaults() -> None:
    t = task()
    assert (t.history, t.lease_owner, t.lease_expires_at, t.lease_token) == ([], None, None, 0)
    b = beat()
    assert (b.interval_seconds, b.running, b.stopped_at) == (5.0, [], None)


def test_outcome_values_are_the_documented_strings() -> None:
    assert [o.value for o in RunOutcome] == ["succeeded", "failed", "retry", "cancelled",
                                             "crashed"]
    assert run(outcome="retry").outcome is RunOutcome.RETRY  # type: ignore[arg-type]  # str form


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("started_at", datetime(2025, 1, 1)),  # naive on purpose
        ("finished_at", "2025-01-01"),
        ("outcome", "exploded"),
        ("duration_seconds", -1.0),
        ("duration_seconds", float("nan")),
        ("error", 5),
        ("host", "h" * 300),
        ("scheduler_id", "a/b"),
        ("planned_at", datetime(2025, 1, 1)),  # naive on purpose
    ],
)
def test_bad_task_run_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        run(**{field: value})  # type: ignore[arg-type]  # bad values on purpose
    assert info.value.field == field


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scheduler_id", ""),
        ("scheduler_id", "../x"),
        ("pid", -1),
        ("pid", True),
        ("last_beat", datetime(2025, 1, 1)),  # naive on purpose
        ("interval_seconds", 0.0),
        ("interval_seconds", float("inf")),
        ("running", ["ok", "not ok"]),
        ("running", "job-1"),
        ("stopped_at", "yesterday"),
    ],
)
def test_bad_heartbeat_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        beat(**{field: value})  # type: ignore[arg-type]  # bad values on purpose
    assert info.value.field == field


def test_history_is_bounded_and_checked() -> None:
    with pytest.raises(ValidationError) as info:
        task(history=[run(i) for i in range(MAX_TASK_HISTORY + 1)])
    assert info.value.field == "history"
    with pytest.raises(ValidationError):
        task(history=["not a run"])
    broken = run()
    broken.duration_seconds = -5.0  # broken after construction
    with pytest.raises(ValidationError, match=r"history\[0\]"):
        task(history=[broken])


def test_append_run_keeps_the_newest_oldest_first() -> None:
    history: list[TaskRun] = []
    for i in range(MAX_TASK_HISTORY + 5):
        previous = history
        history = append_run(history, run(i))
        assert previous is not history  # a new list, the old one unchanged
    assert len(history) == MAX_TASK_HISTORY
    assert [r.started_at for r in history] == [
        T0 + timedelta(minutes=i) for i in range(5, MAX_TASK_HISTORY + 5)]


def test_is_alive_until_three_intervals_without_a_beat_or_a_clean_stop() -> None:
    b = beat(at=T0, interval_seconds=2.0)
    assert b.is_alive(T0)
    assert b.is_alive(T0 + timedelta(seconds=6))
    assert not b.is_alive(T0 + timedelta(seconds=6.01))
    assert b.age(T0 + timedelta(seconds=3)) == timedelta(seconds=3)
    b.stopped_at = T0
    assert not b.is_alive(T0)
    with pytest.raises(ValidationError):
        b.is_alive(datetime(2025, 1, 1))  # naive on purpose


# -- history in the store ------------------------------------------------------------------


async def test_outcome_and_history_are_one_commit_and_survive_reopen(tmp_path: Path) -> None:
    async with TaskStore(tmp_path) as store:
        await store.save(task())
        await store.flush()
        before = journals(tmp_path / "tasks")
        current = await store.get("job-1")
        assert current is not None
        await store.update("job-1", status=TaskStatus.SUCCEEDED,
                           history=append_run(current.history, run(0)))
        after = journals(tmp_path / "tasks")
        assert len(set(after) - set(before)) == 1  # one durable write holds both
    async with TaskStore(tmp_path) as store:
        got = await store.get("job-1")
        assert got is not None
        assert got.status == TaskStatus.SUCCEEDED
        assert got.history == [run(0)]
        assert got.history[0].outcome is RunOutcome.SUCCEEDED


async def test_history_stays_bounded_over_many_runs(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, durable=False) as store:
        await store.save(task())
        for i in range(MAX_TASK_HISTORY * 2):
            current = await store.get("job-1")
            assert current is not None
            await store.update("job-1", history=append_run(current.history, run(i)))
    async with TaskStore(tmp_path, durable=False) as store:
        got = await store.get("job-1")
        assert got is not None
        assert [r.started_at for r in got.history] == [
            T0 + timedelta(minutes=i) for i in range(MAX_TASK_HISTORY, MAX_TASK_HISTORY * 2)]


async def test_too_long_or_bad_history_changes_nothing(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, durable=False) as store:
        await store.save(task(history=[run(0)]))
        await store.flush()
        on_disk = files(tmp_path)
        for bad in ([run(i) for i in range(MAX_TASK_HISTORY + 1)], [{"outcome": "x"}], None):
            with pytest.raises(ValidationError):
                await store.update("job-1", history=bad)
        with pytest.raises(ValidationError):
            await store.save(task(history=[run(i) for i in range(MAX_TASK_HISTORY)]
                                  + [run(99)]))
        await store.flush()
        assert files(tmp_path) == on_disk
        got = await store.get("job-1")
        assert got is not None
        assert got.history == [run(0)]


async def test_returned_history_is_a_copy(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, durable=False) as store:
        mine = task(history=[run(0)])
        await store.save(mine)
        mine.history[0].error = "changed by the caller"
        got = await store.get("job-1")
        assert got is not None
        got.history[0].error = "changed again"
        got.history.append(run(1))
        again = await store.get("job-1")
        assert again is not None
        assert again.history == [run(0)]


async def test_a_task_file_written_before_history_existed_still_loads(tmp_path: Path) -> None:
    # A journal in the layout of the previous release: no history, no lease fields.
    old = {"task_id": "legacy", "task_type": "job", "priority": "high",
           "execute_at": "2025-06-02T14:30:00Z", "interval_seconds": 60.0, "max_retries": 3,
           "retry_count": 1, "last_executed": None, "next_execution": None, "is_active": True,
           "status": "pending", "last_error": "boom", "metadata": {"k": 1}}
    folder = tmp_path / "tasks"
    folder.mkdir(mode=0o700)
    doc = f"{zlib.crc32(b'legacy') % 16:x}"
    data = pad_blocks(encode_file("journal", "tasks", "", 1, {doc: {"legacy": old}},
                                  lines=False))
    (folder / journal_file_name(1)).write_bytes(data)
    async with TaskStore(tmp_path) as store:
        got = await store.get("legacy")
        assert got is not None
        assert (got.retry_count, got.last_error, got.metadata) == (1, "boom", {"k": 1})
        assert (got.history, got.lease_owner, got.lease_token) == ([], None, 0)
        assert await store.heartbeats() == []
        await store.update("legacy", history=[run(0)])
    async with TaskStore(tmp_path, read_only=True) as store:
        got = await store.get("legacy")
        assert got is not None
        assert got.history == [run(0)]


async def test_concurrent_history_appends_lose_nothing(tmp_path: Path) -> None:
    async with TaskStore(tmp_path) as store:
        await store.save_many([task(f"t{i}") for i in range(8)])

        async def append_runs(task_id: str) -> None:
            for n in range(5):
                current = await store.get(task_id)
                assert current is not None
                await store.update(task_id, retry_count=n + 1,
                                   history=append_run(current.history, run(n)))

        await asyncio.gather(*(append_runs(f"t{i}") for i in range(8)))
    async with TaskStore(tmp_path) as store:
        for i in range(8):
            got = await store.get(f"t{i}")
            assert got is not None
            assert (len(got.history), got.retry_count) == (5, 5)


# -- heartbeats in the store ---------------------------------------------------------------


async def test_heartbeats_are_kept_newest_first_and_survive_reopen(tmp_path: Path) -> None:
    async with TaskStore(tmp_path) as store:
        await store.record_heartbeat(beat("old", at=T0))
        await store.record_heartbeat(beat("new", at=T0 + timedelta(seconds=10), running=["a"]))
        await store.record_heartbeat(beat("mid", at=T0 + timedelta(seconds=5)))
        await store.record_heartbeat(beat("old", at=T0 + timedelta(seconds=1)))  # replaces
    assert (tmp_path / "tasks" / "heartbeats").is_dir()
    async with TaskStore(tmp_path, read_only=True) as store:
        beats = await store.heartbeats()
        assert [b.scheduler_id for b in beats] == ["new", "mid", "old"]
        assert beats[0].running == ["a"]
        assert beats[2].last_beat == T0 + timedelta(seconds=1)


async def test_delete_and_prune_heartbeats(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, durable=False) as store:
        for i in range(4):
            await store.record_heartbeat(beat(f"s{i}", at=T0 + timedelta(hours=i)))
        assert await store.delete_heartbeat("s0") is True
        assert await store.delete_heartbeat("s0") is False
        assert await store.prune_heartbeats(T0 + timedelta(hours=2)) == 1  # s1
        assert [b.scheduler_id for b in await store.heartbeats()] == ["s3", "s2"]
        with pytest.raises(ValidationError):
            await store.delete_heartbeat("../s2")
        with pytest.raises(ValidationError):
            await store.prune_heartbeats(datetime(2025, 1, 1))  # naive
    async with TaskStore(tmp_path, durable=False) as store:
        assert [b.scheduler_id for b in await store.heartbeats()] == ["s3", "s2"]


async def test_bad_heartbeat_changes_nothing_and_reads_are_copies(tmp_path: Path) -> None:
    async with TaskStore(tmp_path, durable=False) as store:
        mine = beat(running=["a"])
        await store.record_heartbeat(mine)
        await store.flush()
        on_disk = files(tmp_path)
        broken, no_list = beat(), beat()
        broken.pid = -3
        no_list.running = None  # type: ignore[assignment]  # broken after construction
        for bad in (broken, "not a beat", no_list):
            with pytest.raises(ValidationError):
                await store.record_heartbeat(bad)  # type: ignore[arg-type]  # bad on purpose
        await store.flush()
        assert files(tmp_path) == on_disk
        mine.running.append("b")  # the caller's object is not the stored one
        got = (await store.heartbeats())[0]
        got.running.append("c")
        assert (await store.heartbeats())[0].running == ["a"]


async def test_read_only_store_refuses_heartbeat_writes_and_sees_them_on_reload(
    tmp_path: Path,
) -> None:
    async with TaskStore(tmp_path) as writer:
        await writer.record_heartbeat(beat("a"))
        reader = TaskStore(tmp_path, read_only=True)
        try:
            assert [b.scheduler_id for b in await reader.heartbeats()] == ["a"]
            with pytest.raises(StoreError):
                await reader.record_heartbeat(beat("b"))
            with pytest.raises(StoreError):
                await reader.delete_heartbeat("a")
            await writer.record_heartbeat(beat("b", at=T0 + timedelta(seconds=1)))
            await reader.reload()
            assert [b.scheduler_id for b in await reader.heartbeats()] == ["b", "a"]
        finally:
            await reader.close()


async def test_concurrent_heartbeats_lose_nothing(tmp_path: Path) -> None:
    async with TaskStore(tmp_path) as store:
        await asyncio.gather(*(store.record_heartbeat(beat(f"s{i}", at=T0 + timedelta(seconds=i)))
                               for i in range(50)))
        await asyncio.gather(*(store.record_heartbeat(beat(f"s{i}", at=T0 + timedelta(hours=1),
                                                           running=[f"t{i}"]))
                               for i in range(0, 50, 2)))
    async with TaskStore(tmp_path) as store:
        beats = {b.scheduler_id: b for b in await store.heartbeats()}
        assert len(beats) == 50
        assert all(beats[f"s{i}"].running == [f"t{i}"] for i in range(0, 50, 2))
        assert all(beats[f"s{i}"].running == [] for i in range(1, 50, 2))
