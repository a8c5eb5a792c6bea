"""The common base of the models: validation on construction and decoding, and copies."""

from __future__ import annotations

from typing import Self

import msgspec

__all__ = ["Model"]


class Model(msgspec.Struct):
    """A mutable struct that validates itself when built, decoded or asked to."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check (and normalise) every field; raise ``ValidationError`` on bad values."""

    def clone(self) -> Self:
        """A deep copy sharing no mutable container with this model."""
        copied: Self = self.__copy__()  # type: ignore[attr-defined]  # msgspec.Struct has it
        return copied
