"""Every store module stays under 350 lines (split it or move code into persistence/)."""

from __future__ import annotations

from pathlib import Path

import pytest

LIMIT = 350
STORES = Path(__file__).resolve().parents[2] / "src" / "tradestore" / "stores"
MODULES = sorted(STORES.glob("*.py"))


def test_the_store_modules_are_found() -> None:
    names = {p.name for p in MODULES}
    assert {"__init__.py", "task_store.py", "stock_state_store.py"} <= names


@pytest.mark.parametrize("module", MODULES, ids=[p.name for p in MODULES])
def test_store_module_is_under_the_line_limit(module: Path) -> None:
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines < LIMIT, f"{module.name} has {lines} lines; the limit is {LIMIT - 1}"
