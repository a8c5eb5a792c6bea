"""Copies of the models' mutable fields, for ``clone()``: share no container, never raise."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["copy_container", "copy_json"]

_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def copy_container(value: Any) -> Any:
    """A copy of a list or dict field of scalars; any other value (a wrong type that
    validate() will refuse) is copied without assuming its shape, so cloning never raises."""
    kind = type(value)
    if kind is list or kind is dict:
        return value.copy()
    return copy_json(value)


def copy_json(value: Any) -> Any:
    """A deep copy of JSON-like data: every dict and list is new, scalars are shared."""
    kind = type(value)
    if kind is dict:  # the common cases first: a C-level copy, then only the containers
        out = value.copy()
        for key, item in out.items():
            if type(item) not in _SCALAR_TYPES:
                out[key] = copy_json(item)  # same key: the dict does not change size
        return out
    if kind is list:
        items = value.copy()
        for i, item in enumerate(items):
            if type(item) not in _SCALAR_TYPES:
                items[i] = copy_json(item)
        return items
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    if value is None or isinstance(value, str | int | float):
        return value
    # Not JSON (a caller mutated a field after validation): still share nothing.
    return copy.deepcopy(value)
