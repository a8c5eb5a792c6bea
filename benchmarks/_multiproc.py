"""W1P's writer processes: open a prepared store, wait for ``go``, churn, report as JSON.

Usage: ``python -m benchmarks._multiproc SYSTEM PATH SYMBOLS TASKS UPDATES SEED BUDGET``.
Prints ``ready`` once the store is open, waits for a line on stdin, runs
``TASKS`` concurrent coroutines of ``UPDATES`` awaited updates each to random
symbols (seeded), then prints one JSON line: the acknowledged updates per
symbol, every latency, and the errors.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks._adapters import make_adapter, symbol_names

__all__ = ["main"]


async def _churn(argv: list[str]) -> dict[str, Any]:
    system, path, n_symbols, tasks, updates, seed, budget = argv
    symbols = symbol_names(int(n_symbols))
    rng = random.Random(int(seed))
    plans = [[rng.choice(symbols) for _ in range(int(updates))] for _ in range(int(tasks))]
    adapter = make_adapter(system)
    await adapter.open(Path(path))
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    deadline = time.perf_counter() + float(budget) if float(budget) > 0 else None
    acked: Counter[str] = Counter()
    latencies: list[float] = []
    errors: list[str] = []

    async def worker(plan: list[str]) -> None:
        for symbol in plan:
            if deadline is not None and time.perf_counter() > deadline:
                return
            start = time.perf_counter()
            try:
                await adapter.update(symbol)
            except Exception as exc:  # counted by the parent, as W1 counts them
                errors.append(f"{type(exc).__name__}: {exc}")
            else:
                latencies.append(time.perf_counter() - start)
                acked[symbol] += 1
            await asyncio.sleep(0)

    start = time.perf_counter()
    await asyncio.gather(*(worker(plan) for plan in plans))
    elapsed = time.perf_counter() - start
    await adapter.close()
    return {"acked": dict(acked), "latencies": latencies, "errors": len(errors),
            "first_error": errors[0] if errors else None, "elapsed_s": elapsed,
            "planned": int(tasks) * int(updates)}


def main(argv: list[str]) -> int:
    """Run one writer and print its JSON line."""
    try:
        result = asyncio.run(_churn(argv))
    except Exception as exc:  # reported to the parent, which records it
        result = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
