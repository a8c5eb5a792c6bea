"""The writer's owner record, store observers and the journal backlog."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.persistence.toy import Recorder, recording
from tradestore import BackgroundTask, TaskPriority, TaskStore
from tradestore.persistence._lock import LockOwner, read_lock_owner
from tradestore.persistence._observe import add_observer, journal_backlog, remove_observer

SRC = str(Path(__file__).resolve().parents[2] / "src")
T0 = datetime(2026, 1, 2, tzinfo=UTC)


def _task(task_id: str) -> BackgroundTask:
    return BackgroundTask(task_id=task_id, task_type="news_monitoring",
                          priority=TaskPriority.LOW, execute_at=T0)


_HOLDER = """
import asyncio, sys
from tradestore import TaskStore
async def main():
    async with TaskStore(sys.argv[1]):
        print("open", flush=True)
        sys.stdin.readline()
asyncio.run(main())
"""


def test_owner_record_names_the_writer_process(tmp_path: Path) -> None:
    assert read_lock_owner(tmp_path / "tasks") is None
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": SRC},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "open"
        owner = read_lock_owner(tmp_path / "tasks")
        assert owner is not None
        assert (owner.pid, owner.host) == (child.pid, socket.gethostname())
        assert owner.is_alive() is True
        assert (datetime.now(UTC) - owner.since).total_seconds() < 60
    finally:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.close()
        child.wait(timeout=30)
        child.stdout.close()
    owner = read_lock_owner(tmp_path / "tasks")
    assert owner is not None
    assert owner.pid == child.pid
    assert owner.is_alive() is False  # the record stays; the process is gone
    # The lock protocol is unchanged: the next writer opens at once and takes over.
    another = TaskStore(tmp_path)
    try:
        asyncio.run(another.initialize())
        taken = read_lock_owner(tmp_path / "tasks")
        assert taken is not None
        assert taken.pid == os.getpid()
    finally:
        asyncio.run(another.close())


def test_owner_on_another_host_is_unknown_and_garbage_is_ignored(tmp_path: Path) -> None:
    assert LockOwner(pid=1, host="elsewhere.invalid", since=T0).is_alive() is None
    (tmp_path / ".lock.owner").write_bytes(b"\x00not json")
    assert read_lock_owner(tmp_path) is None


async def test_observers_see_commits_and_checkpoints(tmp_path: Path) -> None:
    with recording() as seen:
        async with TaskStore(tmp_path, durable=False) as store:
            await store.save_many([_task("a"), _task("b"), _task("c")])
            await store.update("a", retry_count=1)
            assert await journal_backlog(tmp_path / "tasks") == 2
            async with TaskStore(tmp_path, read_only=True):
                assert await journal_backlog(tmp_path / "tasks") == 2
            await store.checkpoint()
            assert await journal_backlog(tmp_path / "tasks") == 0
    assert [(f, n) for f, _, n in seen.commits] == [(tmp_path / "tasks", 3),
                                                    (tmp_path / "tasks", 1)]
    assert all(s >= 0 for _, s, _ in seen.commits)
    assert seen.checkpoints
    assert seen.checkpoints[0][0] == tmp_path / "tasks"
    assert seen.checkpoints[0][2] >= 1


async def test_a_failing_or_dropped_observer_never_fails_a_write(tmp_path: Path) -> None:
    class Broken(Recorder):
        def commit_observed(self, folder: Path, seconds: float, records: int) -> None:
            raise RuntimeError("observer bug")

    broken = Broken()
    dropped = Recorder()
    add_observer(broken)
    add_observer(dropped)
    del dropped
    gc.collect()
    try:
        async with TaskStore(tmp_path) as store:
            await store.save(_task("a"))
            assert await store.get("a") is not None
    finally:
        remove_observer(broken)
