"""W4's fresh process: open a prepared store, read one symbol, print the figures as JSON.

Usage: ``python -m benchmarks._coldopen SYSTEM PATH SYMBOL frozen|unfrozen`` (the
last: whether the stall monitor freezes the heap, see ``_stall.py``). The system's
modules are imported before the clock starts; peak memory is the process's
peak resident set (``VmHWM``, else ``ru_maxrss``), and the growth is measured
from just before the open.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._adapters import make_adapter
from benchmarks._stall import StallMonitor

__all__ = ["main"]


def _maxrss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    # VmHWM starts afresh at exec; ru_maxrss can carry the parent's peak over exec.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


async def _measure(system: str, path: Path, symbol: str, freeze: bool) -> dict[str, Any]:
    adapter = make_adapter(system)
    before = _maxrss_mib()
    async with StallMonitor(freeze=freeze) as monitor:
        start = time.perf_counter()
        await adapter.open(path)
        await adapter.read(symbol)
        elapsed = time.perf_counter() - start
    peak = _maxrss_mib()
    await adapter.close()
    return {
        "open_to_read_ms": elapsed * 1000.0,
        "peak_rss_mib": peak,
        "rss_growth_mib": peak - before,
        **monitor.metrics(),
    }


def main(argv: list[str]) -> int:
    """Run the measurement and print one JSON line; errors are reported in it."""
    system, path, symbol, heap = argv
    try:
        result = asyncio.run(_measure(system, Path(path), symbol, heap == "frozen"))
    except Exception as exc:  # reported to the parent, which counts it
        result = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
