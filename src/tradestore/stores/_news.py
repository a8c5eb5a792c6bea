"""The news part of FundamentalStore: items by UTC month, deduplicated by id.

Layout: one document per UTC month of publication (``"yyyy-mm"``), keyed by the
item's id. An id index (id -> month) is built on first use by loading every
month once; it changes only after a write is durable, under one lock, so a
failed write can never leave it claiming an item the disk does not hold.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections import Counter

from tradestore.models import NewsItem
from tradestore.persistence._collection import Collection, Txn

__all__ = ["NewsArchive", "utc_month"]

_log = logging.getLogger(__name__)
_MONTH_RE = re.compile(r"\d{4}-\d{2}")


def utc_month(when: dt.datetime) -> str:
    """The document id of items published at ``when``: its UTC ``yyyy-mm``."""
    utc = when.astimezone(dt.UTC)
    return f"{utc.year:04d}-{utc.month:02d}"


class NewsArchive:
    """News items in ``coll``; callers pass validated input and own the store lifecycle.

    Every method raises ``StoreError`` when a document cannot be read or a write fails.
    """

    def __init__(self, coll: Collection[NewsItem]) -> None:
        self.coll = coll
        # Serialises writes, so the index only changes after a durable commit.
        self.lock = asyncio.Lock()
        self._ids: dict[str, str] | None = None
        self._symbols: Counter[str] = Counter()

    def reset(self) -> None:
        """Forget the index (the collection was re-read); call with ``lock`` held."""
        self._ids = None
        self._symbols = Counter()

    async def _index(self) -> dict[str, str]:
        """The id -> month index; the first call loads every month (``lock`` held)."""
        if self._ids is None:
            await self.coll.load_all()
            ids: dict[str, str] = {}
            symbols: Counter[str] = Counter()
            for doc in self.coll.doc_ids():
                for key, item in (await self.coll.records(doc)).items():
                    ids[key] = doc
                    if item.symbol:
                        symbols[item.symbol] += 1
            self._ids, self._symbols = ids, symbols
        return self._ids

    def months(self) -> list[str]:
        """The month documents, newest first."""
        return sorted((d for d in self.coll.doc_ids() if _MONTH_RE.fullmatch(d)), reverse=True)

    async def save(self, batch: list[NewsItem]) -> int:
        """Store the items with a new id (first wins) in one write; return how many."""
        async with self.lock:
            ids = await self._index()
            fresh: dict[str, NewsItem] = {}
            for item in batch:
                if item.id not in ids and item.id not in fresh:
                    fresh[item.id] = item
            if not fresh:
                return 0
            docs = {key: utc_month(item.published_at) for key, item in fresh.items()}

            def put(txn: Txn[NewsItem]) -> None:
                for key, item in fresh.items():
                    txn.put(docs[key], key, item)

            await self.coll.mutate(set(docs.values()), put)
            ids.update(docs)
            self._symbols.update(item.symbol for item in fresh.values() if item.symbol)
        return len(fresh)

    async def query(
        self, symbol: str | None, since: dt.datetime | None, limit: int | None
    ) -> list[NewsItem]:
        """Matching items newest first (published_at desc, then id), as copies."""
        floor = utc_month(since) if since is not None else ""
        found: list[NewsItem] = []
        for month in self.months():
            # Months hold disjoint time spans, so older months can only add older items.
            if month < floor or (limit is not None and len(found) >= limit):
                break
            recs = await self.coll.records(month)
            picked = [n for n in recs.values() if (symbol is None or n.symbol == symbol)
                      and (since is None or n.published_at >= since)]
            picked.sort(key=lambda n: n.id)
            picked.sort(key=lambda n: n.published_at, reverse=True)
            found.extend(picked)
        return [item.clone() for item in found[:limit]]

    async def prune(self, cutoff: dt.datetime) -> int:
        """Remove items published before ``cutoff`` in one write; return how many."""
        last = utc_month(cutoff)
        async with self.lock:
            docs = [m for m in self.months() if m <= last]
            if not docs:
                return 0

            def drop(txn: Txn[NewsItem]) -> list[NewsItem]:
                gone: list[NewsItem] = []
                for doc in docs:
                    for key, item in txn.records(doc).items():
                        if item.published_at < cutoff:
                            txn.delete(doc, key)
                            gone.append(item)
                return gone

            removed = await self.coll.mutate(docs, drop)
            if self._ids is not None:
                for item in removed:
                    self._ids.pop(item.id, None)
                self._symbols.subtract(item.symbol for item in removed if item.symbol)
                self._symbols = +self._symbols
        _log.info("pruned %d news items published before %s", len(removed), cutoff)
        return len(removed)

    async def symbols(self) -> set[str]:
        """Every symbol some stored item names (the first call loads every month)."""
        async with self.lock:
            await self._index()
            return set(self._symbols)
