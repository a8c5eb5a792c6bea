"""TaskStore: every method, its edges, durability across reopen, and a stateful model test."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tradestore import (
    BackgroundTask,
    NotFoundError,
    StoreClosedError,
    StoreError,
    TaskPriority,
    TaskStatus,
    TaskStore,
    TaskType,
    ValidationError,
)

T0 = datetime(2025, 6, 2, 14, 30, tzinfo=UTC)
IST = timezone(timedelta(hours=5, minutes=30))


class Clock:
    """A settable clock for the store."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def task(task_id: str = "news-AAPL", **changes: Any) -> BackgroundTask:
    """A valid task with ``changes`` applied."""
    fields: dict[str, Any] = {
        "task_id": task_id,
        "task_type": TaskType.NEWS_MONITORING,
        "priority": TaskPriority.MEDIUM,
        "execute_at": T0,
    }
    fields.update(changes)
    return BackgroundTask(**fields)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def listing(folder: Path) -> list[str]:
    """The names in ``folder``."""
    return sorted(p.name for p in folder.iterdir())


def journals(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("journal-*.json"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(tmp_path: Path, clock: Clock) -> Any:
    s = TaskStore(tmp_path, durable=False, clock=clock)
    await s.initialize()
    yield s
    await s.close()


async def reopened(path: Path, clock: Clock | None = None) -> TaskStore:
    s = TaskStore(path, durable=False, clock=clock)
    await s.initialize()
    return s


@contextlib.asynccontextmanager
async def seeded(path: Path, *tasks: BackgroundTask) -> AsyncIterator[TaskStore]:
    """A store holding ``tasks``, reopened so no commit or checkpoint is pending."""
    async with TaskStore(path, durable=False) as s:
        await s.save_many(tasks)
    async with TaskStore(path, durable=False) as s:
        yield s


# -- save / get / delete -----------------------------------------------------------------------


async def test_save_then_get_returns_equal_copy(store: TaskStore) -> None:
    t = task(metadata={"symbols": ["AAPL"], "n": 1}, interval_seconds=60)
    await store.save(t)
    got = await store.get("news-AAPL")
    assert got == t
    assert got is not t
    assert await store.get("missing") is None


async def test_save_replaces_and_works_before_initialize(tmp_path: Path) -> None:
    s = TaskStore(str(tmp_path), durable=False)  # str data_dir, no initialize()
    try:
        await s.save(task(priority=TaskPriority.LOW))
        await s.save(task(priority=TaskPriority.HIGH))
        got = await s.get("news-AAPL")
        assert got is not None
        assert got.priority is TaskPriority.HIGH
        assert len(await s.list_tasks()) == 1
    finally:
        await s.close()
    assert (tmp_path / "tasks").is_dir()


async def test_reads_return_copies_and_saved_tasks_are_copied(store: TaskStore) -> None:
    t = task(metadata={"tags": ["a"]})
    await store.save(t)
    t.metadata["tags"].append("caller-changed")
    t.retry_count = 2
    got = await store.get(t.task_id)
    assert got is not None
    assert got.metadata == {"tags": ["a"]}
    assert got.retry_count == 0
    got.metadata["tags"].append("x")
    got.is_active = False
    for listed in (await store.list_tasks(), await store.due_tasks(T0)):
        listed[0].metadata["tags"].clear()
        listed[0].status = TaskStatus.FAILED
    again = await store.get(t.task_id)
    assert again == task(metadata={"tags": ["a"]})


async def test_delete(store: TaskStore, tmp_path: Path) -> None:
    await store.save(task("a"))
    await store.save(task("b"))
    assert await store.delete("a") is True
    assert await store.delete("a") is False
    assert await store.get("a") is None
    await store.close()
    s = await reopened(tmp_path)
    try:
        assert [t.task_id for t in await s.list_tasks()] == ["b"]
    finally:
        await s.close()


async def test_save_many_is_one_commit_and_last_duplicate_wins(
    store: TaskStore, tmp_path: Path
) -> None:
    folder = tmp_path / "tasks"
    before = journals(folder)
    tasks = [task(f"t{i:02d}", retry_count=i) for i in range(40)]
    tasks.append(task("t05", retry_count=99))
    await store.save_many(tasks)
    after = journals(folder)
    assert len(after) == len(before) + 1  # every task in one atomic file write
    assert len(await store.list_tasks()) == 40
    got = await store.get("t05")
    assert got is not None
    assert got.retry_count == 99
    await store.save_many([])
    assert journals(folder) == after


async def test_save_many_with_one_bad_task_saves_nothing(tmp_path: Path) -> None:
    bad = task("bad")
    bad.execute_at = datetime(2025, 1, 1)  # naive, set after construction
    async with seeded(tmp_path, task("keep")) as store:
        files = snapshot(tmp_path)
        for batch in ([task("new1"), bad], [task("new2"), "not a task"], "abc", task("x"), 5):
            with pytest.raises(ValidationError):
                await store.save_many(batch)  # type: ignore[arg-type]  # bad input on purpose
        assert [t.task_id for t in await store.list_tasks()] == ["keep"]
        await store.flush()
        assert snapshot(tmp_path) == files


# -- update -------------------------------------------------------------------------------------


async def test_update_changes_fields_and_returns_copy(store: TaskStore, tmp_path: Path) -> None:
    await store.save(task())
    later = T0 + timedelta(hours=1)
    meta = {"k": [1]}
    updated = await store.update("news-AAPL", status="running", next_execution=later,
                                 retry_count=1, metadata=meta)
    assert updated.status is TaskStatus.RUNNING  # a str value is coerced to the enum
    assert updated.next_execution == later
    assert updated.retry_count == 1
    meta["k"].append(2)  # the caller's dict is not shared with the store
    updated.metadata["k"].append(3)
    got = await store.get("news-AAPL")
    assert got is not None
    assert got.metadata == {"k": [1]}
    assert got.status is TaskStatus.RUNNING
    await store.close()
    s = await reopened(tmp_path)
    try:
        assert await s.get("news-AAPL") == got
    finally:
        await s.close()


async def test_update_without_changes_returns_current(store: TaskStore) -> None:
    await store.save(task())
    assert await store.update("news-AAPL") == task()


async def test_update_missing_raises_not_found(store: TaskStore) -> None:
    with pytest.raises(NotFoundError) as info:
        await store.update("ghost", retry_count=1)
    assert isinstance(info.value, LookupError)
    assert info.value.key == "ghost"
    assert await store.get("ghost") is None


@pytest.mark.parametrize(
    "changes",
    [
        {"no_such_field": 1},
        {"retry_count": 1, "bogus": 2},
        {"retry_count": -1},
        {"max_retries": True},
        {"next_execution": datetime(2025, 1, 1)},
        {"execute_at": None},
        {"priority": "urgent"},
        {"status": "sleeping"},
        {"interval_seconds": float("nan")},
        {"interval_seconds": 0},
        {"metadata": {"x": object()}},
        {"task_type": "../../etc"},
        {"is_active": "yes"},
    ],
)
async def test_update_bad_input_changes_nothing(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    async with seeded(tmp_path, task(metadata={"a": 1})) as store:
        files = snapshot(tmp_path)
        with pytest.raises(ValidationError):
            await store.update("news-AAPL", **changes)
        with pytest.raises(ValidationError):  # bad input wins over a missing task
            await store.update("missing", **changes)
        assert await store.get("news-AAPL") == task(metadata={"a": 1})
        await store.flush()
        assert snapshot(tmp_path) == files


# -- list_tasks / due_tasks ---------------------------------------------------------------------


async def test_list_tasks_filters_and_orders_by_id(store: TaskStore) -> None:
    await store.save_many([
        task("c", task_type=TaskType.HEALTH_CHECK),
        task("a", is_active=False),
        task("b", task_type="custom_job"),
    ])
    assert [t.task_id for t in await store.list_tasks()] == ["a", "b", "c"]
    assert [t.task_id for t in await store.list_tasks(active_only=True)] == ["b", "c"]
    assert [t.task_id for t in await store.list_tasks(task_type=TaskType.HEALTH_CHECK)] == ["c"]
    assert [t.task_id for t in await store.list_tasks(task_type="custom_job")] == ["b"]
    assert await store.list_tasks(task_type="news_monitoring", active_only=True) == []
    with pytest.raises(ValidationError):
        await store.list_tasks(task_type="../x")


async def test_due_tasks_order_priority_then_run_time_then_id(
    store: TaskStore, clock: Clock
) -> None:
    h = timedelta(hours=1)
    await store.save_many([
        task("low-early", priority=TaskPriority.LOW, execute_at=T0 - 5 * h),
        task("crit-late", priority=TaskPriority.CRITICAL, execute_at=T0),
        task("high-b", priority=TaskPriority.HIGH, execute_at=T0 - h),
        task("high-a", priority=TaskPriority.HIGH, execute_at=T0 - h),
        # next_execution wins over execute_at: early execute_at, late next run.
        task("high-next", priority=TaskPriority.HIGH, execute_at=T0 - 9 * h,
             next_execution=T0 - h / 2),
        # run time given in another zone compares by instant.
        task("high-ist", priority=TaskPriority.HIGH, execute_at=(T0 - 2 * h).astimezone(IST)),
        task("future", priority=TaskPriority.CRITICAL, execute_at=T0 + timedelta(seconds=1)),
        task("future-next", priority=TaskPriority.CRITICAL, execute_at=T0 - h,
             next_execution=T0 + h),
        task("inactive", priority=TaskPriority.CRITICAL, execute_at=T0 - h, is_active=False),
        task("running", priority=TaskPriority.CRITICAL, execute_at=T0 - h, status="running"),
        task("failed", priority=TaskPriority.CRITICAL, execute_at=T0 - h, status="failed"),
        task("done", priority=TaskPriority.CRITICAL, execute_at=T0 - h, status="succeeded"),
    ])
    expected = ["crit-late", "high-ist", "high-a", "high-b", "high-next", "low-early"]
    assert [t.task_id for t in await store.due_tasks(T0)] == expected
    assert [t.task_id for t in await store.due_tasks()] == expected  # default: the clock
    assert [t.task_id for t in await store.due_tasks(T0, limit=2)] == expected[:2]
    assert await store.due_tasks(T0, limit=0) == []
    assert [t.task_id for t in await store.due_tasks(T0 - 3 * h)] == ["low-early"]
    clock.now = T0 + 2 * h
    assert "future-next" in [t.task_id for t in await store.due_tasks()]


async def test_due_tasks_bad_arguments(store: TaskStore) -> None:
    for kwargs in ({"now": datetime(2025, 1, 1)}, {"now": "today"}, {"limit": -1},
                   {"limit": 1.5}, {"limit": True}):
        with pytest.raises(ValidationError):
            await store.due_tasks(**kwargs)


# -- bad input, layout, lifecycle ---------------------------------------------------------------

BAD_IDS = ["", "../../x", "a/b", "..", ".", "a\\b", "x" * 129, "a b", "a\x00b", "é", 5, None]


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_malformed_task_ids_are_refused_and_change_nothing(
    tmp_path: Path, bad: Any
) -> None:
    t = task("placeholder")
    t.task_id = bad
    async with seeded(tmp_path, task("good")) as store:
        files = snapshot(tmp_path)
        with pytest.raises(ValidationError):
            await store.get(bad)
        with pytest.raises(ValidationError):
            await store.delete(bad)
        with pytest.raises(ValidationError):
            await store.update(bad, retry_count=1)
        with pytest.raises(ValidationError):
            await store.save(t)
        with pytest.raises(ValidationError):
            await store.save_many([task("other"), t])
        with pytest.raises(ValidationError):
            await store.save("not a task")  # type: ignore[arg-type]  # bad input on purpose
        assert [x.task_id for x in await store.list_tasks()] == ["good"]
        await store.flush()
        assert snapshot(tmp_path) == files
    assert listing(tmp_path) == ["tasks"]  # nothing written outside the store folder


async def test_files_are_partitioned_by_hash_of_id(tmp_path: Path) -> None:
    ids = [f"job:{i}.x-y_z" for i in range(64)]
    async with TaskStore(tmp_path, durable=False) as s:
        await s.save_many([task(i) for i in ids])
    folder = tmp_path / "tasks"
    docs = sorted(p.name for p in folder.glob("doc-*.json"))
    expected = sorted({f"doc-{zlib.crc32(i.encode()) % 16:x}.json" for i in ids})
    assert docs == expected
    for i in ids:
        assert i.encode() in (folder / f"doc-{zlib.crc32(i.encode()) % 16:x}.json").read_bytes()
    assert (folder / "checkpoint.json").is_file()
    assert journals(folder) == []  # close folds the journals into the documents


async def test_reopen_returns_exactly_what_was_stored(tmp_path: Path) -> None:
    tasks = [
        task("a", metadata={"nested": {"list": [1, 2.5, None, True, "s"]}}),
        task("b", priority=TaskPriority.CRITICAL, execute_at=T0.astimezone(IST),
             interval_seconds=30.5, last_executed=T0, next_execution=T0 + timedelta(minutes=1),
             status=TaskStatus.FAILED, last_error="boom", retry_count=3, max_retries=5),
        task("c", task_type="my_custom_type", is_active=False),
    ]
    async with TaskStore(tmp_path) as s:  # durable
        await s.save_many(tasks)
        await s.update("c", retry_count=2)
        await s.delete("a")
        before = await s.list_tasks()
    async with TaskStore(tmp_path) as s:
        after = await s.list_tasks()
    assert after == before
    assert [t.task_id for t in after] == ["b", "c"]
    assert after[0].execute_at.utcoffset() == timedelta(hours=5, minutes=30)
    assert after[1].retry_count == 2


async def test_concurrent_updates_lose_nothing(tmp_path: Path) -> None:
    async with TaskStore(tmp_path) as s:
        await s.save_many([task(f"t{i}") for i in range(10)])
        await asyncio.gather(*(s.update(f"t{i % 10}", retry_count=i // 10)
                               for i in range(100)))
        await asyncio.gather(*(s.save(task(f"n{i}")) for i in range(100)))
    async with TaskStore(tmp_path) as s:
        assert len(await s.list_tasks()) == 110
        for i in range(10):
            got = await s.get(f"t{i}")
            assert got is not None
            assert got.retry_count == 9


async def test_read_only_refuses_mutations_and_sees_initialize_state(tmp_path: Path) -> None:
    async with seeded(tmp_path, task("a")) as writer:  # a writer may stay open beside
        reader = TaskStore(tmp_path, read_only=True)
        await reader.initialize()
        try:
            files = snapshot(tmp_path)
            calls: list[Callable[[], Any]] = [
                lambda: reader.save(task("b")),
                lambda: reader.save_many([task("b")]),
                lambda: reader.delete("a"),
                lambda: reader.update("a", retry_count=1),
            ]
            for call in calls:
                with pytest.raises(StoreError):
                    await call()
            assert snapshot(tmp_path) == files
            await writer.save(task("b"))
            await writer.flush()
            assert [t.task_id for t in await reader.list_tasks()] == ["a"]
            await reader.reload()
            assert [t.task_id for t in await reader.list_tasks()] == ["a", "b"]
        finally:
            await reader.close()


async def test_second_writer_in_process_shares_the_store(store: TaskStore, tmp_path: Path) -> None:
    """A second writer in this process is a handle on the same store (another process
    is refused: tests/reliability/test_processes.py)."""
    other = TaskStore(tmp_path, durable=store.durable)
    await other.initialize()
    await other.save(task("shared"))
    assert await store.get("shared") == await other.get("shared")
    await other.close()
    await store.close()
    async with TaskStore(tmp_path) as third:  # the lock is released at the last close
        assert [t.task_id for t in await third.list_tasks()] == ["shared"]


async def test_closed_store_raises_store_closed(store: TaskStore) -> None:
    await store.save(task())
    await store.close()
    await store.close()  # idempotent
    calls: list[Callable[[], Any]] = [
        lambda: store.save(task()),
        lambda: store.save_many([task()]),
        lambda: store.get("news-AAPL"),
        lambda: store.delete("news-AAPL"),
        lambda: store.update("news-AAPL", retry_count=1),
        store.list_tasks,
        store.due_tasks,
        store.initialize,
    ]
    for call in calls:
        with pytest.raises(StoreClosedError):
            await call()


# -- stateful model test ------------------------------------------------------------------------

IDS = st.sampled_from(["a", "b", "c.1", "job:d", "e-e"])
TIMES = st.integers(-3, 3).map(lambda h: T0 + timedelta(hours=h))
PRIORITIES = st.sampled_from(list(TaskPriority))
STATUSES = st.sampled_from(list(TaskStatus))


class TaskStoreMachine(RuleBasedStateMachine):
    """Random operations on a TaskStore, mirrored on a plain dict."""

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.dir = Path(tempfile.mkdtemp(prefix="taskstore-"))
        self.model: dict[str, BackgroundTask] = {}
        self.store = self.run(reopened(self.dir))

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)

    @rule(tid=IDS, prio=PRIORITIES, at=TIMES, nxt=st.none() | TIMES, active=st.booleans(),
          status=STATUSES)
    def save(self, tid: str, prio: TaskPriority, at: datetime, nxt: datetime | None,
             active: bool, status: TaskStatus) -> None:
        t = task(tid, priority=prio, execute_at=at, next_execution=nxt, is_active=active,
                 status=status)
        self.run(self.store.save(t))
        self.model[tid] = t.clone()

    @rule(tids=st.lists(IDS, max_size=4), prio=PRIORITIES)
    def save_many(self, tids: list[str], prio: TaskPriority) -> None:
        self.run(self.store.save_many([task(t, priority=prio) for t in tids]))
        for t in tids:
            self.model[t] = task(t, priority=prio)

    @rule(tid=IDS)
    def delete(self, tid: str) -> None:
        assert self.run(self.store.delete(tid)) == (self.model.pop(tid, None) is not None)

    @rule(tid=IDS, retries=st.integers(0, 5), status=STATUSES)
    def update(self, tid: str, retries: int, status: TaskStatus) -> None:
        if tid not in self.model:
            with pytest.raises(NotFoundError):
                self.run(self.store.update(tid, retry_count=retries))
            return
        got = self.run(self.store.update(tid, retry_count=retries, status=status))
        self.model[tid].retry_count = retries
        self.model[tid].status = status
        assert got == self.model[tid]

    @rule(tid=IDS)
    def bad_update(self, tid: str) -> None:
        with pytest.raises(ValidationError):
            self.run(self.store.update(tid, retry_count=-1))

    @rule()
    def reopen(self) -> None:
        self.run(self.store.close())
        self.store = self.run(reopened(self.dir))

    @rule(tid=IDS)
    def get(self, tid: str) -> None:
        assert self.run(self.store.get(tid)) == self.model.get(tid)

    @rule(at=TIMES, limit=st.none() | st.integers(0, 6))
    def due(self, at: datetime, limit: int | None) -> None:
        due = [t for t in self.model.values()
               if t.is_active and t.status is TaskStatus.PENDING
               and (t.next_execution or t.execute_at) <= at]
        order = {p: i for i, p in enumerate(TaskPriority)}
        due.sort(key=lambda t: (order[t.priority], t.next_execution or t.execute_at, t.task_id))
        assert self.run(self.store.due_tasks(at, limit=limit)) == due[:limit]

    @invariant()
    def listing_matches(self) -> None:
        assert self.run(self.store.list_tasks()) == [self.model[k] for k in sorted(self.model)]

    def teardown(self) -> None:
        try:
            self.run(self.store.close())
        finally:
            self.runner.close()
            shutil.rmtree(self.dir, ignore_errors=True)


def test_stateful_against_in_memory_model() -> None:
    run_state_machine_as_test(
        TaskStoreMachine,
        settings=settings(max_examples=25, stateful_step_count=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )
