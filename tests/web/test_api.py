"""The dashboard's pages and JSON API over demo data, through Starlette's TestClient."""

from __future__ import annotations

import re
from pathlib import Path

from tradestore.web._assets import plotly_bundle

from .conftest import STRATEGY_DAYS, TODAY, XSS, call, client_for, daily_pnl

ESCAPED = ("&lt;script&gt;window.__xss = 1&lt;/script&gt;"
           "&lt;img src=x onerror=&#34;window.__xss = 2&#34;&gt;")


def test_pages_load_with_the_stores_content(demo: Path) -> None:
    with client_for(demo, read_only=True) as (client, _):
        tasks = client.get("/")
        assert tasks.status_code == 200
        for task_id in ("news", "earnings", "broken", "sleeping"):
            assert f'data-task="{task_id}"' in tasks.text
        assert "in 5 min" in tasks.text  # next run, relative
        assert "2026-03-20 15:35:00 UTC" in tasks.text  # and absolute
        assert "1 min ago" in tasks.text  # last run
        assert "4/3" in tasks.text  # retries
        assert 'class="badge paused"' in tasks.text
        assert "read-only" in tasks.text
        assert "<button data-action" not in tasks.text  # no actions read-only
        strategies = client.get("/strategies?days=30")
        assert strategies.status_code == 200
        assert 'data-strategy="momentum"' in strategies.text
        stocks = client.get("/stocks")
        assert 'data-symbol="AAPL"' in stocks.text
        assert 'data-symbol="MSFT"' in stocks.text
        task = client.get("/tasks/broken")
        assert task.status_code == 200
        assert "Run history" in task.text
        assert client.get("/tasks/missing").status_code == 404


def test_every_store_value_is_escaped(demo: Path) -> None:
    with client_for(demo, read_only=True) as (client, _):
        pages = {url: client.get(url).text for url in ("/", "/tasks/broken", "/stocks",
                                                       "/strategies")}
    for url, html in pages.items():
        assert "<script>window" not in html, url
        assert "<img src=x" not in html, url
    assert ESCAPED in pages["/"]  # last error
    assert ESCAPED in pages["/stocks"]  # news title
    assert "breakouts " + ESCAPED in pages["/strategies"]  # what worked
    assert "&lt;script&gt;window.__xss" in pages["/tasks/broken"]  # metadata value
    # Chart data sits in a JSON script block: its "<" are escaped too.
    assert "</script><img" not in pages["/strategies"]


def test_json_api_for_every_page(demo: Path) -> None:
    with client_for(demo, read_only=True) as (client, _):
        tasks = client.get("/api/tasks").json()
        assert {t["task_id"] for t in tasks["tasks"]} == {"news", "earnings", "broken",
                                                          "sleeping"}
        assert tasks["counts"] == {"pending": 3, "running": 0, "succeeded": 0, "failed": 1,
                                   "paused": 1}
        assert [t["task_id"] for t in client.get("/api/tasks?status=failed").json()["tasks"]] \
            == ["broken"]
        assert [t["task_id"] for t in client.get("/api/tasks?status=paused").json()["tasks"]] \
            == ["sleeping"]
        by_type = client.get("/api/tasks?type=news_monitoring").json()["tasks"]
        assert sorted(t["task_id"] for t in by_type) == ["news", "sleeping"]
        assert client.get("/api/tasks?status=bogus").status_code == 400
        broken = client.get("/api/tasks/broken").json()
        assert broken["task"]["last_error"] == f"RuntimeError: {XSS}"
        assert broken["metadata"] == {"note": XSS}
        assert client.get("/api/tasks/nope").status_code == 404
        for days in (7, 30, 90):
            [momentum] = client.get(f"/api/strategies?days={days}").json()
            assert momentum["name"] == "momentum"
            expected = min(days + 1, STRATEGY_DAYS)  # today - days .. today, inclusive
            assert len(momentum["points"]) == expected
            pnls = [daily_pnl(i) for i in range(expected)][::-1]  # oldest first
            assert [p["pnl"] for p in momentum["points"]] == pnls
            assert momentum["points"][-1]["cumulative"] == round(sum(pnls), 2)
            assert momentum["points"][-1]["day"] == TODAY.isoformat()
            assert momentum["trades"] == 3 * expected
            assert momentum["win_rate"] == 2 / 3 * 100
        assert client.get("/api/strategies?days=5").status_code == 400
        stocks = {s["symbol"]: s for s in client.get("/api/stocks").json()}
        aapl, msft = stocks["AAPL"], stocks["MSFT"]
        assert (aapl["news_class"], aapl["earnings_class"], aapl["fundamentals_class"]) == (
            "fresh", "aging", "stale")
        assert (aapl["news_age"], aapl["earnings_age"], aapl["fundamentals_age"]) == (0, 3, 30)
        assert aapl["snapshot_class"] == "stale"
        assert aapl["latest_news_title"] == f"Apple {XSS}"
        assert aapl["latest_earnings"] == "2026Q1 (2026-02-01)"
        assert msft["news_class"] == "never"
        assert msft["errors"] == 1
        health = client.get("/api/health").json()
        assert health["mode"] == "read-only"
        assert health["heartbeat"] == "never"
        assert health["actions"] is False
        assert set(health["journal_backlog"]) == {"tasks", "stock_state", "strategy_logs",
                                                  "fundamentals"}


