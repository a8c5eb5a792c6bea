"""Time stamps as model defaults, marked so that a store can stamp them with its own clock.

Also the store clock itself, as both backends take and read it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from tradestore.errors import ValidationError

__all__ = ["Clock", "ensure_clock", "is_default_stamp", "read_clock", "utc_now"]

Clock = Callable[[], datetime]
"""A zero-argument callable returning the current timezone-aware datetime.

The one definition: the stores, the contracts and the scheduler all name this.
"""


def _now() -> datetime:
    return datetime.now(UTC)


def ensure_clock(clock: object) -> Clock:
    """A store's ``clock=`` argument: a zero-argument callable, or None for UTC now."""
    if clock is None:
        return _now
    if not callable(clock):
        raise ValidationError("clock must be a callable returning an aware datetime",
                              field="clock")
    return clock


def read_clock(clock: Clock) -> datetime:
    """``clock()``, refused with ValidationError unless it is timezone-aware."""
    value = clock()
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError("the clock must return a timezone-aware datetime",
                              field="clock")
    return value


def utc_now() -> datetime:
    """The current time as an aware UTC datetime (the default for time stamps).

    The value is marked as a default with ``fold=1`` (which means nothing for UTC:
    it compares, hashes and encodes as any other UTC time, and no UTC time read
    from a clock or a file has it), so that a store saving a model stamps the
    field with its own clock's time instead: see :func:`is_default_stamp`.
    """
    return datetime.now(UTC).replace(fold=1)


def is_default_stamp(value: object) -> bool:
    """Whether ``value`` is a time stamp made by :func:`utc_now` as a field default."""
    return type(value) is datetime and value.fold == 1 and value.tzinfo is UTC
