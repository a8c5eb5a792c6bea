"""Serving the dashboard with uvicorn: bind addresses, the loopback rule, the server loop."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

__all__ = ["LOOPBACK_HOSTS", "EmbeddedServer", "make_server", "serve_app"]

_log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
"""Host header values accepted by a dashboard bound to loopback (DNS-rebinding guard)."""


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT/SIGTERM to its host (the scheduler handles them)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Install no signal handler: the process's own stop logic ends this server."""
        yield


def make_server(app: ASGIApp, host: str, port: int, *, embedded: bool) -> uvicorn.Server:
    """A uvicorn server for ``app`` on ``host:port``, quiet (no access log)."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            lifespan="off", server_header=False)
    return EmbeddedServer(config) if embedded else uvicorn.Server(config)


async def serve_app(app: ASGIApp, host: str, port: int) -> None:
    """Serve ``app`` until SIGINT/SIGTERM."""
    await make_server(app, host, port, embedded=False).serve()
