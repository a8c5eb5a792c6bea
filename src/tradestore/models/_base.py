"""The common base of the models: validation on construction and decoding, and copies."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Self

import msgspec

from tradestore.errors import ValidationError
from tradestore.models._stamps import is_default_stamp, utc_now

__all__ = ["Model", "trusted_decode"]

_trust = threading.local()


@contextlib.contextmanager
def trusted_decode() -> Iterator[None]:
    """Decode models in this thread without running ``validate()`` on each.

    Only for bytes known to be what tradestore wrote from validated models (a
    file whose checksum matched): msgspec still checks every field's type, and
    the per-record checks would only repeat work already done before writing.
    """
    _trust.on = True
    try:
        yield
    finally:
        _trust.on = False


class Model(msgspec.Struct):
    """A mutable struct that validates itself when built, decoded or asked to."""

    def __post_init__(self) -> None:
        self._normalize()
        if not getattr(_trust, "on", False):
            self.validate()

    def _normalize(self) -> None:
        """Cheap normalisation run on every build and decode, trusted or not."""

    def validate(self) -> None:
        """Check (and normalise) every field; raise ``ValidationError`` on bad values."""

    def clone(self) -> Self:
        """A copy of this model; here shallow, since the base has no fields.

        Every model with a mutable field (a list, a dict, a nested model)
        overrides this to copy those fields too, so that the clone of any model
        shares no mutable container with the original.
        """
        copied: Self = self.__copy__()  # type: ignore[attr-defined]  # msgspec.Struct has it
        return copied

    @classmethod
    def checked(cls, value: object, field: str, now: datetime | None = None) -> Self:
        """A validated private copy of ``value`` for a store to keep.

        The copy is validated, not ``value``: the caller's object is never changed
        and cannot change the store later. Time stamps left at their default
        (see ``is_default_stamp``) are set to ``now``, the store clock's time, when
        given, else keep the wall-clock time they hold.

        :raises ValidationError: ``value`` is not a ``cls`` or is not valid.
        """
        if not isinstance(value, cls):
            raise ValidationError(f"{field}: expected a {cls.__name__}, got "
                                  f"{type(value).__name__}", field=field)
        copy = value.clone()
        for name in _stamp_fields(cls):
            stamp = getattr(copy, name)
            if is_default_stamp(stamp):
                setattr(copy, name, now if now is not None else stamp.replace(fold=0))
        copy.validate()
        return copy


_STAMPS: dict[type, tuple[str, ...]] = {}


def _stamp_fields(cls: type[msgspec.Struct]) -> tuple[str, ...]:
    """The fields of ``cls`` whose default is the wall-clock now (``utc_now``)."""
    found = _STAMPS.get(cls)
    if found is None:
        found = tuple(f.name for f in msgspec.structs.fields(cls)
                      if f.default_factory is utc_now)
        _STAMPS[cls] = found
    return found
