"""The pure status-change rules the scheduler persists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tradestore import BackgroundTask, RunOutcome, TaskPriority, TaskRun, TaskStatus
from tradestore.scheduler.transitions import (
    TaskOutcome,
    after_crash,
    after_failure,
    after_success,
    cancelled,
    crashed,
    failed,
    planned_time,
    succeeded,
)

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


def _run(outcome: RunOutcome, planned: datetime) -> TaskRun:
    return TaskRun(started_at=planned, finished_at=planned, outcome=outcome,
                   duration_seconds=0.0, planned_at=planned)


def test_planned_time_is_the_run_time_except_for_a_retry_of_an_earlier_slot() -> None:
    assert planned_time(_task()) == T0
    later = T0 + timedelta(minutes=5)
    assert planned_time(_task(next_execution=later)) == later
    for unfinished in (RunOutcome.RETRY, RunOutcome.CRASHED, RunOutcome.CANCELLED):
        retry = _task(retry_count=1, next_execution=later, history=[_run(unfinished, T0)])
        assert planned_time(retry) == T0  # the slot the retry repeats
    after_success_run = _task(retry_count=1, next_execution=later,
                              history=[_run(RunOutcome.SUCCEEDED, T0)])
    assert planned_time(after_success_run) == later
    fresh = _task(retry_count=0, next_execution=later, history=[_run(RunOutcome.RETRY, T0)])
    assert planned_time(fresh) == later  # retries reset: a new slot


def test_every_outcome_is_one_type_with_its_run() -> None:
    task = _task(max_retries=1, last_executed=T0, history=[])
    now = T0 + timedelta(seconds=2)
    ok = succeeded(task, {"n": 1}, started_at=T0, now=now, duration=2.0, host="h",
                   scheduler_id="s")
    retry = failed(task, "E", started_at=T0, now=now, duration=2.0, final=False,
                   backoff_base=5, backoff_max=300)
    final = failed(task, "E", started_at=T0, now=now, duration=2.0, final=True,
                   backoff_base=5, backoff_max=300)
    stop = cancelled(task, "C", started_at=T0, now=now, duration=2.0)
    crash = crashed(task, "X", now=T0 + timedelta(seconds=30), scheduler_id="dead")
    assert [o.kind for o in (ok, retry, final, stop, crash)] == [
        "succeeded", "retry", "failed", "cancelled", "recovered"]
    assert all(isinstance(o, TaskOutcome) for o in (ok, retry, final, stop, crash))
    assert (ok.run.host, ok.run.scheduler_id, ok.run.planned_at, ok.result) == ("h", "s", T0,
                                                                                  {"n": 1})
    assert retry.next_run == now + timedelta(seconds=5)
    assert (final.changes["status"], final.next_run) == (TaskStatus.FAILED, None)
    assert stop.changes == {"status": TaskStatus.PENDING, "last_error": "C"}  # not a retry
    assert (crash.run.duration_seconds, crash.run.scheduler_id) == (30.0, "dead")
    assert crash.changes["retry_count"] == 1
    assert "history" not in ok.changes  # the store appends the run itself
