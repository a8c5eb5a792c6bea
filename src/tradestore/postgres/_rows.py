"""Models <-> table rows: one typed column per field, derived from the model's annotations.

Column kinds, from a field's type:

- ``str`` -> ``text``; ``int`` -> ``bigint``; ``float`` -> ``double precision``;
  ``bool`` -> ``boolean``; ``date`` -> ``date``; a ``StrEnum`` -> ``text``;
  ``list[str]`` -> ``text[]``;
- ``datetime`` -> two columns, ``<name>`` (``timestamptz``, what queries sort and
  compare) and ``<name>_off`` (the value's UTC offset in seconds), so a value comes
  back with the offset it was given, as the file backend returns it;
- anything else (open dicts, nested lists of structs) -> ``jsonb``.

PostgreSQL text, arrays and ``jsonb`` cannot hold the NUL character, which
tradestore accepts in free text. Strings that contain NUL (or that start with
U+0001, the escape mark) are stored escaped: U+0001, then the text with U+0001
written as U+0001 U+0001 and NUL as U+0001 U+0002. Every other string is stored
as it is, so SQL readers see plain text; decoding restores the exact original.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, Union, get_args, get_origin

import msgspec

from tradestore.models._base import Model, trusted_decode

__all__ = ["RowCodec", "escape_json", "escape_text", "unescape_json", "unescape_text"]

M = TypeVar("M", bound=Model)
_MARK = "\x01"
_UNESCAPE_RE = re.compile("\x01(.)", re.DOTALL)
_UNESCAPES = {"\x01": "\x01", "\x02": "\x00"}


def escape_text(value: str) -> str:
    """``value`` as PostgreSQL can store it (unchanged unless it has NUL or starts with U+0001)."""
    if "\x00" not in value and not value.startswith(_MARK):
        return value
    return _MARK + value.replace(_MARK, "\x01\x01").replace("\x00", "\x01\x02")


def unescape_text(value: str) -> str:
    """The original of a value written by ``escape_text``."""
    if not value.startswith(_MARK):
        return value
    return _UNESCAPE_RE.sub(lambda m: _UNESCAPES.get(m.group(1), m.group(1)), value[1:])


def _walk(value: Any, fix: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, list):
        return [_walk(v, fix) for v in value]
    if isinstance(value, dict):
        return {fix(k): _walk(v, fix) for k, v in value.items()}
    return value


def escape_json(value: Any) -> str:
    """``value`` encoded as JSON text for a ``jsonb`` parameter, NUL-bearing strings escaped."""
    raw = msgspec.json.encode(value)
    if b"\\u0000" in raw or b"\\u0001" in raw:
        raw = msgspec.json.encode(_walk(msgspec.json.decode(raw), escape_text))
    return raw.decode()


def unescape_json(text: str) -> Any:
    """The JSON value of a ``jsonb`` column read as text, escapes undone."""
    value = msgspec.json.decode(text)
    if "\\u0001" in text:
        value = _walk(value, unescape_text)
    return value


class _Field:
    __slots__ = ("decoder", "enum", "kind", "name", "optional")

    def __init__(self, name: str, annotation: Any) -> None:
        self.name = name
        args = get_args(annotation)
        self.optional = (get_origin(annotation) in (Union, types.UnionType)
                         and type(None) in args)
        base = next((a for a in args if a is not type(None)), annotation) if self.optional \
            else annotation
        self.enum: type[enum.Enum] | None = None
        self.decoder: msgspec.json.Decoder[Any] | None = None
        if base is dt.datetime:
            self.kind = "ts"
        elif base is dt.date:
            self.kind = "date"
        elif isinstance(base, type) and issubclass(base, enum.Enum):
            self.kind, self.enum = "enum", base
        elif base is bool:
            self.kind = "bool"
        elif base is int:
            self.kind = "int"
        elif base is float:
            self.kind = "float"
        elif base is str:
            self.kind = "text"
        elif get_origin(base) is list and get_args(base) == (str,):
            self.kind = "textlist"
        else:
            self.kind = "json"
            self.decoder = msgspec.json.Decoder(base)

    def columns(self) -> list[str]:
        return [self.name, f"{self.name}_off"] if self.kind == "ts" else [self.name]

    def select(self) -> list[str]:
        if self.kind == "json":
            return [f"{self.name}::text"]
        return self.columns()

    def dump(self, value: Any) -> list[Any]:  # noqa: PLR0911  # one return per column kind
        if value is None:
            return [None, None] if self.kind == "ts" else [None]
        kind = self.kind
        if kind == "ts":
            offset = value.utcoffset()
            return [value, int(offset.total_seconds()) if offset is not None else 0]
        if kind == "text":
            return [escape_text(value)]
        if kind == "enum":
            return [str(value.value)]
        if kind == "textlist":
            return [[escape_text(v) for v in value]]
        if kind == "json":
            return [escape_json(value)]
        return [value]

    def load(self, row: Sequence[Any], at: int) -> Any:  # noqa: PLR0911  # one per column kind
        value = row[at]
        if value is None:
            return None
        kind = self.kind
        if kind == "ts":
            offset = row[at + 1] or 0
            zone = dt.UTC if offset == 0 else dt.timezone(dt.timedelta(seconds=offset))
            return value.astimezone(zone)
        if kind == "text":
            return unescape_text(value) if value.startswith(_MARK) else value
        if kind == "enum":
            assert self.enum is not None
            return self.enum(value)
        if kind == "textlist":
            return [unescape_text(v) if v.startswith(_MARK) else v for v in value]
        if kind == "json":
            assert self.decoder is not None
            if "\\u0001" in value:
                return msgspec.convert(unescape_json(value), self.decoder.type)
            return self.decoder.decode(value)
        return value


class RowCodec(Generic[M]):
    """The columns of ``model``'s table and the conversions between rows and models."""

    def __init__(self, model: type[M], table: str, *, exclude: Sequence[str] = ()) -> None:
        self.model = model
        self.table = table
        self.fields = [_Field(f.name, f.type) for f in msgspec.structs.fields(model)
                       if f.name not in exclude]
        self.columns = [c for f in self.fields for c in f.columns()]
        self.select_list = ", ".join(c for f in self.fields for c in f.select())
        self.placeholders = ", ".join(
            "%s::jsonb" if f.kind == "json" else "%s" for f in self.fields for _ in f.columns()
        )
        self.column_list = ", ".join(self.columns)

    def field(self, name: str) -> _Field:
        """The field called ``name``."""
        return next(f for f in self.fields if f.name == name)

    def dump(self, record: M) -> list[Any]:
        """The column values of ``record``, in ``columns`` order."""
        out: list[Any] = []
        for f in self.fields:
            out.extend(f.dump(getattr(record, f.name)))
        return out

    def dump_fields(self, values: dict[str, Any]) -> tuple[list[str], list[str], list[Any]]:
        """(columns, placeholders, values) for the named fields only."""
        cols: list[str] = []
        marks: list[str] = []
        params: list[Any] = []
        for f in self.fields:
            if f.name in values:
                cols.extend(f.columns())
                marks.extend("%s::jsonb" if f.kind == "json" else "%s" for _ in f.columns())
                params.extend(f.dump(values[f.name]))
        return cols, marks, params

    def values(self, row: Sequence[Any]) -> dict[str, Any]:
        """The field values of a row selected with ``select_list``."""
        found: dict[str, Any] = {}
        at = 0
        for f in self.fields:
            found[f.name] = f.load(row, at)
            at += 2 if f.kind == "ts" else 1
        return found

    def load(self, row: Sequence[Any], *, validate: bool = False) -> M:
        """The model of a row selected with ``select_list``.

        Rows were validated before they were written and the columns' types and
        CHECK constraints hold them to it, so reads skip ``validate()`` (as the
        file backend does for checksummed files); ``verify()`` passes
        ``validate=True`` to check every row in full.
        """
        values = self.values(row)
        if validate:
            return self.model(**values)
        with trusted_decode():
            return self.model(**values)
