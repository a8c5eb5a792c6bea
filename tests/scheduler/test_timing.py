"""The backoff and recurrence arithmetic."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradestore.scheduler.timing import next_recurring_run, retry_delay

from .helpers import START


@pytest.mark.parametrize(
    ("retry", "expected"), [(1, 5.0), (2, 10.0), (3, 20.0), (4, 40.0), (5, 60.0), (10_000, 60.0)]
)
def test_retry_delay_doubles_up_to_the_cap(retry: int, expected: float) -> None:
    assert retry_delay(retry, base=5.0, maximum=60.0) == timedelta(seconds=expected)


def test_next_run_is_one_interval_later_when_on_time() -> None:
    now = START + timedelta(seconds=3)
    assert next_recurring_run(START, 60, now) == START + timedelta(seconds=60)


def test_next_run_after_downtime_is_the_first_slot_after_now() -> None:
    now = START + timedelta(minutes=10, seconds=30)
    assert next_recurring_run(START, 60, now) == START + timedelta(minutes=11)


def test_next_run_exactly_on_a_slot_moves_to_the_following_one() -> None:
    now = START + timedelta(minutes=5)
    assert next_recurring_run(START, 60, now) == START + timedelta(minutes=6)


def test_non_positive_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        next_recurring_run(START, 0, START)
