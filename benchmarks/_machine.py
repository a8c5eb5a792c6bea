"""What the report records about the machine and the software it ran on."""

from __future__ import annotations

import importlib
import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

__all__ = ["machine_info"]

_PACKAGES = ("tradestore", "aiosqlite", "aiofiles", "msgspec", "matplotlib", "psutil")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _filesystem(path: Path) -> str:
    """Filesystem type and device of the mount holding ``path``."""
    target = str(path.resolve())
    best = ("", "unknown", "unknown")
    try:
        for line in Path("/proc/mounts").read_text(encoding="utf-8").splitlines():
            device, mount, fstype, *_ = line.split()
            inside = target == mount or target.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) > len(best[0]):
                best = (mount, fstype, device)
    except OSError:
        return "unknown"
    return f"{best[1]} ({best[2]} on {best[0]})"


def _git_commit(root: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        pass
    try:
        module = importlib.import_module(package)
    except ImportError:
        return "not installed"
    where = Path(module.__file__ or package).resolve().parent
    return f"{getattr(module, '__version__', 'unversioned')} (source tree {where.name}/)"


def _load() -> str:
    """1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def machine_info(data_dir: Path) -> dict[str, str]:
    """CPU, cores, kernel, filesystem of ``data_dir``, Python, library versions, date."""
    data_dir.mkdir(parents=True, exist_ok=True)
    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "kernel": f"{platform.system()} {platform.release()}",
        "filesystem": _filesystem(data_dir),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "sqlite": sqlite3.sqlite_version,
        "commit": _git_commit(Path(__file__).resolve().parents[1]),
        "load average at start": _load(),
    }
    info.update({f"{name} version": _version(name) for name in _PACKAGES})
    return info
