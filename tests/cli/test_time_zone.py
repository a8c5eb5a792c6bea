"""``tradestore run/status --tz``: the bot's calendar day on the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from .conftest import invoke


def test_run_and_status_take_the_zone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ran = invoke("run", "--data-dir", data, "--once", "--symbols", "INFY", "--tz",
                 "Asia/Kolkata")
    assert ran.exit_code == 0, ran.output
    assert "zone: Asia/Kolkata" in ran.output
    shown = invoke("status", "--data-dir", data, "--tz", "Asia/Kolkata")
    assert shown.exit_code == 0, shown.output
    today = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date()
    assert f"today is {today} in Asia/Kolkata" in shown.output
    assert "INFY" in shown.output


def test_an_unknown_zone_is_a_one_line_usage_error(tmp_path: Path) -> None:
    for command in ("run", "status"):
        data = tmp_path / "data"
        data.mkdir(exist_ok=True)
        result = invoke(command, "--data-dir", data, "--tz", "Mars/Olympus")
        assert result.exit_code == 2, result.output
        assert "--tz: unknown IANA zone 'Mars/Olympus'" in result.stderr
        assert "Traceback" not in result.output
