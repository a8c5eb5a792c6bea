"""``tradestore status`` shows the schedulers' heartbeats and each task's last run."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tradestore import (
    BackgroundTask,
    RunOutcome,
    SchedulerHeartbeat,
    TaskPriority,
    TaskRun,
    TaskStatus,
    TaskStore,
)

from .conftest import invoke


def test_status_after_a_run_shows_the_stopped_scheduler_and_last_outcomes(
    demo_dir: Path,
) -> None:
    result = invoke("status", "--data-dir", demo_dir)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Schedulers" in out
    assert socket.gethostname()[:10] in out
    assert "stopped" in out
    assert "last outcome" in out
    assert "succeeded in" in out


def test_status_tells_alive_from_stale_and_hides_old_heartbeats(tmp_path: Path) -> None:
    now = datetime.now(UTC)

    def beat(scheduler_id: str, ago: timedelta, **extra: object) -> SchedulerHeartbeat:
        return SchedulerHeartbeat(scheduler_id=scheduler_id, host="box-" + scheduler_id, pid=7,
                                  started_at=now - ago, last_beat=now - ago, **extra)  # type: ignore[arg-type]  # test data

    async def seed() -> None:
        async with TaskStore(tmp_path) as store:
            await store.record_heartbeat(beat("live", timedelta(seconds=1), running=["job-a"]))
            await store.record_heartbeat(beat("dead", timedelta(minutes=5)))
            await store.record_heartbeat(beat("ancient", timedelta(days=3)))
            await store.save(BackgroundTask(
                task_id="job-a", task_type="job", priority=TaskPriority.HIGH,
                execute_at=now, status=TaskStatus.RUNNING, lease_owner="live",
                lease_expires_at=now + timedelta(seconds=30), lease_token=3,
                history=[TaskRun(started_at=now, finished_at=now, outcome=RunOutcome.RETRY,
                                 duration_seconds=1.25, error="boom")],
            ))

    asyncio.run(seed())
    result = invoke("status", "--data-dir", tmp_path)
    assert result.exit_code == 0, result.output
    out = result.output
    live = next(line for line in out.splitlines() if "box-live" in line)
    dead = next(line for line in out.splitlines() if "box-dead" in line)
    assert "alive" in live
    assert "job-a" in live
    assert "stale" in dead
    assert "box-ancient" not in out
    assert "1 scheduler(s) last seen over a day ago" in out
    task_line = next(line for line in out.splitlines() if line.strip("│ ").startswith("job-a"))
    assert "by live" in task_line
    assert "retry in 1.2s" in task_line
