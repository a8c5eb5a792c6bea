"""The common base of the models: validation on construction and decoding, and copies."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Self

import msgspec

from tradestore.errors import ValidationError

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
        if not getattr(_trust, "on", False):
            self.validate()

    def validate(self) -> None:
        """Check (and normalise) every field; raise ``ValidationError`` on bad values."""

    def clone(self) -> Self:
        """A deep copy sharing no mutable container with this model."""
        copied: Self = self.__copy__()  # type: ignore[attr-defined]  # msgspec.Struct has it
        return copied

    @classmethod
    def checked(cls, value: object, field: str) -> Self:
        """A validated private copy of ``value`` for a store to keep.

        The copy is validated, not ``value``: the caller's object is never changed
        and cannot change the store later.

        :raises ValidationError: ``value`` is not a ``cls`` or is not valid.
        """
        if not isinstance(value, cls):
            raise ValidationError(f"{field}: expected a {cls.__name__}, got "
                                  f"{type(value).__name__}", field=field)
        copy = value.clone()
        copy.validate()
        return copy
