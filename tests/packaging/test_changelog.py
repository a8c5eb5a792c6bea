"""CHANGELOG.md keeps its Keep a Changelog shape, and the package version has its section."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "CHANGELOG.md").read_text()
SECTIONS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


def test_releases_are_headed_by_version_and_date_newest_first() -> None:
    headings = re.findall(r"^## (.+)$", TEXT, re.M)
    assert headings[0] == "Unreleased" or re.fullmatch(r"\d+\.\d+\.\d+ - \d{4}-\d{2}-\d{2}",
                                                      headings[0])
    released = [h for h in headings if h != "Unreleased"]
    assert released, "at least one release"
    for heading in released:
        assert re.fullmatch(r"\d+\.\d+\.\d+ - \d{4}-\d{2}-\d{2}", heading), heading
    versions = [tuple(int(p) for p in h.split(" ")[0].split(".")) for h in released]
    assert versions == sorted(versions, reverse=True)


def test_change_kinds_are_the_keep_a_changelog_ones() -> None:
    for kind in re.findall(r"^### (.+)$", TEXT, re.M):
        assert kind in SECTIONS, f"unknown change kind {kind!r}"


def test_the_installed_version_has_its_section() -> None:
    version = metadata.version("tradestore")
    if re.fullmatch(r"\d+\.\d+\.\d+", version):
        assert re.search(rf"^## {re.escape(version)} - ", TEXT, re.M), (
            f"CHANGELOG.md has no section for the released version {version}"
        )
    else:  # a development version: its changes are gathered under Unreleased
        assert re.search(r"^## Unreleased$", TEXT, re.M)
