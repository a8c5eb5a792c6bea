"""``/metrics``: Prometheus text format through prometheus-client, one registry per app.

- Commit latency, batch size and checkpoint duration come from the file layer's
  observers, so they are measured in the process that writes (``tradestore run
  --web`` or a bot that mounts the app); a read-only ``tradestore serve`` has none.
- Task runs by type and outcome and task duration come from the scheduler's
  events when the app has the scheduler, otherwise from the run history the
  stores keep (each run counted once, as it is first seen).
- Journal backlog, tasks by status and heartbeat age are read at each scrape.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from tradestore import BackgroundTask
from tradestore.persistence._observe import add_observer
from tradestore.scheduler import TaskEvent
from tradestore.web._health import HealthView

__all__ = ["CONTENT_TYPE", "DashboardMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)
_TASK = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)


class DashboardMetrics:
    """The app's metrics; also a file-layer observer for the stores under ``data_dir``."""

    def __init__(self, data_dir: Path | None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._root = data_dir.resolve() if data_dir is not None else None
        r = self.registry
        self.commit_seconds = Histogram(
            "tradestore_commit_seconds", "Time of one commit (journal write, durable replace).",
            ["store"], buckets=_FAST, registry=r)
        self.batch_records = Histogram(
            "tradestore_commit_batch_records", "Records changed by one group commit.",
            ["store"], buckets=_SIZES, registry=r)
        self.checkpoint_seconds = Histogram(
            "tradestore_checkpoint_seconds", "Time of one checkpoint (journals folded).",
            ["store"], buckets=_FAST, registry=r)
        self.task_runs = Counter(
            "tradestore_task_runs", "Task runs finished, by type and outcome.",
            ["task_type", "outcome"], registry=r)
        self.task_seconds = Histogram(
            "tradestore_task_duration_seconds", "Duration of a task run.", ["task_type"],
            buckets=_TASK, registry=r)
        self.journal_backlog = Gauge(
            "tradestore_journal_backlog", "Journal files waiting for a checkpoint.", ["store"],
            registry=r)
        self.tasks = Gauge("tradestore_tasks", "Tasks by status.", ["status"], registry=r)
        self.heartbeat_age = Gauge(
            "tradestore_heartbeat_age_seconds",
            "Seconds since the newest scheduler heartbeat (NaN: never).", registry=r)
        self.scheduler_alive = Gauge(
            "tradestore_scheduler_alive", "1 while a scheduler heartbeat is fresh.", registry=r)
        self._seen_runs: dict[str, datetime | None] = {}
        self._from_events = False
        if self._root is not None:
            add_observer(self)

    def _store_label(self, folder: Path) -> str | None:
        if self._root is None:
            return None
        try:
            return str(folder.resolve().relative_to(self._root))
        except ValueError:
            return None  # another data folder in the same process

    def commit_observed(self, folder: Path, seconds: float, records: int) -> None:
        """File-layer observer: one commit."""
        label = self._store_label(folder)
        if label is not None:
            self.commit_seconds.labels(label).observe(seconds)
            self.batch_records.labels(label).observe(records)

    def checkpoint_observed(self, folder: Path, seconds: float, documents: int) -> None:
        """File-layer observer: one checkpoint."""
        label = self._store_label(folder)
        if label is not None:
            self.checkpoint_seconds.labels(label).observe(seconds)

    def on_event(self, event: TaskEvent) -> None:
        """Scheduler subscriber: count each run as its outcome becomes durable."""
        self._from_events = True
        if event.run is None:  # "started", or "lost" (left to crash recovery)
            return
        self.task_runs.labels(event.task_type, str(event.run.outcome)).inc()
        self.task_seconds.labels(event.task_type).observe(event.run.duration_seconds)

    def count_history(self, task: BackgroundTask) -> None:
        """Count the runs in ``task.history`` not seen before.

        Used when the scheduler's events are not available (a read-only serve).
        The first look at a task only marks its existing runs as seen, so a
        restart of the dashboard does not count the same runs twice.
        """
        if self._from_events:
            return
        first = task.task_id not in self._seen_runs
        seen = self._seen_runs.get(task.task_id)
        newest = max((run.finished_at for run in task.history), default=seen)
        self._seen_runs[task.task_id] = newest
        if first:
            return
        for run in task.history:
            if seen is None or run.finished_at > seen:
                self.task_runs.labels(str(task.task_type), str(run.outcome)).inc()
                self.task_seconds.labels(str(task.task_type)).observe(run.duration_seconds)

    def render(self, health: HealthView, counts: dict[str, int]) -> bytes:
        """The text exposition, with the scrape-time gauges set from ``health`` and ``counts``."""
        self.journal_backlog.clear()
        for store, count in health.journal_backlog.items():
            self.journal_backlog.labels(store).set(count)
        self.tasks.clear()
        for status, count in counts.items():
            self.tasks.labels(status).set(count)
        self.scheduler_alive.set(1 if health.heartbeat == "alive" else 0)
        if health.scheduler is not None:
            self.heartbeat_age.set(health.scheduler.age_seconds)
        else:
            self.heartbeat_age.set(float("nan"))
        return generate_latest(self.registry)
