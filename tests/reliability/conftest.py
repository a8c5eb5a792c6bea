"""Fixtures of the reliability suites, and the figures file written after a reporting run."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .figures import FIGURES

REPORT_ENV = "TRADESTORE_RELIABILITY_REPORT"
REPORT_PATH = Path(__file__).resolve().parents[2] / "docs" / "reliability.json"


@pytest.fixture(scope="session", autouse=True)
def reliability_figures() -> Iterator[None]:
    """Write the figures of the run to docs/reliability.json when REPORT_ENV=1."""
    started = time.monotonic()
    yield
    if os.environ.get(REPORT_ENV) != "1":
        return
    REPORT_PATH.parent.mkdir(exist_ok=True)
    payload = {
        "generated": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "seconds": round(time.monotonic() - started, 1),
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "figures": dict(sorted(FIGURES.items())),
    }
    REPORT_PATH.write_text(json.dumps(payload, indent=2) + "\n")
