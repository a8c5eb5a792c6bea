"""Every persistence module stays under 350 lines, so a newcomer can read each at one sitting."""

from __future__ import annotations

from pathlib import Path

import pytest

LIMIT = 350
LAYER = Path(__file__).resolve().parents[2] / "src" / "tradestore" / "persistence"
MODULES = sorted(LAYER.glob("*.py"))


def test_the_persistence_modules_are_found() -> None:
    names = {p.name for p in MODULES}
    assert {"_collection.py", "_replace.py", "_checkpoint.py", "_spares.py"} <= names


@pytest.mark.parametrize("module", MODULES, ids=[p.name for p in MODULES])
def test_persistence_module_is_under_the_line_limit(module: Path) -> None:
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines < LIMIT, f"{module.name} has {lines} lines; the limit is {LIMIT - 1}"
