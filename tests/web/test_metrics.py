"""``/metrics`` in Prometheus text format, read back with prometheus-client's own parser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tradestore import BackgroundTask
from tradestore.scheduler import HandlerContext, Scheduler, Stores

from .conftest import call, client_for, clock


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def _ok(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
    return {}


async def _boom(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
    raise RuntimeError("no data")


def _scheduler(stores: Stores) -> Scheduler:
    return Scheduler(stores.tasks, handlers={"news_monitoring": _ok, "earnings_check": _boom},
                     clock=clock)


def test_metrics_of_a_writer_process(demo: Path) -> None:
    auth = {"X-Tradestore-Token": "t0ken-for-metrics-tests"}
    with client_for(demo, read_only=False, scheduler=_scheduler, token=auth[
            "X-Tradestore-Token"]) as (client, stores):
        response = client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        before = _samples(response.text)
        assert before[("tradestore_tasks", (("status", "pending"),))] == 3
        assert before[("tradestore_tasks", (("status", "failed"),))] == 1
        assert before[("tradestore_scheduler_alive", ())] == 0
        for task_id in ("news", "earnings"):
            assert client.post(f"/api/tasks/{task_id}/run", headers=auth).status_code == 200
        scheduler: Scheduler = client.app.state.dashboard.scheduler  # type: ignore[attr-defined]  # Starlette app
        call(client, scheduler.run_once)
        call(client, stores.tasks.checkpoint)
        after = _samples(client.get("/metrics").text)
    runs = "tradestore_task_runs_total"
    assert after[(runs, (("outcome", "succeeded"), ("task_type", "news_monitoring")))] == 1
    assert after[(runs, (("outcome", "retry"), ("task_type", "earnings_check")))] >= 1
    assert after[("tradestore_task_duration_seconds_count",
                  (("task_type", "news_monitoring"),))] == 1
    # Commits of the writer's own stores: two actions, RUNNING and the outcome per run.
    commits = after[("tradestore_commit_seconds_count", (("store", "tasks"),))]
    assert commits >= 4
    assert after[("tradestore_commit_batch_records_count", (("store", "tasks"),))] == commits
    assert after[("tradestore_commit_batch_records_sum", (("store", "tasks"),))] >= commits
    assert after[("tradestore_checkpoint_seconds_count", (("store", "tasks"),))] >= 1
    assert after[("tradestore_journal_backlog", (("store", "tasks"),))] == 0  # just folded


def test_metrics_of_a_read_only_dashboard(demo: Path) -> None:
    with client_for(demo, read_only=True) as (client, _):
        samples = _samples(client.get("/metrics").text)
    assert samples[("tradestore_tasks", (("status", "pending"),))] == 3
    assert ("tradestore_journal_backlog", (("store", "fundamentals"),)) in samples
    assert samples[("tradestore_scheduler_alive", ())] == 0
    # No commit happens in a read-only process.
    assert not any(name == "tradestore_commit_seconds_count" for name, _ in samples)