def test_fragments_are_the_content_only(demo: Path) -> None:
    with client_for(demo, read_only=True) as (client, _):
        full = client.get("/").text
        part = client.get("/", headers={"X-Tradestore-Fragment": "1"}).text
    assert full.lstrip().startswith("<!doctype html>")
    assert "<html" not in part
    assert 'id="health"' in part
    assert 'data-task="news"' in part


def test_the_chart_bundle_comes_from_the_installed_plotly(demo: Path) -> None:
    bundle = plotly_bundle()
    assert bundle is not None
    assert "site-packages" in str(bundle) or "dist-packages" in str(bundle)
    with client_for(demo, read_only=True) as (client, _):
        page = client.get("/strategies").text
        assert re.search(r'<script src="/assets/plotly\.min\.js"', page)
        assert "cdn" not in page.lower()
        served = client.get("/assets/plotly.min.js")
        assert served.status_code == 200
        assert served.content == bundle.read_bytes()
        assert client.get("/assets/dashboard.js").status_code == 200


def test_nothing_outside_the_store_is_served(demo: Path) -> None:
    with client_for(demo, read_only=True) as (client, _):
        for url in ("/assets/..%2F..%2Fpyproject.toml", "/assets/%2Fetc%2Fpasswd",
                    "/assets/_app.py", "/assets/templates", "/static/dashboard.js",
                    "/tasks/..%2F..%2Fetc%2Fpasswd", "/../../etc/passwd"):
            response = client.get(url)
            assert response.status_code == 404, url
            assert "root:" not in response.text


def test_read_only_dashboard_refuses_every_action(demo: Path) -> None:
    with client_for(demo, read_only=True) as (client, stores):
        for action in ("run", "pause", "resume", "retry"):
            response = client.post(f"/api/tasks/news/{action}",
                                   headers={"X-Tradestore-Token": "anything"})
            assert response.status_code == 403
            assert "read-only" in response.json()["error"]
        task = call(client, stores.tasks.get, "news")
        assert task is not None
        assert task.is_active


def test_security_headers_and_host_check(demo: Path) -> None:
    with client_for(demo, read_only=True, allowed_hosts=["127.0.0.1", "localhost"]) as (
        client, _
    ):
        page = client.get("/")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert client.get("/", headers={"Host": "attacker.example"}).status_code == 400
        assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200


def test_healthz_is_503_without_a_heartbeat(demo: Path) -> None:
    with client_for(demo, read_only=True) as (client, _):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "never"
