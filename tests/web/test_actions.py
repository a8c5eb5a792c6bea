"""Run now / pause / resume / retry: only through the writer, only with the token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tradestore import BackgroundTask, TaskStatus
from tradestore.scheduler import HandlerContext, Scheduler, Stores

from .conftest import NOW, call, client_for, clock

TOKEN = "s3cret-token-for-tests"


async def _ok(task: BackgroundTask, ctx: HandlerContext) -> dict[str, Any]:
    return {"ran": task.task_id}


def _scheduler(stores: Stores) -> Scheduler:
    return Scheduler(stores.tasks, handlers={"news_monitoring": _ok, "portfolio_scan": _ok},
                     clock=clock)


def test_actions_need_the_token(demo: Path) -> None:
    with client_for(demo, read_only=False, scheduler=_scheduler, token=TOKEN) as (client, st):
        for headers in ({}, {"X-Tradestore-Token": ""}, {"X-Tradestore-Token": "wrong"},
                        {"Cookie": f"token={TOKEN}"}):
            response = client.post("/api/tasks/news/pause", headers=headers)
            assert response.status_code == 403, headers
        task = call(client, st.tasks.get, "news")
        assert task is not None
        assert task.is_active  # nothing changed
        # A cross-site page cannot post with the token it does not know, and a
        # foreign Origin is refused even with it.
        foreign = client.post("/api/tasks/news/pause", headers={
            "X-Tradestore-Token": TOKEN, "Origin": "http://attacker.example"})
        assert foreign.status_code == 403
        form = client.post("/api/tasks/news/pause", content=f"token={TOKEN}",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert form.status_code == 200
        assert form.json() == {"task_id": "news", "action": "pause", "status": "pending",
                               "active": False}


def test_run_now_pause_resume_retry(demo: Path) -> None:
    auth = {"X-Tradestore-Token": TOKEN}
    with client_for(demo, read_only=False, scheduler=_scheduler, token=TOKEN) as (client, st):
        page = client.get("/").text
        assert '<button data-action="run" data-task-id="news">' in page
        assert '<button data-action="retry" data-task-id="broken">' in page
        assert '<button data-action="resume" data-task-id="sleeping">' in page

        assert client.post("/api/tasks/news/pause", headers=auth).status_code == 200
        assert client.post("/api/tasks/news/run", headers=auth).status_code == 409  # paused
        assert client.post("/api/tasks/news/resume", headers=auth).status_code == 200
        ran = client.post("/api/tasks/news/run", headers=auth)
        assert ran.status_code == 200
        news = call(client, st.tasks.get, "news")
        assert news is not None
        assert (news.status, news.next_execution, news.is_active) == (
            TaskStatus.PENDING, NOW, True)

        assert client.post("/api/tasks/news/retry", headers=auth).status_code == 409  # not failed
        retried = client.post("/api/tasks/broken/retry", headers=auth)
        assert retried.status_code == 200
        broken = call(client, st.tasks.get, "broken")
        assert broken is not None
        assert (broken.status, broken.retry_count, broken.next_execution) == (
            TaskStatus.PENDING, 0, NOW)

        scheduler: Scheduler = client.app.state.dashboard.scheduler  # type: ignore[attr-defined]  # Starlette app
        stats = call(client, scheduler.run_once)
        assert stats.succeeded == 2  # both ran at once, as asked
        news = call(client, st.tasks.get, "news")
        assert news is not None
        assert news.metadata["last_result"] == {"ran": "news"}

        assert client.post("/api/tasks/nope/run", headers=auth).status_code == 404
        assert client.post("/api/tasks/news/explode", headers=auth).status_code == 404


def test_writer_app_makes_a_token_when_none_is_given(demo: Path) -> None:
    with client_for(demo, read_only=False) as (client, _):
        token = client.app.state.token  # type: ignore[attr-defined]  # Starlette app
        assert isinstance(token, str)
        assert len(token) >= 24
        assert client.post("/api/tasks/news/pause").status_code == 403
        assert client.post("/api/tasks/news/pause",
                           headers={"X-Tradestore-Token": token}).status_code == 200
        assert client.get("/api/health").json()["actions"] is True
