"""The pure status-change rules the scheduler persists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tradestore import BackgroundTask, TaskPriority, TaskStatus
from tradestore.scheduler.transitions import after_crash, after_failure, after_success

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _task(**kw: object) -> BackgroundTask:
    fields: dict[str, object] = {"task_id": "t", "task_type": "x", "priority": TaskPriority.HIGH,
                                 "execute_at": T0}
    fields.update(kw)
    return BackgroundTask(**fields)  # type: ignore[arg-type]  # test data, validated by the model


def test_one_shot_success_is_final_and_clears_errors() -> None:
    changes, next_run = after_success(_task(retry_count=2, last_error="boom"), {"n": 1}, T0)
    assert changes["status"] == TaskStatus.SUCCEEDED
    assert (changes["retry_count"], changes["last_error"], next_run) == (0, None, None)
    assert changes["metadata"] == {"last_result": {"n": 1}}


def test_recurring_success_after_downtime_runs_once_on_the_grid() -> None:
    task = _task(interval_seconds=60.0, next_execution=T0)
    now = T0 + timedelta(minutes=10, seconds=5)  # ten slots missed
    changes, next_run = after_success(task, None, now)
    assert changes["status"] == TaskStatus.PENDING
    assert next_run == T0 + timedelta(minutes=11)
    assert changes["next_execution"] == next_run


def test_failure_backs_off_exponentially_then_fails() -> None:
    delays = []
    task = _task(max_retries=3)
    for retry in range(1, 4):
        task = _task(max_retries=3, retry_count=retry - 1)
        changes, next_run, kind = after_failure(task, "E", T0, final=False, backoff_base=5,
                                                backoff_max=300)
        assert kind == "retry"
        assert next_run is not None
        delays.append((next_run - T0).total_seconds())
    assert delays == [5, 10, 20]
    changes, next_run, kind = after_failure(_task(max_retries=3, retry_count=3), "E", T0,
                                            final=False, backoff_base=5, backoff_max=300)
    assert (kind, next_run, changes["status"], changes["last_error"]) == (
        "failed", None, TaskStatus.FAILED, "E")


def test_crash_counts_as_a_retry() -> None:
    assert after_crash(_task(retry_count=0, max_retries=1), "x")["status"] == TaskStatus.PENDING
    assert after_crash(_task(retry_count=1, max_retries=1), "x")["status"] == TaskStatus.FAILED
