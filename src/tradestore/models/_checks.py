"""The checks the models run on their fields and the stores on their arguments.

One naming rule: ``ensure_<kind>(value, field, ...)`` returns ``value`` as a valid
``<kind>`` (normalised where the kind says so: a symbol upper-cased, an int
where a float is expected turned into a float, a datetime subclass into a plain
datetime) or raises :class:`tradestore.errors.ValidationError` with ``field``
set, never a bare ``ValueError``/``TypeError``. ``ensure_optional_<kind>``
accepts None too. Types are checked exactly: ``bool`` is not accepted where an
``int`` is, a ``datetime`` is not accepted where a ``date`` is.

Identifiers:

- symbols: surrounding blanks (spaces and tabs) stripped, upper-cased; 1 to
  ``MAX_SYMBOL_CHARS`` ASCII letters, digits and ``. - _ & ^ = :`` with at
  least one letter or digit (``BRK.B``, ``M&M``, ``BAJAJ-AUTO``, ``^NSEI``,
  ``EURUSD=X``);
- task ids, task types, strategy names and fiscal periods: taken as given, 1 to
  ``MAX_IDENTIFIER_CHARS`` ASCII letters, digits and ``. - _ :`` with at
  least one letter or digit. No ``/``, ``\\``, blank or control character can
  pass, and neither can ``.`` or ``..``;
- news ids: 1 to ``MAX_NEWS_ID_CHARS`` printable ASCII characters without
  blanks, with a letter or digit; derived from the URL when empty (see
  ``news_id_for_url``).

Size limits (the numbers are in ``_limits``), so that oversized payloads are
refused before they are written:

- text fields: at most ``MAX_TEXT_CHARS`` characters, valid Unicode (no lone
  surrogates);
- URLs: at most ``MAX_URL_CHARS`` characters, no blank or control character;
- list fields and ``str``-keyed mappings (``token_usage``, ``scores``): at most
  ``MAX_LIST_ITEMS`` items; mapping keys are non-blank and at most
  ``MAX_IDENTIFIER_CHARS`` characters;
- JSON values (``metadata``, ``extra``): str, finite float, int in the 64-bit
  range, bool, None, lists and dicts with str keys, nested at most
  ``MAX_JSON_DEPTH`` levels, at most ``MAX_JSON_BYTES`` encoded;
- counts: integers from 0 to ``MAX_COUNT``.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone

from tradestore.errors import ValidationError
from tradestore.models._limits import (
    MAX_COUNT,
    MAX_IDENTIFIER_CHARS,
    MAX_LIST_ITEMS,
    MAX_NEWS_ID_CHARS,
    MAX_SYMBOL_CHARS,
    MAX_TEXT_CHARS,
    MAX_URL_CHARS,
)

__all__ = [
    "ensure_aware",
    "ensure_bool",
    "ensure_date",
    "ensure_finite",
    "ensure_identifier",
    "ensure_news_id",
    "ensure_non_negative_int",
    "ensure_optional_aware",
    "ensure_optional_date",
    "ensure_optional_finite",
    "ensure_str_list",
    "ensure_strategy_name",
    "ensure_symbol",
    "ensure_task_id",
    "ensure_text",
    "ensure_url",
]

_BLANKS = " \t"

# Lookahead: at least one letter or digit, so "..", "-" or "^" alone never pass.
_HAS_ALNUM = r"(?=[^A-Za-z0-9]*[A-Za-z0-9])"
_SYMBOL_RE = re.compile(rf"{_HAS_ALNUM}[A-Za-z0-9.\-_&^=:]{{1,{MAX_SYMBOL_CHARS}}}")
_IDENTIFIER_RE = re.compile(rf"{_HAS_ALNUM}[A-Za-z0-9.\-_:]{{1,{MAX_IDENTIFIER_CHARS}}}")
_NEWS_ID_RE = re.compile(rf"{_HAS_ALNUM}[!-~]{{1,{MAX_NEWS_ID_CHARS}}}")
_URL_RE = re.compile(rf"[!-~]{{1,{MAX_URL_CHARS}}}")

# Symbols repeat on every scheduler update: remember the accepted spellings.
_SYMBOL_CACHE: dict[str, str] = {}
_SYMBOL_CACHE_SIZE = 4096
_SYMBOL_CACHE_KEY_CHARS = 64


def _brief(value: object) -> str:
    """A short repr of ``value`` for error messages."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fail(field: str, expected: str, value: object) -> ValidationError:
    """The error for ``field`` holding ``value`` instead of ``expected``."""
    return ValidationError(f"{field}: expected {expected}, got {_brief(value)}", field=field)


