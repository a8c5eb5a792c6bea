"""Time stamps as model defaults, marked so that a store can stamp them with its own clock."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["is_default_stamp", "utc_now"]


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
