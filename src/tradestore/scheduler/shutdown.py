"""Ways to ask a running scheduler to stop: POSIX signals and an ``asyncio.Event``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

__all__ = ["relay_event", "stop_signals"]


@contextlib.contextmanager
def stop_signals(
    loop: asyncio.AbstractEventLoop,
    callback: Callable[[signal.Signals], None],
    *,
    enabled: bool = True,
) -> Iterator[list[signal.Signals]]:
    """Route SIGINT and SIGTERM to ``callback`` while inside the block.

    Signal handlers can only be set from the main thread, and not on every loop
    (Windows): elsewhere this does nothing and yields an empty list.
    """
    installed: list[signal.Signals] = []
    if enabled and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, callback, sig)
            except (NotImplementedError, RuntimeError):
                continue
            installed.append(sig)
    try:
        yield installed
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


@contextlib.contextmanager
def relay_event(event: asyncio.Event | None, callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback`` once ``event`` is set, while inside the block (``None``: never)."""
    if event is None:
        yield
        return

    async def relay() -> None:
        await event.wait()
        callback()

    watcher = asyncio.get_running_loop().create_task(relay())
    try:
        yield
    finally:
        watcher.cancel()