def _refield(exc: ValidationError, field: str) -> ValidationError:
    """``exc`` (about one item, named in its message) re-aimed at the whole ``field``."""
    return ValidationError(exc.message, field=field)


def _plain_datetime(value: datetime) -> datetime:
    """``value`` as a plain ``datetime`` (subclasses such as pandas' Timestamp,
    pendulum's or freezegun's are turned into one: the encoder takes exact types)."""
    return datetime(value.year, value.month, value.day, value.hour, value.minute,
                    value.second, value.microsecond, tzinfo=value.tzinfo, fold=value.fold)


def ensure_symbol(value: object, field: str = "symbol") -> str:
    """Return the symbol stripped of surrounding blanks and upper-cased, or raise."""
    if type(value) is str:
        cached = _SYMBOL_CACHE.get(value)
        if cached is not None:
            return cached
    elif isinstance(value, str):
        value = str(value)
    else:
        raise _fail(field, "a str symbol", value)
    text = value.strip(_BLANKS)
    # Match before upper(): upper() maps some non-ASCII letters to ASCII ("ß" -> "SS").
    if _SYMBOL_RE.fullmatch(text) is None:
        raise _fail(
            field,
            f"1 to {MAX_SYMBOL_CHARS} ASCII letters, digits or '.-_&^=:' with a letter or digit",
            value,
        )
    symbol = text.upper()
    if len(value) <= _SYMBOL_CACHE_KEY_CHARS:
        if len(_SYMBOL_CACHE) >= _SYMBOL_CACHE_SIZE:
            _SYMBOL_CACHE.clear()
        _SYMBOL_CACHE[value] = symbol
    return symbol


def _plain_str(value: str) -> str:
    """``value`` as an exact ``str`` (a subclass such as numpy's ``str_`` becomes one:
    the encoder takes exact types)."""
    return value if type(value) is str else str.__str__(value)


def ensure_identifier(value: object, field: str) -> str:
    """Return ``value`` (as a plain str) if it is 1 to ``MAX_IDENTIFIER_CHARS`` of
    ``[A-Za-z0-9.-_:]``, or raise."""
    if not isinstance(value, str):
        raise _fail(field, "a str identifier", value)
    if _IDENTIFIER_RE.fullmatch(value) is None:
        raise _fail(
            field,
            f"1 to {MAX_IDENTIFIER_CHARS} ASCII letters, digits or '.-_:' with a letter or digit",
            value,
        )
    return _plain_str(value)


def ensure_task_id(value: object, field: str = "task_id") -> str:
    """Return ``value`` if it is a valid task id, or raise."""
    return ensure_identifier(value, field)


def ensure_strategy_name(value: object, field: str = "strategy_type") -> str:
    """Return ``value`` if it is a valid strategy name, or raise."""
    return ensure_identifier(value, field)


def ensure_news_id(value: object, field: str = "id") -> str:
    """Return ``value`` if it is a news id: printable ASCII without blanks, or raise.

    Provider ids vary ("reuters:123", base64, UUIDs), hence the wide alphabet.
    """
    if not isinstance(value, str):
        raise _fail(field, "a str", value)
    if _NEWS_ID_RE.fullmatch(value) is None:
        raise _fail(
            field,
            f"1 to {MAX_NEWS_ID_CHARS} printable ASCII characters without blanks, "
            "with a letter or digit",
            value,
        )
    return _plain_str(value)


