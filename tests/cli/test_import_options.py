"""``tradestore import`` on legacy data: --assume-tz, upper-case enums, --skip-invalid."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tradestore import FundamentalStore, StockStateStore, TaskPriority, TaskStatus, TaskStore

from .conftest import invoke


def document(**sections: Any) -> dict[str, Any]:
    return {"format": "tradestore-export", "version": 1,
            "exported_at": "2025-01-02T00:00:00+00:00", **sections}


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc))
    return path


TASK = {"task_id": "t1", "task_type": "HEALTH_CHECK", "priority": "CRITICAL",
        "status": "RUNNING", "execute_at": "2025-01-02T09:15:00+05:30"}


def test_upper_case_enum_values_are_read(tmp_path: Path) -> None:
    source = write(tmp_path / "in.json", document(tasks=[TASK]))
    result = invoke("import", "--data-dir", tmp_path / "data", "--in", source)
    assert result.exit_code == 0, result.output

    async def check() -> None:
        async with TaskStore(tmp_path / "data", read_only=True) as tasks:
            task = await tasks.get("t1")
            assert task is not None
            assert (task.task_type, task.priority, task.status) == (
                "health_check", TaskPriority.CRITICAL, TaskStatus.RUNNING)

    asyncio.run(check())


def test_naive_timestamps_need_assume_tz(tmp_path: Path) -> None:
    naive = dict(TASK, execute_at="2025-01-02T09:15:00", last_executed="2025-01-01 09:15")
    source = write(tmp_path / "in.json", document(tasks=[naive]))
    refused = invoke("import", "--data-dir", tmp_path / "data", "--in", source)
    assert refused.exit_code == 1
    assert "tasks[0] (t1): execute_at" in refused.stderr
    assert "--assume-tz" in refused.stderr
    assert not (tmp_path / "data").exists()
    taken = invoke("import", "--data-dir", tmp_path / "data", "--in", source,
                   "--assume-tz", "America/New_York")
    assert taken.exit_code == 0, taken.output

    async def check() -> None:
        async with TaskStore(tmp_path / "data", read_only=True) as tasks:
            task = await tasks.get("t1")
            assert task is not None
            ny = ZoneInfo("America/New_York")
            assert task.execute_at == dt.datetime(2025, 1, 2, 9, 15, tzinfo=ny)
            assert task.last_executed == dt.datetime(2025, 1, 1, 9, 15, tzinfo=ny)

    asyncio.run(check())


def test_an_unknown_assume_tz_is_a_usage_error(tmp_path: Path) -> None:
    source = write(tmp_path / "in.json", document())
    result = invoke("import", "--data-dir", tmp_path / "data", "--in", source,
                    "--assume-tz", "Nowhere/Town")
    assert result.exit_code == 2
    assert "--assume-tz: unknown IANA zone 'Nowhere/Town'" in result.stderr


def test_skip_invalid_reports_each_record_left_out(tmp_path: Path) -> None:
    at = "2025-01-02T04:00:00+00:00"
    doc = document(
        tasks=[TASK, dict(TASK, task_id="bad id!")],
        stock_states=[{"symbol": "INFY", "updated_at": at}, {"symbol": "NIFTY 50",
                                                            "updated_at": at}],
        news=[{"title": "ok", "url": "https://x.test/1", "published_at": at},
              {"title": "bad", "url": "https://x.test/2", "published_at": at,
               "sentiment": 3.0}, "not an object"],
    )
    source = write(tmp_path / "in.json", doc)
    strict = invoke("import", "--data-dir", tmp_path / "data", "--in", source)
    assert strict.exit_code == 1
    assert "tasks[1] (bad id!)" in strict.stderr
    assert "--skip-invalid" in strict.stderr
    assert not (tmp_path / "data").exists()
    lenient = invoke("import", "--data-dir", tmp_path / "data", "--in", source,
                     "--skip-invalid")
    assert lenient.exit_code == 0, lenient.output
    out = lenient.output
    assert "imported 1 tasks, 1 stock states" in out
    assert "1 news" in out
    assert "skipped 4 invalid record(s):" in out
    for where in ("tasks[1] (bad id!): task_id", "stock_states[1] (NIFTY 50): symbol",
                  "news[1]: sentiment", "news[2]: expected an object, got str"):
        assert where in out, out


def test_an_export_from_before_the_new_fields_imports(tmp_path: Path) -> None:
    """Stock states without the check times and news without ``extra`` still load."""
    at = "2025-01-02T04:00:00+00:00"
    doc = document(
        stock_states=[{"symbol": "INFY", "last_news_check": "2025-01-02", "fetch_count": 3,
                       "updated_at": at}],
        news=[{"id": "n1", "symbol": "INFY", "title": "t", "published_at": at}],
    )
    source = write(tmp_path / "in.json", doc)
    result = invoke("import", "--data-dir", tmp_path / "data", "--in", source)
    assert result.exit_code == 0, result.output

    async def check() -> None:
        async with StockStateStore(tmp_path / "data", read_only=True) as stocks:
            state = await stocks.get_state("INFY")
            assert (state.fetch_count, state.last_news_checked_at) == (3, None)
        async with FundamentalStore(tmp_path / "data", read_only=True) as store:
            (item,) = await store.get_news("INFY")
            assert (item.id, item.extra) == ("n1", {})

    asyncio.run(check())
