"""Shared fixtures for the model tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


@pytest.fixture
def now() -> datetime:
    """A fixed aware time."""
    return datetime(2025, 6, 2, 14, 30, tzinfo=UTC)
