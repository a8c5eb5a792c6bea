"""The only files the dashboard serves: its own CSS and JS, and the installed plotly.js."""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["asset_files", "plotly_bundle"]

_STATIC = Path(__file__).with_name("static")


def plotly_bundle() -> Path | None:
    """plotly.js as shipped inside the installed plotly package (never a CDN)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


def asset_files() -> dict[str, Path]:
    """The only files the app serves: a fixed map from name to file, no path lookups."""
    files = {"dashboard.css": _STATIC / "dashboard.css", "dashboard.js": _STATIC / "dashboard.js"}
    bundle = plotly_bundle()
    if bundle is not None:
        files["plotly.min.js"] = bundle
    return files
