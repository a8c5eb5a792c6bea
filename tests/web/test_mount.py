"""The app mounted in a bot's own server, as docs/dashboard.md shows it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from tradestore.web import create_app

from .conftest import stores_on
from .servers import SRC, free_port, get, post

ROOT = Path(__file__).resolve().parents[2]


def test_mounted_app_links_under_its_prefix(demo: Path) -> None:
    stores = stores_on(demo, read_only=True)
    bot = Starlette(routes=[Mount("/dashboard", app=create_app(stores))])
    with TestClient(bot, base_url="http://127.0.0.1") as client:
        page = client.get("/dashboard/").text
        assert 'href="/dashboard/assets/dashboard.css"' in page
        assert 'data-base="/dashboard"' in page
        assert 'href="/dashboard/tasks/broken"' in page
        assert client.get("/dashboard/api/tasks").status_code == 200
        assert client.get("/dashboard/assets/plotly.min.js").status_code == 200
        assert client.get("/api/tasks").status_code == 404  # nothing outside the mount
        assert client.portal is not None
        for store in (stores.tasks, stores.stocks, stores.strategy_logs, stores.fundamentals):
            client.portal.call(store.close)


def _status(url: str) -> int | None:
    try:
        return get(url)[0]
    except OSError:  # not listening yet
        return None


def test_the_documented_embedding_runs(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "dashboard.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "Mount(" in b)
    port = free_port()
    script = tmp_path / "bot.py"
    script.write_text(block.replace("8080", str(port)))
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": str(SRC)})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"token: (\S+)", line)
        assert found, line + proc.stdout.read()
        base = f"http://127.0.0.1:{port}/dashboard"
        deadline = time.monotonic() + 60
        while _status(base + "/healthz") != 200:  # up, and the scheduler's heartbeat is fresh
            assert time.monotonic() < deadline, "the mounted dashboard never became healthy"
            time.sleep(0.2)
        assert post(base + "/api/tasks/x/run")[0] == 403
        status, body = get(base + "/api/tasks")
        assert status == 200
        assert json.loads(body)["tasks"] == []  # no task seeded by the example
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            output = proc.stdout.read() if proc.stdout is not None else ""
            if proc.stdout is not None:
                proc.stdout.close()
    assert proc.returncode == 0, output
    assert "Traceback" not in output
