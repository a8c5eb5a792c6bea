"""One behavioural suite, run against both backends: ``location`` is a folder or a URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stores.helpers import FakeClock


@pytest.fixture(params=["file", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the stores under test live: a fresh folder, or a clean PostgreSQL database."""
    if request.param == "file":
        return str(tmp_path / "data")
    dsn: str = request.getfixturevalue("pg_dsn")
    return dsn


@pytest.fixture
def clock() -> FakeClock:
    """A settable store clock."""
    return FakeClock()