def ensure_aware(value: object, field: str) -> datetime:
    """Return ``value`` if it is a timezone-aware datetime, or raise."""
    if type(value) is datetime and type(value.tzinfo) is timezone:
        return value  # fast path: a fixed-offset zone always has an offset
    if not isinstance(value, datetime):
        raise _fail(field, "an aware datetime", value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise _fail(field, "an aware datetime (naive datetimes are refused)", value)
    if type(value) is not datetime:
        return _plain_datetime(value)
    return value


def ensure_optional_aware(value: object, field: str) -> datetime | None:
    """Return ``value`` if it is None or a timezone-aware datetime, or raise."""
    return None if value is None else ensure_aware(value, field)


def ensure_date(value: object, field: str) -> date:
    """Return ``value`` if it is a date (and not a datetime), or raise.

    A subclass of ``date`` (not of ``datetime``) is returned as a plain ``date``.
    """
    if type(value) is date:
        return value
    if isinstance(value, datetime):
        raise _fail(field, "a date (not a datetime)", value)
    if not isinstance(value, date):
        raise _fail(field, "a date", value)
    return date(value.year, value.month, value.day)


def ensure_optional_date(value: object, field: str) -> date | None:
    """Return ``value`` if it is None or a date (not a datetime), or raise."""
    return None if value is None else ensure_date(value, field)


def ensure_finite(
    value: object,
    field: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """Return ``value`` as a finite float (ints accepted, bools not) within bounds, or raise."""
    if isinstance(value, bool) or not isinstance(value, float | int):
        raise _fail(field, "a finite number", value)
    try:
        number = float(value)
    except OverflowError:
        raise _fail(field, "a finite number", value) from None
    if not math.isfinite(number):
        raise _fail(field, "a finite number", value)
    if minimum is not None and number < minimum:
        raise _fail(field, f"a number >= {minimum}", value)
    if maximum is not None and number > maximum:
        raise _fail(field, f"a number <= {maximum}", value)
    return number


def ensure_optional_finite(
    value: object,
    field: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float | None:
    """Return ``value`` if it is None, else as checked by :func:`ensure_finite`."""
    if value is None:
        return None
    return ensure_finite(value, field, minimum=minimum, maximum=maximum)


def ensure_non_negative_int(value: object, field: str) -> int:
    """Return ``value`` if it is an int (not a bool) from 0 to ``MAX_COUNT``, or raise."""
    if type(value) is int and 0 <= value <= MAX_COUNT:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field, "a non-negative int", value)
    if not 0 <= value <= MAX_COUNT:
        raise _fail(field, f"an int from 0 to {MAX_COUNT}", value)
    return int(value)


def ensure_bool(value: object, field: str) -> bool:
    """Return ``value`` if it is a bool, or raise."""
    if not isinstance(value, bool):
        raise _fail(field, "a bool", value)
    return value


def _check_unicode(value: str, field: str) -> None:
    """Raise unless ``value`` can be encoded as UTF-8 (no lone surrogates)."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _fail(field, "valid Unicode text (no lone surrogates)", value) from None


def ensure_text(
    value: object,
    field: str,
    *,
    max_chars: int = MAX_TEXT_CHARS,
    allow_empty: bool = True,
) -> str:
    """Return ``value`` (as a plain str) if it is a str of at most ``max_chars`` valid
    characters, or raise."""
    if not isinstance(value, str):
        raise _fail(field, "a str", value)
    if len(value) > max_chars:
        raise _fail(field, f"text of at most {max_chars} characters", value)
    if not allow_empty and not value.strip():
        raise _fail(field, "non-blank text", value)
    _check_unicode(value, field)
    return _plain_str(value)


def ensure_url(value: object, field: str = "url") -> str:
    """Return ``value`` stripped of surrounding blanks if it is empty or a plausible URL."""
    if not isinstance(value, str):
        raise _fail(field, "a str URL", value)
    text = value.strip(_BLANKS)
    if text and _URL_RE.fullmatch(text) is None:
        raise _fail(
            field,
            f"at most {MAX_URL_CHARS} printable ASCII characters without blanks",
            value,
        )
    return text


def ensure_str_list(value: object, field: str) -> list[str]:
    """Return ``value`` if it is a list of at most ``MAX_LIST_ITEMS`` valid strs, or raise."""
    if not isinstance(value, list):
        raise _fail(field, "a list of str", value)
    if len(value) > MAX_LIST_ITEMS:
        raise _fail(field, f"at most {MAX_LIST_ITEMS} items", f"{len(value)} items")
    try:
        for index, item in enumerate(value):
            if type(item) is str and item.isascii() and len(item) <= MAX_TEXT_CHARS:
                continue  # what ensure_text would pass unchanged, without its call
            value[index] = ensure_text(item, f"{field}[{index}]")
    except ValidationError as exc:
        raise _refield(exc, field) from None
    return value
