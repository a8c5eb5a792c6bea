"""What every command shares: consoles, one-line errors, the data folder check, time display."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from tradestore import (
    StoreCorruptedError,
    StoreLockedError,
    TradingError,
    ValidationError,
)

__all__ = [
    "EXIT_FAILURE",
    "EXIT_USAGE",
    "UserError",
    "Where",
    "check_data_dir",
    "console",
    "describe",
    "err_console",
    "fail",
    "format_when",
    "location_of",
    "option_of",
    "run_command",
    "setup_logging",
    "shown",
]

EXIT_FAILURE = 1
"""The command ran and found a problem: damage, a locked store, a failed import."""
EXIT_USAGE = 2
"""The command could not start: a bad folder or bad arguments."""

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)
_T = TypeVar("_T")


class UserError(Exception):
    """A problem the user can fix; shown as one line, never as a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def fail(message: str, exit_code: int = EXIT_FAILURE) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``exit_code``."""
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True, markup=True)
    raise typer.Exit(exit_code)


Where = Path | str
"""A command's location: a data folder, or a PostgreSQL URL (``--dsn``)."""


def shown(where: Where) -> str:
    """``where`` for messages (a URL without its password)."""
    if isinstance(where, str):
        return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", where)
    return str(where)


def option_of(where: Where) -> str:
    """The command-line option naming ``where``."""
    return f"--dsn {shown(where)}" if isinstance(where, str) else f"--data-dir {where}"


def describe(exc: TradingError, data_dir: Where) -> str:
    """The one line a user sees for a store error."""
    if isinstance(exc, StoreLockedError):
        what = "the database" if isinstance(data_dir, str) else "the data folder"
        return (
            f"{what} {shown(data_dir)} is in use by another tradestore process "
            "(stop it, or use a read-only command such as 'tradestore status')"
        )
    if isinstance(exc, StoreCorruptedError):
        where = exc.path or shown(data_dir)
        return (
            f"damaged {'data' if isinstance(data_dir, str) else 'file'} {where}: {exc.message} "
            f"(run 'tradestore verify {option_of(data_dir)}', then 'tradestore repair')"
        )
    if isinstance(exc, ValidationError):
        return f"invalid input: {exc.message}"
    return exc.message


def run_command(coro: Coroutine[Any, Any, _T], data_dir: Where) -> _T:
    """Run a command's coroutine; turn user errors into a one-line message and exit code."""
    try:
        return asyncio.run(coro)
    except UserError as exc:
        fail(str(exc), exc.exit_code)
    except TradingError as exc:
        fail(describe(exc, data_dir))
    except OSError as exc:  # e.g. permission denied on the folder itself
        fail(f"{exc.strerror or exc} ({exc.filename or shown(data_dir)})")
    except KeyboardInterrupt:
        fail("interrupted", 130)


def location_of(data_dir: Path | None, dsn: str | None, *, must_exist: bool) -> Where:
    """The folder (``--data-dir``) or database (``--dsn``) a command works on, or exit 2."""
    if dsn is not None and data_dir is not None:
        fail("give --data-dir or --dsn, not both", EXIT_USAGE)
    if dsn is not None:
        if not dsn.startswith(("postgresql://", "postgres://")):
            fail(f"--dsn: expected a postgresql:// or postgres:// URL, got {dsn!r:.80}",
                 EXIT_USAGE)
        return dsn
    if data_dir is None:
        fail("give --data-dir FOLDER (or --dsn postgresql://...)", EXIT_USAGE)
    return check_data_dir(data_dir, must_exist=must_exist)


def check_data_dir(data_dir: Path, *, must_exist: bool) -> Path:
    """``data_dir``, or exit 2 with a line saying what is wrong with it."""
    if data_dir.exists() and not data_dir.is_dir():
        fail(f"{data_dir} is not a folder", EXIT_USAGE)
    if must_exist and not data_dir.is_dir():
        fail(f"no data folder at {data_dir} (run 'tradestore run' first)", EXIT_USAGE)
    return data_dir


def setup_logging(verbose: bool) -> None:
    """Warnings (or everything, with ``--verbose``) to stderr, for the command line only.

    Without ``--verbose`` the scheduler's own warnings (a failed fetch, a retry)
    are left to the progress display, which shows them already.
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        logging.getLogger("tradestore.scheduler").setLevel(logging.ERROR)


def format_when(when: datetime | None, now: datetime) -> str:
    """``when`` as a short distance from ``now``: ``in 5m``, ``3h ago``, ``-``."""
    if when is None:
        return "-"
    seconds = (when - now).total_seconds()
    span = abs(seconds)
    if span < 1:
        return "now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m"), (1, "s")):
        if span >= size:
            amount = f"{int(span // size)}{unit}"
            break
    return f"in {amount}" if seconds > 0 else f"{amount} ago"
