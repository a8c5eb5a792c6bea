"""``tradestore export`` / ``import``: a whole data folder as one versioned JSON document.

Export reads through the stores' public methods (a read-only open, so it can
run beside a live scheduler). Import validates the whole document first, then
builds a complete new folder beside the target and renames it into place, so
the target is never seen half-imported.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec

from tradestore import (
    BackgroundTask,
    EarningsReport,
    FundamentalAnalysis,
    FundamentalSnapshot,
    NewsItem,
    StockSchedulerState,
    StrategyLog,
)
from tradestore._cli.common import UserError, Where
from tradestore._cli.lenient import ImportOptions, Skipped, decode_records, localize
from tradestore._cli.transfer_pg import import_database
from tradestore.scheduler import Stores, open_stores

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "ExportDocument",
    "ImportOptions",
    "Skipped",
    "export_folder",
    "import_folder",
]

EXPORT_FORMAT = "tradestore-export"
EXPORT_VERSION = 1
_LOG_RANGE = (date(1970, 1, 1), date(2999, 12, 31))


class ExportDocument(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Everything in a data folder. New fields must have defaults (readers of v1 ignore none)."""

    format: str
    version: int
    exported_at: datetime
    tasks: list[BackgroundTask] = msgspec.field(default_factory=list)
    stock_states: list[StockSchedulerState] = msgspec.field(default_factory=list)
    strategy_logs: list[StrategyLog] = msgspec.field(default_factory=list)
    fundamentals: list[FundamentalSnapshot] = msgspec.field(default_factory=list)
    earnings: list[EarningsReport] = msgspec.field(default_factory=list)
    news: list[NewsItem] = msgspec.field(default_factory=list)
    analyses: list[FundamentalAnalysis] = msgspec.field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many records of each kind the document holds."""
        return {
            name: len(getattr(self, name))
            for name in self.__struct_fields__
            if isinstance(getattr(self, name), list)
        }


async def read_all(stores: Stores) -> ExportDocument:
    """The stores' whole content, through their public read methods."""
    logs: list[StrategyLog] = []
    for strategy in await stores.strategy_logs.strategy_types():
        logs.extend(await stores.strategy_logs.get_logs_for_period(strategy, *_LOG_RANGE))
    snapshots: list[FundamentalSnapshot] = []
    earnings: list[EarningsReport] = []
    analyses: list[FundamentalAnalysis] = []
    for symbol in await stores.fundamentals.symbols():
        snapshots.extend(await stores.fundamentals.get_fundamentals_history(symbol))
        earnings.extend(await stores.fundamentals.get_earnings_history(symbol))
        analyses.extend(await stores.fundamentals.get_analysis_history(symbol))
    states = await stores.stocks.all_states()
    return ExportDocument(
        format=EXPORT_FORMAT,
        version=EXPORT_VERSION,
        exported_at=datetime.now(UTC),
        tasks=await stores.tasks.list_tasks(),
        stock_states=[states[s] for s in sorted(states)],
        strategy_logs=logs,
        fundamentals=snapshots,
        earnings=earnings,
        news=await stores.fundamentals.get_news(),
        analyses=analyses,
    )


def _write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def export_folder(data_dir: Where, out: Path) -> dict[str, int]:
    """Write the folder's content to ``out`` (``-`` for stdout is not supported); return counts."""
    async with open_stores(data_dir, read_only=True) as stores:
        document = await read_all(stores)
    data = await asyncio.to_thread(msgspec.json.format, msgspec.json.encode(document), indent=1)
    await asyncio.to_thread(_write_file, out, data)
    return document.counts()


_SECTIONS: dict[str, type[msgspec.Struct]] = {
    "tasks": BackgroundTask,
    "stock_states": StockSchedulerState,
    "strategy_logs": StrategyLog,
    "fundamentals": FundamentalSnapshot,
    "earnings": EarningsReport,
    "news": NewsItem,
    "analyses": FundamentalAnalysis,
}


