"""The ``tradestore`` command line: run the scheduler, inspect, check, repair, move data.

Exit codes: 0 success, 1 the command found a problem (damage, a locked store,
a failed import), 2 it could not start (a bad folder, bad arguments). User
errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from tradestore import __version__
from tradestore._cli.common import (
    EXIT_FAILURE,
    UserError,
    console,
    fail,
    location_of,
    option_of,
    run_command,
    setup_logging,
    shown,
)
from tradestore._cli.integrity import describe_problem, is_damage, repair_folder, verify_folder
from tradestore._cli.options import (
    AllowRemote,
    DataDir,
    Dsn,
    Verbose,
    Zone,
    check_journal,
    checked_bind,
    checked_zone,
    symbol_list,
)
from tradestore._cli.run import run_scheduler
from tradestore._cli.status import status_tables
from tradestore._cli.transfer import ImportOptions, export_folder, import_folder
from tradestore._cli.web import DEFAULT_PORT, check_bind, serve_dashboard
from tradestore.scheduler import open_stores
from tradestore.scheduler.clocks import ServerTimed
from tradestore.stores._stock_rules import zone

__all__ = ["app", "main"]

app = typer.Typer(
    name="tradestore",
    help="Run and inspect a tradestore data folder and its background scheduler.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

def _print_version(value: bool) -> None:
    if value:
        console.print(f"tradestore {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the installed version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Run and inspect a tradestore data folder and its background scheduler."""


