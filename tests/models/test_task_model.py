"""BackgroundTask and its enums."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from tradestore.errors import ValidationError
from tradestore.models import BackgroundTask, TaskPriority, TaskStatus, TaskType


def make_task(now: datetime, **changes: Any) -> BackgroundTask:
    """A valid task with ``changes`` applied."""
    fields: dict[str, Any] = {
        "task_id": "news-AAPL",
        "task_type": TaskType.NEWS_MONITORING,
        "priority": TaskPriority.HIGH,
        "execute_at": now,
    }
    fields.update(changes)
    return BackgroundTask(**fields)


def test_enum_values_are_lower_case_names() -> None:
    for enum in (TaskType, TaskPriority, TaskStatus):
        for member in enum:
            assert member.value == member.name.lower()
    assert len(TaskType) == 15
    assert TaskType("deep_fundamental_analysis") is TaskType.DEEP_FUNDAMENTAL_ANALYSIS
    assert isinstance(TaskType.HEALTH_CHECK, str)
    assert [p.value for p in TaskPriority] == ["critical", "high", "medium", "low"]
    assert [s.value for s in TaskStatus] == ["pending", "running", "succeeded", "failed"]


def test_priority_rank_orders_critical_first() -> None:
    assert [p.rank for p in TaskPriority] == [0, 1, 2, 3]
    assert sorted(reversed(TaskPriority), key=lambda p: p.rank) == [
        TaskPriority.CRITICAL,
        TaskPriority.HIGH,
        TaskPriority.MEDIUM,
        TaskPriority.LOW,
    ]


def test_defaults(now: datetime) -> None:
    task = make_task(now)
    assert task.interval_seconds is None
    assert task.max_retries == 3
    assert task.retry_count == 0
    assert task.last_executed is None
    assert task.next_execution is None
    assert task.is_active is True
    assert task.status is TaskStatus.PENDING
    assert task.last_error is None
    assert task.metadata == {}
    assert make_task(now).metadata is not task.metadata


def test_positional_construction_follows_the_contract_order(now: datetime) -> None:
    task = BackgroundTask("t1", "health_check", TaskPriority.LOW, now, 60)
    assert (task.task_id, task.task_type, task.priority, task.execute_at) == (
        "t1",
        "health_check",
        TaskPriority.LOW,
        now,
    )
    assert task.interval_seconds == 60.0
    assert type(task.interval_seconds) is float


def test_task_type_accepts_any_identifier(now: datetime) -> None:
    assert make_task(now, task_type="custom.rebalance").task_type == "custom.rebalance"
    assert make_task(now, task_type=TaskType.AI_PLANNING).task_type == "ai_planning"


def test_priority_and_status_accept_their_values(now: datetime) -> None:
    task = make_task(now, priority="critical", status="running")
    assert task.priority is TaskPriority.CRITICAL
    assert task.status is TaskStatus.RUNNING


def test_run_at_prefers_next_execution(now: datetime) -> None:
    later = now + timedelta(minutes=5)
    assert make_task(now).run_at == now
    assert make_task(now, next_execution=later).run_at == later


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("task_id", ""),
        ("task_id", "../../x"),
        ("task_id", "a/b"),
        ("task_id", ".."),
        ("task_id", "t\x00"),
        ("task_id", "a" * 129),
        ("task_id", 7),
        ("task_type", ""),
        ("task_type", "bad type"),
        ("task_type", None),
        ("priority", "urgent"),
        ("priority", 1),
        ("execute_at", datetime(2025, 1, 1)),
        ("execute_at", date(2025, 1, 1)),
        ("execute_at", "2025-01-01T00:00:00Z"),
        ("interval_seconds", 0),
        ("interval_seconds", -1.0),
        ("interval_seconds", math.nan),
        ("interval_seconds", math.inf),
        ("interval_seconds", True),
        ("interval_seconds", "60"),
        ("max_retries", -1),
        ("max_retries", True),
        ("max_retries", 1.0),
        ("retry_count", -1),
        ("retry_count", False),
        ("last_executed", datetime(2025, 1, 1)),
        ("next_execution", datetime(2025, 1, 1)),
        ("is_active", 1),
        ("is_active", None),
        ("status", "done"),
        ("last_error", 5),
        ("last_error", "x" * 70_000),
        ("metadata", {"a": math.nan}),
        ("metadata", {"a": {1, 2}}),
        ("metadata", {1: "a"}),
        ("metadata", []),
        ("metadata", None),
    ],
)
def test_bad_values_are_refused(now: datetime, field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        make_task(now, **{field: value})
    assert info.value.field == field


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("task_id", "a/b"),
        ("retry_count", -1),
        ("execute_at", datetime(2025, 1, 1)),
        ("interval_seconds", math.nan),
        ("status", "bogus"),
    ],
)
def test_validate_catches_mutation_after_construction(
    now: datetime, field: str, value: object
) -> None:
    task = make_task(now)
    setattr(task, field, value)
    with pytest.raises(ValidationError) as info:
        task.validate()
    assert info.value.field == field


def test_validate_catches_nested_metadata_mutation(now: datetime) -> None:
    task = make_task(now, metadata={"symbols": ["AAPL"]})
    task.metadata["symbols"].append(math.inf)
    with pytest.raises(ValidationError):
        task.validate()


def test_clone_is_deep(now: datetime) -> None:
    task = make_task(now, metadata={"symbols": ["AAPL"], "opts": {"depth": 1}})
    copy = task.clone()
    assert copy == task
    assert copy is not task
    copy.metadata["symbols"].append("MSFT")
    copy.metadata["opts"]["depth"] = 2
    copy.metadata["new"] = True
    copy.retry_count = 2
    assert task.metadata == {"symbols": ["AAPL"], "opts": {"depth": 1}}
    assert task.retry_count == 0


def test_clone_of_empty_metadata_is_a_new_dict(now: datetime) -> None:
    task = make_task(now)
    copy = task.clone()
    copy.metadata["x"] = 1
    assert task.metadata == {}


def test_json_round_trip(now: datetime) -> None:
    task = make_task(
        now,
        task_type="custom",
        interval_seconds=300,
        retry_count=1,
        last_executed=now - timedelta(minutes=5),
        next_execution=now + timedelta(minutes=5),
        status=TaskStatus.FAILED,
        last_error="timeout",
        metadata={"symbols": ["AAPL", "MSFT"], "depth": 2, "ratio": 0.5, "on": None},
    )
    decoded = msgspec.json.decode(msgspec.json.encode(task), type=BackgroundTask)
    assert decoded == task
    assert decoded.priority is TaskPriority.HIGH
    assert decoded.status is TaskStatus.FAILED


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("task_id", "../x"),
        ("execute_at", "2025-01-01T00:00:00"),
        ("retry_count", -3),
        ("interval_seconds", 0),
        ("metadata", {"a": {"b": [1, "x"]}, "c": 10**30}),
    ],
)
def test_decoding_bad_documents_fails(now: datetime, field: str, value: object) -> None:
    document = msgspec.to_builtins(make_task(now))
    document[field] = value
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode(document), type=BackgroundTask)


def test_decoding_ignores_unknown_fields(now: datetime) -> None:
    document = msgspec.to_builtins(make_task(now))
    document["added_in_a_later_version"] = 1
    decoded = msgspec.json.decode(msgspec.json.encode(document), type=BackgroundTask)
    assert decoded == make_task(now)
