"""The Starlette app: pages, their JSON API, actions, ``/healthz``, ``/metrics``, assets."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qs

import msgspec
from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from tradestore import NotFoundError, TaskStatus, TradingError
from tradestore.scheduler import Scheduler, Stores
from tradestore.web._actions import ACTIONS, Action, ActionRefused, apply_action, token_matches
from tradestore.web._assets import asset_files
from tradestore.web._format import clock_time, millis, relative
from tradestore.web._guard import Guard
from tradestore.web._metrics import CONTENT_TYPE
from tradestore.web._pages import (
    PERIODS,
    stocks_view,
    strategies_view,
    task_detail,
    tasks_view,
)
from tradestore.web._state import Dashboard

__all__ = ["TOKEN_HEADER", "create_app"]

_log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Tradestore-Token"
"""The request header (or form field ``token``) an action must carry."""
_FRAGMENT_HEADER = "x-tradestore-fragment"
_STATUSES = {*(str(s) for s in TaskStatus), "paused"}


def _json(value: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(value), status_code=status,
                    media_type="application/json")


def _bad(message: str, status: int = 400) -> Response:
    return _json({"error": message}, status)


def create_app(  # noqa: PLR0913, PLR0915  # keyword options of the public factory; a handler per route
    stores: Stores,
    *,
    scheduler: Scheduler | None = None,
    token: str | None = None,
    refresh_seconds: float = 3.0,
    verify_interval: float = 60.0,
    reload_interval: float = 1.0,
    allowed_hosts: Sequence[str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Starlette:
    """The dashboard as an ASGI app over open ``stores`` (the caller opens and closes them).

    - Stores opened ``read_only=True``: pages and API only; the files are
      re-read at most every ``reload_interval`` seconds, and every POST gets 403.
    - Writable stores (the scheduler's own process): also the actions run now /
      pause / resume / retry, each a POST that must carry ``token`` (a fresh
      one if None, in ``app.state.token``) in the ``X-Tradestore-Token`` header
      or a ``token`` form field; ``scheduler`` is woken after an action and its
      events feed ``/metrics``.
    - ``allowed_hosts``: the Host header values accepted (DNS-rebinding guard).

    Mount it in a bot's own server with ``Mount("/dashboard", app=create_app(...))``.
    """
    dash = Dashboard(stores, scheduler=scheduler, token=token, clock=clock,
                     refresh_seconds=refresh_seconds, verify_interval=verify_interval,
                     reload_interval=reload_interval)
    env = Environment(loader=PackageLoader("tradestore.web", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    templates = Jinja2Templates(env=env)
    assets = asset_files()

    async def page(request: Request, name: str, status_code: int = 200,
                   **context: Any) -> Response:
        await dash.refresh()
        health = await dash.health()
        now = health.now
        return templates.TemplateResponse(
            request, name,
            {"health": health, "now": now, "rel": partial(relative, now=now), "at": clock_time,
             "ms": millis,
             "base": request.scope.get("root_path", ""), "actions": dash.actions,
             "refresh_ms": int(dash.refresh_seconds * 1000),
             "fragment": request.headers.get(_FRAGMENT_HEADER) == "1", **context},
            status_code=status_code,
        )

    def filters(request: Request) -> tuple[str | None, str | None] | Response:
        status = request.query_params.get("status") or None
        task_type = request.query_params.get("type") or None
        if status is not None and status not in _STATUSES:
            return _bad(f"unknown status {status!r}")
        return status, task_type

    def period(request: Request) -> int | Response:
        raw = request.query_params.get("days", "30")
        if not raw.isdigit() or int(raw) not in PERIODS:
            return _bad(f"days must be one of {', '.join(map(str, PERIODS))}")
        return int(raw)

    async def tasks_page(request: Request) -> Response:
        chosen = filters(request)
        if isinstance(chosen, Response):
            return chosen
        view = await tasks_view(stores, status=chosen[0], task_type=chosen[1])
        return await page(request, "tasks.html", view=view, statuses=sorted(_STATUSES))

    async def task_page(request: Request) -> Response:
        await dash.refresh()  # before reading the task, so the page shows the latest
        detail = await task_detail(stores, request.path_params["task_id"])
        if detail is None:
            return await page(request, "missing.html", status_code=404,
                              what=f"task {request.path_params['task_id']}")
        meta = msgspec.json.format(msgspec.json.encode(detail.metadata), indent=2).decode()
        return await page(request, "task.html", detail=detail, metadata=meta)

    async def strategies_page(request: Request) -> Response:
        days = period(request)
        if isinstance(days, Response):
            return days
        await dash.refresh()
        views = await strategies_view(stores, days)
        today = dash.clock().date()
        return await page(request, "strategies.html", strategies=views, days=days,
                          start=f"{today - timedelta(days=days + 1)} 12:00",
                          end=f"{today} 12:00",
                          periods=PERIODS, charts=[msgspec.to_builtins(v.points) for v in views])

    async def stocks_page(request: Request) -> Response:
        await dash.refresh()
        rows = await stocks_view(stores, dash.clock().date())
        return await page(request, "stocks.html", stocks=rows)

    async def api_health(request: Request) -> Response:
        await dash.refresh()
        health = await dash.health()
        return _json({**msgspec.to_builtins(health), "journal_backlog_total":
                      health.backlog_total, "actions": dash.actions})

    async def api_tasks(request: Request) -> Response:
        chosen = filters(request)
        if isinstance(chosen, Response):
            return chosen
        await dash.refresh()
        return _json(await tasks_view(stores, status=chosen[0], task_type=chosen[1]))

    async def api_task(request: Request) -> Response:
        await dash.refresh()
        detail = await task_detail(stores, request.path_params["task_id"])
        if detail is None:
            return _bad("no such task", 404)
        return _json(detail)

    async def api_strategies(request: Request) -> Response:
        days = period(request)
        if isinstance(days, Response):
            return days
        await dash.refresh()
        return _json(await strategies_view(stores, days))

    async def api_stocks(request: Request) -> Response:
        await dash.refresh()
        return _json(await stocks_view(stores, dash.clock().date()))

    async def action(request: Request) -> Response:  # noqa: PLR0911  # one return per refusal
        name = request.path_params["action"]
        if name not in ACTIONS:
            return _bad(f"unknown action {name!r}", 404)
        if not dash.actions:
            return _bad("this dashboard is read-only: actions are served by "
                        "'tradestore run --web' (the scheduler's own process)", 403)
        given = request.headers.get(TOKEN_HEADER)
        if given is None and request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"):
            form = parse_qs((await request.body()).decode("utf-8", "replace"))
            given = next(iter(form.get("token", [])), None)
        if not token_matches(dash.token, given):
            return _bad("missing or wrong token", 403)
        act: Action = name
        try:
            result = await apply_action(stores.tasks, request.path_params["task_id"], act,
                                        dash.clock(), dash.wake())
        except NotFoundError:
            return _bad("no such task", 404)
        except ActionRefused as exc:
            return _bad(str(exc), 409)
        except TradingError as exc:
            return _bad(exc.message, 400 if exc.category == "validation" else 500)
        _log.info("dashboard action %s on task %s", name, request.path_params["task_id"])
        return _json(result)

    async def healthz(request: Request) -> Response:
        await dash.refresh()
        health = await dash.health()
        age = health.scheduler.age_seconds if health.scheduler is not None else None
        return _json({"status": health.heartbeat, "heartbeat_age_seconds": age},
                     200 if health.heartbeat == "alive" else 503)

    async def metrics(request: Request) -> Response:
        await dash.refresh()
        health = await dash.health()
        view = await tasks_view(stores, status=None, task_type=None)
        if dash.scheduler is None:
            for task in await stores.tasks.list_tasks():
                dash.metrics.count_history(task)
        counts = {k: v for k, v in view.counts.items() if k != "paused"}
        return Response(dash.metrics.render(health, counts), media_type=CONTENT_TYPE)

    async def asset(request: Request) -> Response:
        path = assets.get(request.path_params["name"])
        if path is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(path, headers={"cache-control": "max-age=3600"})

    routes = [
        Route("/", tasks_page),
        Route("/tasks/{task_id}", task_page),
        Route("/strategies", strategies_page),
        Route("/stocks", stocks_page),
        Route("/api/health", api_health),
        Route("/api/tasks", api_tasks),
        Route("/api/tasks/{task_id}", api_task),
        Route("/api/tasks/{task_id}/{action}", action, methods=["POST"]),
        Route("/api/strategies", api_strategies),
        Route("/api/stocks", api_stocks),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        Route("/assets/{name}", asset),
    ]
    middleware = [Middleware(Guard)]
    if allowed_hosts is not None:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)))
    app = Starlette(routes=routes, middleware=middleware)
    app.state.token = dash.token
    app.state.dashboard = dash
    return app