def decode_document(
    data: bytes, options: ImportOptions | None = None
) -> tuple[ExportDocument, list[Skipped]]:
    """Decode and validate an export document record by record (see ``lenient``).

    Returns the document and the records left out (only with ``skip_invalid``).

    :raises UserError: the document is not an export, or (without ``skip_invalid``)
        a record is invalid; the message says which.
    """
    opts = options or ImportOptions()
    try:
        header = msgspec.json.decode(data, type=dict[str, Any])
    except msgspec.DecodeError as exc:
        raise UserError(f"not a tradestore export (bad JSON: {exc})") from exc
    if header.get("format") != EXPORT_FORMAT:
        raise UserError(f"not a tradestore export (format is {header.get('format')!r})")
    version = header.get("version")
    if not isinstance(version, int) or version > EXPORT_VERSION or version < 1:
        raise UserError(f"unsupported export version {version!r} (this tradestore reads 1)")
    unknown = sorted(set(header) - {"format", "version", "exported_at", *_SECTIONS})
    if unknown:
        raise UserError(f"invalid export document: unknown field(s) {unknown}")
    stamp = header.get("exported_at")
    if isinstance(stamp, str):
        header["exported_at"] = localize(stamp, opts.assume_tz)
    try:
        exported_at = msgspec.convert(header.get("exported_at"), type=datetime)
    except msgspec.ValidationError as exc:
        raise UserError(f"invalid export document: exported_at: {exc}") from exc
    if exported_at.tzinfo is None:
        raise UserError("invalid export document: exported_at is naive "
                        "(use --assume-tz ZONE to read naive timestamps in a zone)")
    records, skipped = decode_records(_SECTIONS, header, opts)
    document = ExportDocument(format=EXPORT_FORMAT, version=version, exported_at=exported_at,
                              **records)
    return document, skipped


class _StampClock:
    """The clock of the stores an import builds: set to each record's own stamp before it is
    written, so ``updated_at``/``created_at`` come out as they were exported."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def write_all(stores: Stores, document: ExportDocument, clock: _StampClock) -> None:
    """Store every record of ``document`` in (empty) ``stores`` built with ``clock``."""
    await stores.tasks.save_many(document.tasks)
    await stores.stocks.save_states(document.stock_states)
    for log in document.strategy_logs:
        # add_log stamps created_at on the first add and updated_at on every add, and a
        # second add of the same lists with zero counts changes nothing else.
        clock.now = log.created_at
        await stores.strategy_logs.add_log(log.strategy_type, log)
        if log.updated_at != log.created_at:
            clock.now = log.updated_at
            touch = msgspec.structs.replace(
                log, trades_executed=0, wins=0, losses=0, pnl_realized=0.0, token_usage={}
            )
            await stores.strategy_logs.add_log(log.strategy_type, touch)
    for snapshot in document.fundamentals:
        await stores.fundamentals.save_fundamentals(snapshot)
    for report in document.earnings:
        await stores.fundamentals.save_earnings(report)
    await stores.fundamentals.save_news(document.news)
    for analysis in document.analyses:
        await stores.fundamentals.save_analysis(analysis)


def _is_empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(folder))


def _swap_in(built: Path, target: Path) -> None:
    """Rename ``built`` to ``target``; an existing target is moved aside, then removed."""
    old: Path | None = None
    if target.exists():
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.replaced-"))
        os.replace(target, old / target.name)
    os.rename(built, target)
    _fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old)


async def import_folder(
    source: Path, data_dir: Where, *, force: bool, options: ImportOptions | None = None
) -> tuple[dict[str, int], list[Skipped]]:
    """Replace ``data_dir`` (empty, or any with ``force``) by the content of ``source``.

    Returns the counts imported and the records skipped (``options.skip_invalid``).
    """
    try:
        data = await asyncio.to_thread(source.read_bytes)
    except OSError as exc:
        raise UserError(f"cannot read {source}: {exc.strerror or exc}") from exc
    document, skipped = await asyncio.to_thread(decode_document, data, options)
    if isinstance(data_dir, str):
        counts = await import_database(document, data_dir, force=force, write_all=write_all,
                                       clock=_StampClock())
        return counts, skipped
    if not await asyncio.to_thread(_is_empty, data_dir):
        if not force:
            raise UserError(
                f"{data_dir} is not empty; use --force to replace its content with the import"
            )
        async with open_stores(data_dir):  # refuses (StoreLockedError) while a writer runs
            pass
    await asyncio.to_thread(data_dir.parent.mkdir, parents=True, exist_ok=True)
    built = Path(
        await asyncio.to_thread(
            tempfile.mkdtemp, dir=data_dir.parent, prefix=f".{data_dir.name}.import-"
        )
    )
    try:
        clock = _StampClock()
        async with open_stores(built, durable=False, clock=clock) as stores:
            await write_all(stores, document, clock)
        await asyncio.to_thread(_fsync_tree, built)
        await asyncio.to_thread(_swap_in, built, data_dir)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, built, True)
        raise
    return document.counts(), skipped
