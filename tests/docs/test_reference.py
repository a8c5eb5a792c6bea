"""docs/reference.md documents every public name: a new export without docs fails here.

Public means: the ``__all__`` of ``tradestore`` and of each of its modules and
sub-packages whose name has no leading underscore (``tradestore.cli`` aside: its
interface is its commands, checked below), and, for every public class, the
members it defines (methods, properties, fields, enum members). A member counts
as documented when it appears in code (a backtick span or a code block) in the
section of its class or of a documented base class.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest

import tradestore
from tradestore.models._base import Model
from tradestore.persistence import BaseStore

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference.md"
TEXT = REFERENCE.read_text()

# Sections that document what a base class gives its subclasses.
BASE_SECTIONS = {BaseStore: "Common to every store (`BaseStore`)", Model: "Models"}
# Members every class has from the language or its library, not from tradestore.
INHERITED = {"args", "with_traceback", "add_note"}


def _public_modules() -> list[ModuleType]:
    names = ["tradestore"] + [
        f"tradestore.{info.name}" for info in pkgutil.iter_modules(tradestore.__path__)
        if not info.name.startswith("_") and info.name != "cli"
    ]
    return [importlib.import_module(name) for name in names]


PUBLIC = sorted({(module.__name__, name) for module in _public_modules()
                 for name in module.__all__})


def _code_words(text: str) -> set[str]:
    """The identifiers written in code in ``text``: backtick spans and fenced blocks."""
    code = re.findall(r"```.*?```|`[^`]+`", text, re.S)
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(code)))


def _sections() -> dict[str, str]:
    """Each heading's text (without the #'s) -> the body up to the next heading."""
    parts = re.split(r"^(#{2,4} .*)$", TEXT, flags=re.M)
    return {parts[i].lstrip("#").strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


SECTIONS = _sections()


def _section_of(cls: type) -> str | None:
    for heading, body in SECTIONS.items():
        if f"`{cls.__name__}`" in heading:
            return body
    return None


def _members(cls: type) -> list[str]:
    """What ``cls`` itself adds that users touch: methods, properties, fields, members."""
    names: set[str] = set()
    for name, value in vars(cls).items():
        if name.startswith("_") or name in INHERITED:
            continue
        if isinstance(value, enum.Enum | property | classmethod | staticmethod) or callable(
            value
        ) or inspect.ismemberdescriptor(value) or inspect.isdatadescriptor(value):
            names.add(name)
    if issubclass(cls, msgspec.Struct):
        inherited = {f for base in cls.__mro__[1:] if base is not msgspec.Struct
                     and issubclass(base, msgspec.Struct) for f in base.__struct_fields__}
        names |= set(cls.__struct_fields__) - inherited
    if dataclasses.is_dataclass(cls):
        names |= {f.name for f in dataclasses.fields(cls)}
    if issubclass(cls, enum.Enum):
        names |= set(cls.__members__)
    return sorted(n for n in names if not n.startswith("_"))


def _public_classes() -> list[type]:
    found: dict[str, type] = {}
    for module_name, name in PUBLIC:
        value = getattr(importlib.import_module(module_name), name)
        if inspect.isclass(value):
            found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[key] for key in sorted(found)]


@pytest.mark.parametrize(("module", "name"), PUBLIC)
def test_every_exported_name_is_documented(module: str, name: str) -> None:
    assert name in _code_words(TEXT), f"{module}.{name} is exported but not in {REFERENCE}"


def test_the_stable_surface_table_lists_exactly_each_package_exports() -> None:
    rows = dict(re.findall(r"^\| `(tradestore[\w.]*)` \| (.*) \|$", TEXT, re.M))
    for module in _public_modules():
        assert module.__name__ in rows, f"{module.__name__} missing from the stable surface"
        listed = set(re.findall(r"`(\w+)`", rows[module.__name__]))
        assert set(module.__all__) <= listed, (
            f"{module.__name__} exports {sorted(set(module.__all__) - listed)} "
            "that the stable surface does not list"
        )
        extra = {n for n in listed - set(module.__all__) if not hasattr(module, n)}
        assert not extra, f"the stable surface lists {sorted(extra)} that {module.__name__} lacks"


@pytest.mark.parametrize("cls", _public_classes(), ids=lambda c: c.__name__)
def test_every_member_of_a_public_class_is_documented(cls: type) -> None:
    body = _section_of(cls)
    assert body is not None, f"{REFERENCE} has no section headed `{cls.__name__}`"
    words = _code_words(body)
    for base, heading in BASE_SECTIONS.items():
        if issubclass(cls, base) and cls is not base:
            words |= _code_words(SECTIONS[heading])
    for base in cls.__mro__[1:]:
        base_body = _section_of(base)
        if base_body is not None and base.__module__.startswith("tradestore"):
            words |= _code_words(base_body)
    missing = [name for name in _members(cls) if name not in words]
    assert not missing, f"{cls.__name__}: undocumented {missing} in {REFERENCE}"


def test_store_methods_inherited_from_the_base_are_documented() -> None:
    common = _code_words(SECTIONS[BASE_SECTIONS[BaseStore]])
    missing = [name for name in _members(BaseStore) if name not in common]
    assert not missing, f"undocumented store methods {missing}"


def test_every_command_is_documented() -> None:
    from tradestore.cli import app

    commands: list[Any] = [c.name or c.callback.__name__ for c in app.registered_commands
                           if c.callback is not None]
    assert commands
    for command in commands:
        assert f"`tradestore {command}`" in TEXT, f"tradestore {command} is not documented"


def test_links_in_the_reference_point_at_files_that_exist_or_are_expected() -> None:
    # backends.md comes with the PostgreSQL backend; every other link must resolve.
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", TEXT):
        if target.startswith("http") or target == "backends.md":
            continue
        assert (REFERENCE.parent / target).exists(), f"broken link {target}"


def test_code_tests_and_docs_point_to_the_reference_not_a_missing_contract_file() -> None:
    cited = "API" + ".md"  # spelled apart so that this file does not cite it
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("src", "tests", "benchmarks", "docs")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in {".py", ".md", ".toml"} and cited in path.read_text()
    ] + [name for name in ("README.md", "pyproject.toml", "CHANGELOG.md")
         if cited in (ROOT / name).read_text()]
    assert not offenders, f"{cited} is not shipped; cite docs/reference.md instead: {offenders}"
