"""The scheduler in a real child process: killed with SIGKILL, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradestore import RunOutcome, TaskStatus, TaskStore
from tradestore.scheduler import Scheduler

SRC = Path(__file__).resolve().parents[2] / "src"

# The child runs two due tasks one at a time: "a-first" writes a marker and then
# sleeps for ``SLEEP`` seconds; "b-second" would write its own marker.
CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from tradestore import BackgroundTask, TaskPriority, TaskStore
    from tradestore.scheduler import Scheduler

    data, marks = Path(sys.argv[1]), Path(sys.argv[2])
    sleep, grace = float(sys.argv[3]), float(sys.argv[4])

    async def handler(task, ctx):
        (marks / f"{task.task_id}.started").touch()
        await asyncio.sleep(sleep)
        (marks / f"{task.task_id}.finished").touch()

    async def main():
        async with TaskStore(data) as store:
            now = datetime.now(UTC)
            await store.save_many([
                BackgroundTask(task_id=i, task_type="job", priority=TaskPriority.HIGH,
                               execute_at=now)
                for i in ("a-first", "b-second")
            ])
            sched = Scheduler(store, handlers={"job": handler}, concurrency=1,
                              poll_interval=0.05, grace_period=grace)
            await sched.run()
            (marks / "scheduler.stopped").touch()

    asyncio.run(main())
    """
)


def start_child(
    tmp_path: Path, *, sleep: float, grace: float
) -> tuple[subprocess.Popen[bytes], Path, Path]:
    data, marks = tmp_path / "data", tmp_path / "marks"
    marks.mkdir()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), str(marks), str(sleep), str(grace)],
        env=env,
        stderr=subprocess.PIPE,
    )
    return child, data, marks


def wait_for(path: Path, child: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if child.poll() is not None:
            _, err = child.communicate()
            pytest.fail(f"child exited early ({child.returncode}): {err.decode()}")
        if time.monotonic() > deadline:
            child.kill()
            child.communicate()
            pytest.fail(f"timed out waiting for {path.name}")
        time.sleep(0.02)


async def test_a_task_left_running_by_a_killed_process_is_recovered(tmp_path: Path) -> None:
    child, data, marks = start_child(tmp_path, sleep=3600, grace=1)
    wait_for(marks / "a-first.started", child)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=10)

    ran: list[str] = []

    async def handler(task: object, ctx: object) -> None:
        ran.append(getattr(task, "task_id", "?"))

    async with TaskStore(data) as store:
        left = await store.get("a-first")
        assert left is not None
        assert left.status == TaskStatus.RUNNING  # the kill left it mid-run on disk
        assert left.lease_owner is not None  # held by the dead process, lease not expired
        assert left.lease_expires_at is not None
        assert left.lease_expires_at > datetime.now(UTC)
        [beat] = await store.heartbeats()
        assert beat.pid == child.pid
        assert beat.stopped_at is None  # killed: no clean stop was recorded
        sched = Scheduler(store, handlers={"job": handler})
        # The writer lock proves its process is gone: taken back now, not at expiry.
        assert await sched.recover() == 1
        recovered = await store.get("a-first")
        assert recovered is not None
        assert (recovered.status, recovered.retry_count) == (TaskStatus.PENDING, 1)
        [crash] = recovered.history
        assert (crash.outcome, crash.scheduler_id) == (RunOutcome.CRASHED, left.lease_owner)
        await sched.run_once()
        assert sorted(ran) == ["a-first", "b-second"]
        done = await store.get("a-first")
        assert done is not None
        assert done.status == TaskStatus.SUCCEEDED
        assert [r.outcome for r in done.history] == [RunOutcome.CRASHED, RunOutcome.SUCCEEDED]
        assert done.history[0].planned_at == done.history[1].planned_at  # one slot, run again


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_gracefully_letting_the_running_task_finish(
    tmp_path: Path, sig: signal.Signals
) -> None:
    child, data, marks = start_child(tmp_path, sleep=0.5, grace=10)
    wait_for(marks / "a-first.started", child)
    child.send_signal(sig)
    _, err = child.communicate(timeout=20)
    assert child.returncode == 0, err.decode()
    assert (marks / "a-first.finished").exists()
    assert (marks / "scheduler.stopped").exists()
    assert not (marks / "b-second.started").exists()  # nothing new after the signal
    async with TaskStore(data) as store:
        first, second = await store.get("a-first"), await store.get("b-second")
        assert first is not None
        assert second is not None
        assert first.status == TaskStatus.SUCCEEDED
        assert second.status == TaskStatus.PENDING


async def test_sigterm_cancels_a_task_that_outlives_the_grace_period(tmp_path: Path) -> None:
    child, data, marks = start_child(tmp_path, sleep=3600, grace=0.2)
    wait_for(marks / "a-first.started", child)
    began = time.monotonic()
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=20)
    assert child.returncode == 0, err.decode()
    assert time.monotonic() - began < 10
    async with TaskStore(data) as store:
        first = await store.get("a-first")
        assert first is not None
        assert first.status == TaskStatus.PENDING  # persisted, to run again next time
        assert first.last_error is not None
        assert "cancelled" in first.last_error
        assert first.retry_count == 0
        assert [r.outcome for r in first.history] == [RunOutcome.CANCELLED]
        [beat] = await store.heartbeats()
        assert beat.stopped_at is not None  # a clean stop, even with a cancelled task
        assert beat.running == []
