"""Child processes of the kill and process suites (run as ``python -m <package>._child``).

``kill NAME DATA_DIR START``: open the store and make mutations START, START+1, ...
printing ``ack I`` (flushed) after each awaited call returns, until killed.

``hold NAME DATA_DIR``: open the store for writing, print ``locked``, and keep
writing (printing ``ack I``) until stdin closes.

``read NAME DATA_DIR ROUNDS``: open read-only ROUNDS times, printing each
snapshot as one JSON line (or the error).
"""

from __future__ import annotations

import asyncio
import json
import sys

from tradestore.errors import TradingError

from .adapters import get_adapter


async def _kill(name: str, data_dir: str, start: int, durable: bool) -> None:
    adapter = get_adapter(name)
    store = adapter.open(data_dir, durable=durable)
    await store.initialize()
    print("open", flush=True)
    i = start
    while True:
        await adapter.apply(store, i)
        print(f"ack {i}", flush=True)
        i += 1


async def _hold(name: str, data_dir: str) -> None:
    adapter = get_adapter(name)
    store = adapter.open(data_dir)
    await store.initialize()
    print("locked", flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    i = 0
    while not stdin_closed.done():
        await adapter.apply(store, i)
        print(f"ack {i}", flush=True)
        i += 1
        await asyncio.sleep(0.01)
    await store.close()


async def _read(name: str, data_dir: str, rounds: int) -> None:
    adapter = get_adapter(name)
    for _ in range(rounds):
        store = adapter.open(data_dir, read_only=True)
        try:
            print(json.dumps({"snapshot": await adapter.snapshot(store)}), flush=True)
        except TradingError as exc:
            print(json.dumps({"error": type(exc).__name__, "message": str(exc)}), flush=True)
        finally:
            await store.close()


def main(argv: list[str]) -> None:
    """Dispatch on the first argument."""
    command, name, data_dir, *rest = argv
    if command == "kill":
        asyncio.run(_kill(name, data_dir, int(rest[0]), rest[1:] != ["nondurable"]))
    elif command == "hold":
        asyncio.run(_hold(name, data_dir))
    elif command == "read":
        asyncio.run(_read(name, data_dir, int(rest[0])))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