@app.command()
def run(
    data_dir: DataDir = None,
    dsn: Dsn = None,
    symbols: Annotated[
        list[str] | None,
        typer.Option("--symbols", "-s", help="Watchlist, e.g. AAPL,MSFT (default: the known one)."),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option(help="Stop after this many seconds (default: until Ctrl-C).", min=0),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Run what is due now to the end, then stop.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the simulated market.")] = 42,
    concurrency: Annotated[int, typer.Option(help="Tasks run at once.", min=1)] = 4,
    failure_rate: Annotated[
        float, typer.Option(help="Share of simulated fetches that fail.", min=0, max=1)
    ] = 0.0,
    web: Annotated[
        str | None,
        typer.Option(
            "--web", metavar="[HOST:]PORT",
            help="Also serve the dashboard, with actions (token printed at start).",
        ),
    ] = None,
    allow_remote: AllowRemote = False,
    tz: Zone = "UTC",
    lease_seconds: Annotated[
        float, typer.Option(help="Lease of each running task (PostgreSQL: any number of "
                            "hosts); renewed every third of it.", min=0.1)
    ] = 30.0,
    journal: Annotated[
        str, typer.Option(help="Journal mode of a data folder: files (default) or append "
                          "(one record appended per commit; see the README).",
                          envvar="TRADESTORE_JOURNAL")
    ] = "files",
    verbose: Verbose = False,
) -> None:
    """Run the scheduler on the simulated market; seeds the default tasks on first use."""
    setup_logging(verbose)
    where = location_of(data_dir, dsn, must_exist=False)
    bind = checked_bind(web, allow_remote) if web is not None else None
    checked_zone(tz)
    check_journal(journal, dsn)
    began = time.monotonic()
    run_command(
        run_scheduler(
            where,
            symbols=symbol_list(symbols),
            duration=duration,
            once=once,
            seed=seed,
            concurrency=concurrency,
            failure_rate=failure_rate,
            began=began,
            web=bind,
            tz=tz,
            lease_seconds=lease_seconds,
            journal=journal,
        ),
        where,
    )


@app.command()
def serve(
    data_dir: DataDir = None,
    dsn: Dsn = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = DEFAULT_PORT,
    allow_remote: AllowRemote = False,
    verbose: Verbose = False,
) -> None:
    """Serve the web dashboard read-only beside a running bot (no actions)."""
    setup_logging(verbose)
    where = location_of(data_dir, dsn, must_exist=True)
    try:
        check_bind(host, allow_remote=allow_remote)
    except UserError as exc:
        fail(str(exc), exc.exit_code)
    run_command(serve_dashboard(where, host, port), where)


@app.command()
def status(
    data_dir: DataDir = None, dsn: Dsn = None, tz: Zone = "UTC", verbose: Verbose = False
) -> None:
    """Show tasks, stocks (what is due today in --tz), strategies and fundamentals."""
    setup_logging(verbose)

    where = location_of(data_dir, dsn, must_exist=True)

    async def show() -> None:
        async with open_stores(where, read_only=True, tz=tz) as stores:
            # On PostgreSQL leases and heartbeats are stamped by the server's clock.
            now = (await stores.tasks.server_time() if isinstance(stores.tasks, ServerTimed)
                   else datetime.now(UTC))
            tables = await status_tables(stores, now)
        for table in tables:
            console.print(table)

    checked_zone(tz)
    run_command(show(), where)


@app.command()
def verify(data_dir: DataDir = None, dsn: Dsn = None, verbose: Verbose = False) -> None:
    """Check every file of every store; name each damaged one (exit 1 if any)."""
    setup_logging(verbose)
    where = location_of(data_dir, dsn, must_exist=True)
    problems = run_command(verify_folder(where), where)
    damaged = [p for p in problems if is_damage(p)]
    for problem in problems:
        label = "[red]damaged:[/]" if is_damage(problem) else "[yellow]note:[/]"
        console.print(f"{label} {describe_problem(problem)}", soft_wrap=True)
    if not damaged:
        console.print(f"[green]ok:[/] all stored data in {shown(where)} is intact")
        return
    fail(
        f"{len(damaged)} damaged {'row' if isinstance(where, str) else 'file'}(s) in "
        f"{shown(where)}; "
        f"'tradestore repair {option_of(where)}' restores good versions",
        EXIT_FAILURE,
    )


@app.command()
def repair(data_dir: DataDir = None, dsn: Dsn = None, verbose: Verbose = False) -> None:
    """Restore damaged files from their good versions and quarantine the rest."""
    setup_logging(verbose)
    where = location_of(data_dir, dsn, must_exist=True)
    report = run_command(repair_folder(where, console), where)
    console.print(f"checked {report.checked_documents} document(s)")
    for label, style, paths in (
        ("recovered from a good version", "green", report.recovered),
        ("quarantined", "yellow", report.quarantined),
        ("records lost with", "red", report.lost),
        ("left untouched (newer format)", "red", report.refused),
    ):
        for path in paths:
            console.print(f"[{style}]{label}:[/] {path}", soft_wrap=True)
    if report.refused:
        fail(f"{len(report.refused)} file(s) need a newer tradestore", EXIT_FAILURE)
    console.print(f"[green]ok:[/] {shown(where)} repaired")


@app.command("export")
def export_(
    out: Annotated[Path, typer.Option("--out", "-o", help="The JSON file to write.")],
    data_dir: DataDir = None,
    dsn: Dsn = None,
    verbose: Verbose = False,
) -> None:
    """Write the whole data folder to one JSON document."""
    setup_logging(verbose)
    where = location_of(data_dir, dsn, must_exist=True)
    counts = run_command(export_folder(where, out), where)
    console.print(f"exported {_counts(counts)} to {out}")


@app.command("import")
def import_(
    in_file: Annotated[Path, typer.Option("--in", "-i", help="The JSON document to read.")],
    data_dir: DataDir = None,
    dsn: Dsn = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the folder's content if it has any.")
    ] = False,
    assume_tz: Annotated[
        str | None,
        typer.Option("--assume-tz", metavar="ZONE",
                      help="Read naive timestamps (no UTC offset) as times in this IANA zone."),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid",
                     help="Leave invalid records out and list them, instead of refusing."),
    ] = False,
    verbose: Verbose = False,
) -> None:
    """Load a JSON document made by 'export' (or built from legacy data) into an empty
    folder, atomically. Upper-case enum values ('PENDING', 'HIGH') are read too."""
    setup_logging(verbose)
    where = location_of(data_dir, dsn, must_exist=False)
    options = ImportOptions(
        assume_tz=None if assume_tz is None else zone(checked_zone(assume_tz, "--assume-tz")),
        skip_invalid=skip_invalid,
    )
    counts, skipped = run_command(
        import_folder(in_file, where, force=force, options=options), where
    )
    console.print(f"imported {_counts(counts)} into {shown(where)}")
    if skipped:
        console.print(f"[yellow]skipped {len(skipped)} invalid record(s):[/]")
        for problem in skipped:
            console.print(f"  {problem}", soft_wrap=True, markup=False)


@app.command()
def migrate(
    dsn: Annotated[str, typer.Option("--dsn", help="The PostgreSQL URL.", envvar="TRADESTORE_DSN")],
    verbose: Verbose = False,
) -> None:
    """Apply the PostgreSQL schema migrations this tradestore needs (safe to repeat)."""
    setup_logging(verbose)
    where = location_of(None, dsn, must_exist=False)
    assert isinstance(where, str)

    async def apply() -> list[str]:
        from tradestore.postgres import migrate as apply_migrations  # noqa: PLC0415  # psycopg is an optional extra

        return await apply_migrations(where)

    applied = run_command(apply(), where)
    if applied:
        console.print(f"applied {', '.join(applied)} to {shown(where)}")
    else:
        console.print(f"[green]ok:[/] {shown(where)} is up to date")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())


def main() -> None:
    """The console-script entry point (``tradestore``, ``python -m tradestore``)."""
    app(prog_name="tradestore")


if __name__ == "__main__":
    main()
