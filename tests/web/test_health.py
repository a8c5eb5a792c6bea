"""The health strip and /healthz: heartbeats, run history, the writer, verify results."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tradestore import BackgroundTask, SchedulerHeartbeat, TaskStore
from tradestore.scheduler import HandlerContext, Scheduler, Stores
from tradestore.web._state import folder_signature

from .conftest import NOW, XSS, call, client_for, clock

TOKEN = "health-test-token-123"


def _beat(age: float, *, stopped: bool = False) -> SchedulerHeartbeat:
    last = NOW - timedelta(seconds=age)
    return SchedulerHeartbeat(scheduler_id="sched-1", host="bot-host", pid=4242,
                              started_at=NOW - timedelta(hours=1), last_beat=last,
                              interval_seconds=5.0, running=["news"],
                              stopped_at=last if stopped else None)


async def _record(data: Path, beat: SchedulerHeartbeat) -> None:
    async with TaskStore(data) as tasks:
        await tasks.record_heartbeat(beat)


def test_healthz_follows_the_heartbeat(demo: Path) -> None:
    for age, stopped, code, state in ((2.0, False, 200, "alive"), (16.0, False, 503, "stale"),
                                      (1.0, True, 503, "stale")):
        asyncio.run(_record(demo, _beat(age, stopped=stopped)))
        with client_for(demo, read_only=True) as (client, _):
            response = client.get("/healthz")
            assert response.status_code == code, (age, stopped)
            assert response.json() == {"status": state, "heartbeat_age_seconds": age}
            page = client.get("/").text
            assert f'class="cell hb-{state}"' in page
            assert "bot-host pid 4242" in page
            health = client.get("/api/health").json()
            assert health["scheduler"]["running"] == ["news"]
            metrics = client.get("/metrics").text
        gauges = {s.name: s.value for f in text_string_to_metric_families(metrics)
                  for s in f.samples}
        assert gauges["tradestore_heartbeat_age_seconds"] == age
        assert gauges["tradestore_scheduler_alive"] == (1 if state == "alive" else 0)


async def _ok(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
    return {}


async def _fails(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
    raise RuntimeError(XSS)


def _scheduler(stores: Stores) -> Scheduler:
    return Scheduler(stores.tasks, handlers={"news_monitoring": _ok, "portfolio_scan": _fails},
                     clock=clock)


def test_task_page_shows_the_run_history(demo: Path) -> None:
    auth = {"X-Tradestore-Token": TOKEN}
    with client_for(demo, read_only=False, scheduler=_scheduler, token=TOKEN) as (client, _):
        scheduler: Scheduler = client.app.state.dashboard.scheduler  # type: ignore[attr-defined]  # Starlette app
        for _ in range(2):
            assert client.post("/api/tasks/news/run", headers=auth).status_code == 200
            assert client.post("/api/tasks/broken/run", headers=auth).status_code == 200
            call(client, scheduler.run_once)
        news = client.get("/api/tasks/news").json()
        assert [run["outcome"] for run in news["history"]] == ["succeeded", "succeeded"]
        assert news["history"][0]["started_at"] >= news["history"][1]["started_at"]  # newest 1st
        assert news["task"]["last_outcome"] == "succeeded"
        assert news["task"]["duration_seconds"] is not None
        assert news["task"]["runs"] == 2
        broken = client.get("/api/tasks/broken").json()
        assert broken["history"][0]["outcome"] == "retry"
        assert broken["history"][0]["error"] == f"RuntimeError: {XSS}"
        page = client.get("/tasks/broken").text
        assert page.count('<tr class="out-retry">') == 2
        assert "&lt;script&gt;window.__xss" in page
        assert "<script>window" not in page
        listing = client.get("/").text
        assert "· succeeded" in listing  # the last outcome beside the last run


async def _run_in_writer(data: Path) -> None:
    async with TaskStore(data, clock=clock) as tasks:
        await tasks.update("news", next_execution=NOW)
        await Scheduler(tasks, handlers={"news_monitoring": _ok}, clock=clock).run_once()


def test_read_only_dashboard_counts_new_runs_from_the_history(demo: Path) -> None:
    with client_for(demo, read_only=True, reload_interval=0.0) as (client, _):
        client.get("/metrics")  # the first look marks the runs already there as seen
        asyncio.run(_run_in_writer(demo))  # another writer, as a bot beside the dashboard
        text = client.get("/metrics").text
        assert client.get("/api/tasks/news").json()["task"]["runs"] == 1
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(text) for s in f.samples}
    key = (("outcome", "succeeded"), ("task_type", "news_monitoring"))
    assert samples[("tradestore_task_runs_total", key)] == 1


def test_the_writer_and_verify_results_are_shown(demo: Path) -> None:
    with client_for(demo, read_only=False, verify_interval=0.0) as (client, stores):
        call(client, stores.tasks.initialize)
        health = client.get("/api/health").json()
        mine = [w for w in health["writers"] if w["store"] == "tasks"]
        assert mine[0]["pid"] == os.getpid()
        assert mine[0]["alive"] is True
    with client_for(demo, read_only=True, verify_interval=0.0) as (client, _):
        client.get("/api/health")  # starts the first verify in the background
        for _ in range(100):
            verify = client.get("/api/health").json()["verify"]
            if verify["ok"] is not None:
                break
        assert verify["ok"] is True
        doc = sorted((demo / "tasks").glob("doc-*.json"))[0]
        doc.write_bytes(doc.read_bytes()[:40])  # truncated: damaged
        for _ in range(200):
            verify = client.get("/api/health").json()["verify"]
            if verify["ok"] is False:
                break
        assert verify["ok"] is False
        assert any(str(doc) in line for line in verify["damaged"])
        assert "damaged" in client.get("/").text


async def _touch(data: Path) -> None:
    async with TaskStore(data, clock=clock) as tasks:
        await tasks.update("news", retry_count=1)


def test_a_read_only_dashboard_rereads_only_what_changed(demo: Path) -> None:
    roots = [demo / name for name in ("tasks", "stock_state", "strategy_logs", "fundamentals")]
    before = folder_signature(roots)
    assert folder_signature(roots) == before  # nothing written: nothing to re-read
    asyncio.run(_touch(demo))
    assert folder_signature(roots) != before
