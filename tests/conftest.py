"""Shared fixtures."""

from __future__ import annotations

pytest_plugins = ["tests.pg_fixtures"]
