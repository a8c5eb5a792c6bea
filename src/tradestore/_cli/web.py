"""``tradestore serve`` and ``tradestore run --web``: the dashboard on the command line."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from tradestore._cli.common import EXIT_USAGE, UserError, Where, console, err_console
from tradestore.scheduler import Scheduler, Stores, open_stores

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = [
    "DEFAULT_PORT",
    "check_bind",
    "dashboard_in_process",
    "is_loopback",
    "parse_bind",
    "serve_dashboard",
]

DEFAULT_PORT = 8765
_MAX_PORT = 65535


def parse_bind(value: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``[HOST:]PORT`` (``[::1]:8080`` for IPv6) as (host, port); ValueError if malformed."""
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = default_host, value
    host = host.strip("[]") or default_host
    if not port.isdigit() or not 0 < int(port) <= _MAX_PORT:
        raise ValueError(f"not a port: {port!r} (expected [HOST:]PORT, e.g. 8080)")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _web() -> None:
    try:
        import tradestore.web  # noqa: F401, PLC0415  # checks that the web extra is installed
    except ImportError as exc:
        raise UserError(
            f"the dashboard needs the web extra: pip install 'tradestore[web]' "
            f"({exc.name} is missing)",
            EXIT_USAGE,
        ) from exc


def check_bind(host: str, *, allow_remote: bool) -> None:
    """Refuse a non-loopback address without ``--allow-remote``; warn with it."""
    _web()
    if is_loopback(host):
        return
    if not allow_remote:
        raise UserError(
            f"{host} is not a loopback address: the dashboard would be reachable from the "
            "network; pass --allow-remote to do that anyway",
            EXIT_USAGE,
        )
    err_console.print(
        f"[bold yellow]warning:[/] serving the dashboard on {host}: anyone who can reach this "
        "machine can read it (use a firewall or a reverse proxy with TLS and authentication)",
        soft_wrap=True,
    )


def _app(stores: Stores, host: str, scheduler: Scheduler | None) -> Starlette:
    from tradestore.web import create_app  # noqa: PLC0415  # the web extra is optional: imported only when used
    from tradestore.web._server import LOOPBACK_HOSTS  # noqa: PLC0415  # the web extra is optional: imported only when used

    hosts = list(LOOPBACK_HOSTS) if is_loopback(host) and host != "::1" else None
    return create_app(stores, scheduler=scheduler, allowed_hosts=hosts)


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


async def serve_dashboard(data_dir: Where, host: str, port: int) -> None:
    """The body of ``tradestore serve``: read-only stores, the dashboard until Ctrl-C."""
    from tradestore.web._server import make_server  # noqa: PLC0415  # the web extra is optional: imported only when used

    async with open_stores(data_dir, read_only=True) as stores:
        app = _app(stores, host, None)
        server = make_server(app, host, port, embedded=False)
        task = asyncio.get_running_loop().create_task(server.serve())
        await _started(server, task, host, port)
        console.print(f"dashboard (read-only) on {_url(host, port)}   Ctrl-C to stop",
                      soft_wrap=True)
        await task


async def _started(server: object, task: asyncio.Task[None], host: str, port: int) -> None:
    while not getattr(server, "started", False):
        if task.done():
            with contextlib.suppress(BaseException):
                task.result()
            raise UserError(f"cannot serve the dashboard on {host}:{port} (address in use?)")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def dashboard_in_process(
    stores: Stores, scheduler: Scheduler, host: str, port: int
) -> AsyncIterator[str]:
    """Serve the dashboard with actions beside ``scheduler``; yields its token."""
    from tradestore.web._server import make_server  # noqa: PLC0415  # the web extra is optional: imported only when used

    app = _app(stores, host, scheduler)
    token: str = app.state.token
    server = make_server(app, host, port, embedded=True)
    task = asyncio.get_running_loop().create_task(server.serve())
    await _started(server, task, host, port)
    url = _url(host, port)
    console.print(f"dashboard on {url}   actions need the token:", soft_wrap=True)
    console.print(f"token: {token}", soft_wrap=True)
    console.print(f"open with the token: {url}#token={token}", soft_wrap=True)
    try:
        yield token
    finally:
        server.should_exit = True
        await task
