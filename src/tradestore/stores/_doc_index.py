"""An index of which documents hold a key's records, shared by every handle of a store."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from tradestore.persistence import Collection

__all__ = ["DocIndex"]

_log = logging.getLogger(__name__)
P = TypeVar("P")


class DocIndex(Generic[P]):
    """Key -> parts for documents named ``"<key>/<part>"``, built from the ids on first use.

    A superset is harmless (an empty document is skipped). The mapping is changed
    in place, never re-bound, so every handle of a store shares one index.
    """

    __slots__ = ("_built", "_coll", "_map", "_parse")

    def __init__(self, coll: Collection[Any], parse: Callable[[str], P | None]) -> None:
        self._coll = coll
        self._parse = parse  # part string -> part, or None for a malformed id
        self._map: dict[str, set[P]] = {}
        self._built = False

    def get(self) -> dict[str, set[P]]:
        """The key -> parts mapping (build it from the document ids the first time)."""
        if not self._built:
            for doc in self._coll.doc_ids():
                key, _, text = doc.rpartition("/")
                part = self._parse(text) if key else None
                if part is None:
                    _log.warning("ignoring unexpected document %r in %s", doc, self._coll.folder)
                else:
                    self._map.setdefault(key, set()).add(part)
            self._built = True
        return self._map

    def parts(self, key: str) -> set[P]:
        """The parts that may hold ``key``'s records (empty if none)."""
        return self.get().get(key, set())

    def add(self, key: str, part: P) -> None:
        """Note that ``key`` now has a record in ``part``."""
        self.get().setdefault(key, set()).add(part)

    def reset(self) -> None:
        """Forget everything (the files were re-read)."""
        self._map.clear()
        self._built = False
