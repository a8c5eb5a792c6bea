"""Symbol helpers for users' watchlists, built on the one symbol check."""

from __future__ import annotations

from collections.abc import Iterable

from tradestore.errors import ValidationError
from tradestore.models._checks import ensure_symbol

__all__ = ["is_valid_symbol", "split_symbols"]


def is_valid_symbol(value: object) -> bool:
    """Whether the stores accept ``value`` as a symbol (``ensure_symbol`` would not raise).

    ``"infy"`` and ``" BRK.B "`` are valid (they normalise to ``INFY``, ``BRK.B``);
    ``"NIFTY 50"`` (a blank inside), ``""`` and ``None`` are not.
    """
    try:
        ensure_symbol(value)
    except ValidationError:
        return False
    return True


def split_symbols(values: Iterable[object]) -> tuple[list[str], list[object]]:
    """``values`` split into the normalised valid symbols and the invalid entries as given.

    Both lists keep input order and repeats.

    :raises ValidationError: ``values`` is a str or not an iterable.
    """
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(
            f"symbols: expected an iterable of symbols (not a str), got {values!r:.80}",
            field="symbols",
        )
    valid: list[str] = []
    invalid: list[object] = []
    for value in values:
        try:
            valid.append(ensure_symbol(value))
        except ValidationError:
            invalid.append(value)
    return valid, invalid
