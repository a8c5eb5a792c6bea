"""Fixtures for the scheduler tests: a hand-driven clock and a real TaskStore."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tradestore import TaskStore

from .helpers import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def task_store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[TaskStore]:
    store = TaskStore(tmp_path / "data", durable=False, clock=clock)
    await store.initialize()
    try:
        yield store
    finally:
        await store.close()
