"""The size limits every model and store check enforces, so oversized input is refused
before it is written. The patterns and messages of ``_checks`` are built from these."""

from __future__ import annotations

__all__ = [
    "MAX_COUNT",
    "MAX_IDENTIFIER_CHARS",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_LIST_ITEMS",
    "MAX_NEWS_ID_CHARS",
    "MAX_SYMBOL_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_URL_CHARS",
]

MAX_SYMBOL_CHARS = 32
"""Longest symbol, after surrounding blanks are stripped."""
MAX_IDENTIFIER_CHARS = 128
"""Longest task id, task type, strategy name, fiscal period or mapping key."""
MAX_NEWS_ID_CHARS = 256
"""Longest news id."""
MAX_TEXT_CHARS = 65_536
"""Longest text field, in characters."""
MAX_URL_CHARS = 8_192
"""Longest URL."""
MAX_LIST_ITEMS = 10_000
"""Most items in a list field or a str-keyed mapping."""
MAX_JSON_DEPTH = 32
"""Deepest nesting of a JSON value (``metadata``, ``extra``)."""
MAX_JSON_BYTES = 1_048_576
"""Largest JSON value, encoded."""
MAX_COUNT = 2**63 - 1
"""Largest count (``fetch_count``, ``wins``, ...)."""
