"""The checks on str-keyed mappings and JSON values; the rules are in ``_checks``.

``ensure_token_usage`` and ``ensure_score_map`` check a mapping's keys and
values; ``ensure_json`` walks a JSON value (``metadata``, ``extra``) once,
node by node, within a budget that bounds the work on an oversized one, then
measures its encoded size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from tradestore.errors import ValidationError
from tradestore.models._checks import (
    _check_unicode,
    _fail,
    _refield,
    ensure_finite,
    ensure_non_negative_int,
    ensure_text,
)
from tradestore.models._limits import (
    MAX_IDENTIFIER_CHARS,
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    MAX_LIST_ITEMS,
)

__all__ = ["ensure_json", "ensure_json_object", "ensure_score_map", "ensure_token_usage"]

V = TypeVar("V")
_JSON_INT_MIN = -(2**63)
_JSON_INT_MAX = 2**64 - 1


def _check_mapping(
    value: object, field: str, check: Callable[[object, str], V], kind: type[V],
) -> dict[str, V]:
    """Return ``value`` if it is a dict of at most ``MAX_LIST_ITEMS`` str keys whose
    values pass ``check`` (each one not already a ``kind`` replaced by its normal
    form), or raise."""
    if not isinstance(value, dict):
        raise _fail(field, "a dict with str keys", value)
    if len(value) > MAX_LIST_ITEMS:
        raise _fail(field, f"at most {MAX_LIST_ITEMS} items", f"{len(value)} items")
    try:
        for key in value:
            ensure_text(key, f"{field} key", max_chars=MAX_IDENTIFIER_CHARS, allow_empty=False)
        for key, item in value.items():
            checked = check(item, f"{field}[{key!r}]")
            if type(item) is not kind:
                value[key] = checked
    except ValidationError as exc:
        raise _refield(exc, field) from None
    return value


def ensure_token_usage(value: object, field: str = "token_usage") -> dict[str, int]:
    """Return ``value`` if it maps non-blank str keys to non-negative ints, or raise."""
    return _check_mapping(value, field, ensure_non_negative_int, int)


def ensure_score_map(value: object, field: str = "scores") -> dict[str, float]:
    """Return ``value`` if it maps non-blank str keys to finite numbers (ints become floats)."""
    return _check_mapping(value, field, ensure_finite, float)


def _walk_json(value: object, field: str, depth: int, budget: list[int]) -> None:  # noqa: PLR0912  one branch per JSON kind, one pass
    """Raise unless ``value`` is plain JSON data; ``budget`` caps the nodes visited."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _fail(field, f"JSON data of at most {MAX_JSON_BYTES} bytes", "a larger value")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        _check_unicode(value, field)
        return
    if isinstance(value, int):
        if not _JSON_INT_MIN <= value <= _JSON_INT_MAX:
            raise _fail(field, "an int in the 64-bit range", value)
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _fail(field, "a finite float", value)
        return
    if depth >= MAX_JSON_DEPTH:
        raise _fail(field, f"JSON data nested at most {MAX_JSON_DEPTH} levels", "deeper data")
    if isinstance(value, list):
        for item in value:
            _walk_json(item, field, depth + 1, budget)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _fail(field, "dict keys of type str", key)
            _check_unicode(key, field)
            _walk_json(item, field, depth + 1, budget)
        return
    raise _fail(field, "JSON data (str, int, finite float, bool, None, list, dict)", value)


def ensure_json(value: object, field: str) -> Any:
    """Return ``value`` if it is plain, bounded JSON data (see the module docs), or raise."""
    if isinstance(value, dict | list) and not value:
        return value
    _walk_json(value, field, 0, [MAX_JSON_BYTES])
    if isinstance(value, dict | list):
        try:
            size = len(msgspec.json.encode(value))
        except (TypeError, ValueError, OverflowError) as exc:  # a subclass msgspec refuses
            raise _fail(field, "plain JSON data (no subclasses of str, int or float)",
                        value) from exc
        if size > MAX_JSON_BYTES:
            raise _fail(field, f"JSON data of at most {MAX_JSON_BYTES} bytes", f"{size} bytes")
    return value


def ensure_json_object(value: object, field: str) -> dict[str, Any]:
    """Return ``value`` if it is a dict of plain, bounded JSON data, or raise."""
    if not isinstance(value, dict):
        raise _fail(field, "a dict of JSON data", value)
    validated: dict[str, Any] = ensure_json(value, field)
    return validated
