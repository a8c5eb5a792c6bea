"""The dashboard in a real headless Chromium, served by real ``tradestore`` processes.

Skipped when Playwright or Chromium is missing, unless TRADESTORE_REQUIRE_BROWSER=1
(then it fails). Playwright never downloads a browser: it drives the machine's
Chromium at CHROMIUM.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.cli.conftest import run_cli
from tradestore import StrategyLog, StrategyLogStore, TaskStore

from .conftest import XSS, seed_async
from .servers import Process, free_port, get, post

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("TRADESTORE_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "dashboard.png"
REQUIRED = os.environ.get("TRADESTORE_REQUIRE_BROWSER") == "1"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401  # only checks that it is installed
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright)"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or .ci/browser.sh)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    reason = _missing()
    if reason is not None:
        if REQUIRED:
            pytest.fail(f"TRADESTORE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        chromium = play.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        yield context.new_page()
    finally:
        context.close()


def _run(coro: Coroutine[Any, Any, None]) -> None:
    """Run ``coro`` to the end in a thread of its own (Playwright's loop runs in this one)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


def _no_xss(page: Page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("main script:not([type='application/json'])").count() == 0
    assert page.locator("main img").count() == 0


def test_serve_shows_every_page_and_keeps_store_text_as_text(
    tmp_path: Path, page: Page
) -> None:
    data = tmp_path / "data"
    _run(seed_async(data, datetime.now(UTC)))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with Process("serve", "--data-dir", data, "--port", str(port)) as served:
        served.wait_http(base + "/healthz")
        page.goto(base + "/")
        assert page.locator("tr[data-task]").count() == 4
        assert "read-only" in page.locator("header .mode").inner_text()
        assert page.locator("button[data-action]").count() == 0  # no actions read-only
        error = page.locator('tr[data-task="broken"] td.error').inner_text()
        assert error == f"RuntimeError: {XSS}"
        _no_xss(page)
        # The dashboard holds no lock: a writer opens beside it at once, and what it
        # writes shows up in the open page without a reload.
        page.evaluate("window.__marker = 'no reload'")
        _run(_write_beside(data))
        page.wait_for_function(
            "() => document.querySelector('tr[data-task=\"news\"] td.error').textContent"
            " === 'written beside the dashboard'", timeout=30_000)
        assert page.evaluate("window.__marker") == "no reload"
        page.goto(base + "/tasks/broken")
        assert json.loads(page.locator("pre.metadata").inner_text()) == {"note": XSS}
        _no_xss(page)
        page.goto(base + "/stocks")
        assert page.locator('tr[data-symbol="AAPL"] .news .title').inner_text() == f"Apple {XSS}"
        assert page.locator('tr[data-symbol="AAPL"] td.age.stale').count() >= 1
        assert page.locator('tr[data-symbol="MSFT"] td.age.never').count() == 4  # every kind
        _no_xss(page)
        page.goto(base + "/strategies?days=30")
        # plotly.js (from the installed plotly package) drew 31 daily bars and the line.
        page.wait_for_selector("#chart-1 .barlayer .point", timeout=30_000)
        assert page.locator("#chart-1 .barlayer .point").count() == 31
        assert page.locator("#chart-1 .scatterlayer .trace").count() == 1
        drawn = page.evaluate("document.getElementById('chart-1').data.map(t => t.y.length)")
        assert drawn == [31, 31]
        assert f"breakouts {XSS}" in page.locator(".insights").inner_text()
        _no_xss(page)
        # A POST from the page itself is refused: the served stores are read-only.
        status = page.evaluate(
            "fetch('/api/tasks/news/pause', {method: 'POST', headers: "
            "{'X-Tradestore-Token': 'x'}}).then(r => r.status)"
        )
        assert status == 403


async def _write_beside(data: Path) -> None:
    async with TaskStore(data) as tasks:  # StoreLockedError if the dashboard held the lock
        await tasks.update("news", last_error="written beside the dashboard")


async def _seed_history(data: Path, days: int = 30) -> None:
    today = datetime.now(UTC).date()
    async with StrategyLogStore(data) as logs:
        for i in range(1, days):
            for name, scale in (("momentum", 1.0), ("mean_reversion", -0.6)):
                trades = 2 + i % 3
                wins = (i * 7 + len(name)) % (trades + 1)
                pnl = round(scale * ((i * 37) % 13 - 5) * 42.5, 2)
                await logs.add_log(name, StrategyLog(
                    date=today - timedelta(days=i), trades_executed=trades, wins=wins,
                    losses=trades - wins, pnl_realized=pnl,
                    what_worked=[f"momentum day {i % 4}"] if pnl > 0 else [],
                    what_didnt_work=[f"chop {i % 3}"] if pnl <= 0 else [],
                ))


def _text_changes(page: Page, selector: str, before: str, timeout: float = 30_000) -> None:
    page.wait_for_function(
        "([sel, before]) => { const el = document.querySelector(sel);"
        " return el !== null && el.textContent !== before; }",
        arg=[selector, before], timeout=timeout,
    )


def _api(base: str, path: str) -> Any:
    status, body = get(base + path)
    assert status == 200, body
    return json.loads(body)


def test_run_web_updates_live_and_acts_only_with_the_token(  # noqa: PLR0915  # one session, step by step
    tmp_path: Path, browser: Browser, page: Page
) -> None:
    data = tmp_path / "data"
    demo = run_cli("run", "--data-dir", data, "--once", "--symbols", "AAPL,MSFT,NVDA,JPM")
    assert demo.returncode == 0, demo.stderr
    _run(_seed_history(data))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    reader_port = free_port()
    with Process("run", "--data-dir", data, "--web", f"127.0.0.1:{port}") as writer:
        token = writer.wait_for_line(r"^token: (\S+)$").group(1)
        writer.wait_http(base + "/healthz")
        page.goto(f"{base}/#token={token}")
        assert "#token" not in page.url  # taken out of the address bar
        page.evaluate("window.__marker = 'no reload'")
        page.wait_for_selector("#heartbeat.hb-alive")  # the scheduler's heartbeat
        assert get(base + "/healthz")[0] == 200
        assert f"pid {writer.proc.pid}" in page.locator("#writer").inner_text()

        # A run started outside the page appears in it without a reload.
        row = 'tr[data-task="earnings-check"]'
        before = page.locator(f"{row} .last-run").inner_text()
        assert post(f"{base}/api/tasks/earnings-check/run")[0] == 403  # no token
        assert post(f"{base}/api/tasks/earnings-check/run", token)[0] == 200
        _text_changes(page, f"{row} .last-run", before)
        assert page.evaluate("window.__marker") == "no reload"

        # Pause and resume with the page's buttons (the token came from the address).
        page.click('tr[data-task="strategy-log"] button[data-action="pause"]')
        page.wait_for_selector('tr[data-task="strategy-log"] .badge.paused')
        assert "pause strategy-log" in page.locator("#flash").inner_text()
        assert _api(base, "/api/tasks/strategy-log")["task"]["active"] is False
        page.click('tr[data-task="strategy-log"] button[data-action="resume"]')
        page.wait_for_selector('tr[data-task="strategy-log"] .badge.paused', state="detached")
        assert _api(base, "/api/tasks/strategy-log")["task"]["active"] is True

        # Run now with the button: the run shows up in the row.
        row = 'tr[data-task="fundamental-monitoring"]'
        before = page.locator(f"{row} .last-run").inner_text()
        page.click(f'{row} button[data-action="run"]')
        _text_changes(page, f"{row} .last-run", before)
        assert page.evaluate("window.__marker") == "no reload"

        # The same buttons without the token are refused and change nothing.
        context = browser.new_context()
        try:
            other = context.new_page()
            other.goto(base + "/")
            other.click('tr[data-task="news-monitoring"] button[data-action="pause"]')
            other.wait_for_selector("#flash.bad")
            assert "refused (403)" in other.locator("#flash").inner_text()
            assert _api(base, "/api/tasks/news-monitoring")["task"]["active"] is True
            # Typed into the token box, the printed token works there too.
            other.fill("#token", token)
            other.click('tr[data-task="news-monitoring"] button[data-action="pause"]')
            other.wait_for_selector('tr[data-task="news-monitoring"] .badge.paused')
            assert _api(base, "/api/tasks/news-monitoring")["task"]["active"] is False
            other.click('tr[data-task="news-monitoring"] button[data-action="resume"]')
            other.wait_for_selector('tr[data-task="news-monitoring"] .badge.paused',
                                    state="detached")
        finally:
            context.close()
        assert _api(base, "/api/tasks/news-monitoring")["task"]["active"] is True

        # A read-only dashboard beside the running writer sees its new commits.
        with Process("serve", "--data-dir", data, "--port", str(reader_port)) as reader:
            reader.wait_http(f"http://127.0.0.1:{reader_port}/healthz")
            assert get(f"http://127.0.0.1:{reader_port}/healthz")[0] == 200  # beside it
            watcher = browser.new_page()
            try:
                watcher.goto(f"http://127.0.0.1:{reader_port}/")
                row = 'tr[data-task="deep-fundamental-analysis"]'
                before = watcher.locator(f"{row} .last-run").inner_text()
                assert post(f"{base}/api/tasks/deep-fundamental-analysis/run", token)[0] == 200
                _text_changes(watcher, f"{row} .last-run", before)
            finally:
                watcher.close()

        # The screenshot in the README: the dashboard on the demo data.
        page.goto(f"{base}/strategies")
        page.wait_for_selector("#chart-2 .barlayer .point", timeout=30_000)
        page.goto(f"{base}/")
        page.wait_for_selector("tr[data-task]")
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        page.goto(f"{base}/strategies")
        page.wait_for_selector("#chart-2 .barlayer .point", timeout=30_000)
        page.screenshot(path=str(SCREENSHOT.with_name("dashboard-strategies.png")),
                        full_page=True)
    assert writer.proc.returncode == 0, "\n".join(writer.lines)
