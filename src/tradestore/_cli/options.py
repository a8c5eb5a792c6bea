"""The command line's shared options, and the checks that turn a bad one into exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradestore import ValidationError
from tradestore._cli.common import EXIT_USAGE, UserError, fail
from tradestore._cli.web import check_bind, parse_bind
from tradestore.persistence import JOURNAL_MODES
from tradestore.stores._stock_rules import zone

__all__ = [
    "AllowRemote",
    "DataDir",
    "Dsn",
    "Verbose",
    "Zone",
    "check_journal",
    "checked_bind",
    "checked_zone",
    "symbol_list",
]

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", "-d", help="The data folder (all four stores).", envvar="TRADESTORE_DATA_DIR"
    ),
]
Dsn = Annotated[
    str | None,
    typer.Option(
        "--dsn",
        help="A PostgreSQL URL (postgresql://user:password@host:5432/db) instead of a folder.",
        envvar="TRADESTORE_DSN",
    ),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log details to stderr.")]
AllowRemote = Annotated[
    bool,
    typer.Option("--allow-remote", help="Allow the dashboard on a non-loopback address."),
]
Zone = Annotated[
    str,
    typer.Option(
        "--tz",
        help="IANA time zone of the bot's calendar day, e.g. Asia/Kolkata (default UTC).",
        envvar="TRADESTORE_TZ",
    ),
]


def checked_zone(name: str, option: str = "--tz") -> str:
    """``name`` if it is a known IANA zone, else exit 2 saying so."""
    try:
        zone(name)
    except ValidationError as exc:
        fail(f"{option}: {exc.message.removeprefix('tz: ')}", EXIT_USAGE)
    return name


def symbol_list(values: list[str] | None) -> list[str]:
    """``--symbols`` accepts repeats and comma-separated lists."""
    return [s.strip().upper() for v in values or [] for s in v.split(",") if s.strip()]


def check_journal(mode: str, dsn: str | None) -> None:
    """Exit 2 unless ``mode`` is a journal mode that this location has."""
    if mode not in JOURNAL_MODES:
        fail(f"--journal: expected one of {', '.join(JOURNAL_MODES)}, got {mode!r}", EXIT_USAGE)
    if dsn is not None and mode != "files":
        fail(f"--journal {mode} is for a data folder: PostgreSQL keeps no journal files",
             EXIT_USAGE)


def checked_bind(value: str, allow_remote: bool) -> tuple[str, int]:
    """``--web [HOST:]PORT`` as (host, port), else exit 2 (or 1 for a refused address)."""
    try:
        host, port = parse_bind(value)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    try:
        check_bind(host, allow_remote=allow_remote)
    except UserError as exc:
        fail(str(exc), exc.exit_code)
    return host, port
