"""Decoding an import document record by record, with the fixes legacy files need.

Every record is decoded on its own, so one bad record is named by its section,
index and key (and, with ``skip_invalid``, left out and reported) instead of
failing the whole document with a decoder's message. Before decoding:

- enum values are case-folded (``"PENDING"`` -> ``"pending"``, ``"HIGH"`` ->
  ``"high"``), and so is a task type whose lower case is a well-known one
  (``"NEWS_MONITORING"`` -> ``"news_monitoring"``); other task types are kept;
- a timestamp Python reads as ISO (``"2025-01-02 09:15"`` too) is accepted, and
  with ``assume_tz`` a naive one (no offset) is read as a time in that zone
  (``"2025-01-02T09:15:00"`` with Asia/Kolkata is ``09:15+05:30``); without it, a
  naive timestamp is an invalid record.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from tradestore import TaskType, TradingError
from tradestore._cli.common import UserError

__all__ = ["ImportOptions", "Skipped", "decode_records", "localize"]

_KNOWN_TASK_TYPES = frozenset(member.value for member in TaskType)
_KEY_FIELDS = ("task_id", "id", "symbol", "strategy_type")


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How lenient an import is."""

    assume_tz: ZoneInfo | None = None
    skip_invalid: bool = False


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record left out of an import, and why."""

    section: str
    index: int
    key: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.section}[{self.index}]" + (f" ({self.key})" if self.key else "")
        return f"{where}: {self.reason}"


def _members(annotation: Any) -> tuple[Any, ...]:
    """The types a field annotation allows (``X | None`` -> ``(X, NoneType)``)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return typing.get_args(annotation)
    return (annotation,)


def _field_kinds(cls: type[msgspec.Struct]) -> dict[str, str]:
    """Field name -> ``"datetime"`` or ``"enum"`` for the fields the fixes apply to."""
    kinds: dict[str, str] = {}
    for field in msgspec.structs.fields(cls):
        for member in _members(field.type):
            if member is dt.datetime:
                kinds[field.name] = "datetime"
            elif isinstance(member, type) and issubclass(member, StrEnum):
                kinds[field.name] = "enum"
    return kinds


def localize(value: str, tz: ZoneInfo | None) -> str:
    """``value`` in RFC 3339 form if Python reads it as an ISO timestamp (``"2025-01-02
    09:15"`` too), with ``tz`` attached when it is naive; else unchanged."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return value  # the decoder names what is wrong with it
    if parsed.tzinfo is None and tz is not None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.isoformat()


def _prepare(record: dict[str, Any], kinds: dict[str, str], options: ImportOptions,
             cls: type[msgspec.Struct]) -> dict[str, Any]:
    fixed = dict(record)
    for name, kind in kinds.items():
        value = fixed.get(name)
        if not isinstance(value, str):
            continue
        if kind == "enum":
            fixed[name] = value.strip().lower()
        else:
            fixed[name] = localize(value, options.assume_tz)
    task_type = fixed.get("task_type")
    if (cls.__name__ == "BackgroundTask" and isinstance(task_type, str)
            and task_type.lower() in _KNOWN_TASK_TYPES):
        fixed["task_type"] = task_type.lower()
    return fixed


def _key(record: object) -> str:
    if isinstance(record, dict):
        for name in _KEY_FIELDS:
            value = record.get(name)
            if isinstance(value, str) and value:
                return value[:64]
    return ""


def _reason(exc: Exception) -> str:
    text = exc.message if isinstance(exc, TradingError) else str(exc)
    if "naive" in text:
        text += " (use --assume-tz ZONE to read naive timestamps in a zone)"
    return text


def decode_records(
    sections: dict[str, type[msgspec.Struct]], header: dict[str, Any], options: ImportOptions
) -> tuple[dict[str, list[Any]], list[Skipped]]:
    """Each section's records decoded one by one; the skipped ones when ``skip_invalid``.

    :raises UserError: a section is not a list, or a record is invalid and
        ``skip_invalid`` is off (the message names the record).
    """
    decoded: dict[str, list[Any]] = {}
    skipped: list[Skipped] = []
    for section, cls in sections.items():
        raw = header.get(section, [])
        if not isinstance(raw, list):
            raise UserError(f"invalid export document: {section} is not a list")
        kinds = _field_kinds(cls)
        records: list[Any] = []
        for index, record in enumerate(raw):
            try:
                if not isinstance(record, dict):
                    raise ValueError(f"expected an object, got {type(record).__name__}")
                fixed = _prepare(record, kinds, options, cls)
                records.append(msgspec.json.decode(msgspec.json.encode(fixed), type=cls))
            except (msgspec.ValidationError, ValueError, TradingError) as exc:
                problem = Skipped(section, index, _key(record), _reason(exc))
                if not options.skip_invalid:
                    raise UserError(f"invalid export document: {problem} "
                                    "(--skip-invalid leaves such records out)") from exc
                skipped.append(problem)
        decoded[section] = records
    return decoded, skipped
