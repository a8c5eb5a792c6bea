"""Live progress of ``tradestore run`` and its closing summary."""

from __future__ import annotations

import time
from collections import deque
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from tradestore.scheduler import RunStats, TaskEvent

__all__ = ["RunProgress", "summary_table"]

_STYLES = {
    "started": "cyan",
    "succeeded": "green",
    "retry": "yellow",
    "failed": "bold red",
    "cancelled": "magenta",
    "recovered": "yellow",
    "lost": "bold red",
}


def _describe(event: TaskEvent) -> str:
    parts = [f"{event.kind:<9}", f"{event.task_id} ({event.task_type})"]
    if event.duration is not None:
        parts.append(f"{event.duration * 1000:.0f} ms")
    if event.error:
        parts.append(event.error)
    if event.kind == "succeeded" and event.result:
        fetched = event.result.get("fetched")
        if isinstance(fetched, list | dict):
            parts.append(f"fetched {len(fetched)}")
    if event.next_run is not None:
        parts.append(f"next {event.next_run:%H:%M:%S}")
    return "  ".join(parts)


class RunProgress:
    """Shows task events as they happen: a live panel on a terminal, plain lines otherwise."""

    def __init__(self, console: Console, *, duration: float | None, history: int = 12) -> None:
        self.console = console
        self.duration = duration
        self.counts: dict[str, int] = {}
        self._recent: deque[Text] = deque(maxlen=history)
        self._began = time.monotonic()
        self._live: Live | None = None

    def on_event(self, event: TaskEvent) -> None:
        """Record one event (the scheduler's ``on_event`` callback)."""
        self.counts[event.kind] = self.counts.get(event.kind, 0) + 1
        line = Text(f"{event.at:%H:%M:%S}  {_describe(event)}", style=_STYLES[event.kind])
        if self._live is None:
            self.console.print(line, soft_wrap=True)
        else:
            self._recent.append(line)
            self._live.update(self._render())

    def _render(self) -> Group:
        elapsed = time.monotonic() - self._began
        span = f"{elapsed:.0f}s" + (f" of {self.duration:.0f}s" if self.duration else "")
        counts = "  ".join(f"{kind} {n}" for kind, n in sorted(self.counts.items()))
        header = Text(f"running {span}   {counts or 'waiting for due tasks'}", style="bold")
        return Group(header, *self._recent)

    def __enter__(self) -> RunProgress:
        if self.console.is_terminal:
            self._live = Live(
                self._render(), console=self.console, refresh_per_second=4, transient=False
            )
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(exc_type, exc, tb)
            self._live = None


def summary_table(stats: RunStats, elapsed: float) -> Table:
    """The counts of a finished run, overall and by task type."""
    table = Table(title=f"Run summary ({elapsed:.1f}s)", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, value in (
        ("tasks started", stats.started),
        ("succeeded", stats.succeeded),
        ("retried", stats.retried),
        ("failed", stats.failed),
        ("cancelled at stop", stats.cancelled),
        ("recovered after a crash", stats.recovered),
    ):
        table.add_row(label, str(value))
    for task_type, count in sorted(stats.by_type.items()):
        table.add_row(f"  runs of {task_type}", str(count))
    return table
