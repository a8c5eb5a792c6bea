"""Other processes and cancelled callers.

A second writer is refused with StoreLockedError within a second while
read-only processes read consistent data (always a state the writer
acknowledged at some point). Callers cancelled after k event-loop iterations,
for every k until the call completes on its own, leave a consistent store, no
leaked descriptor, temporary file or lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tradestore.errors import StoreLockedError

from .adapters import Adapter, adapter_names, get_adapter
from .figures import count
from .harness import child_command, match_prefix, temp_files


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.slow
@pytest.mark.parametrize("name", adapter_names())
def test_second_writer_refused_while_readers_read_consistent_data(
    name: str, tmp_path: Path
) -> None:
    adapter = get_adapter(name)
    argv, env = child_command("hold", name, str(tmp_path))
    # Unbuffered: a buffered readline() could take "ack" lines into a buffer that
    # communicate() below never reads (it reads the raw pipe), undercounting acks.
    holder = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env, bufsize=0)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"locked"
        readers = [subprocess.Popen([*child_command("read", name, str(tmp_path), "6")[0]],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
                   for _ in range(2)]
        started = time.monotonic()
        refused = asyncio.run(_try_to_write(adapter, tmp_path))
        elapsed = time.monotonic() - started
        assert isinstance(refused, StoreLockedError), f"a second writer got {refused!r}"
        assert elapsed < 1.0, f"the second writer waited {elapsed:.2f}s"
        seen: list[dict[str, Any]] = []
        for reader in readers:
            out, err = reader.communicate(timeout=60)
            assert reader.returncode == 0, err.decode()
            seen.extend(json.loads(line) for line in out.decode().splitlines())
    finally:
        out, err = holder.communicate(b"", timeout=60)  # stdin closes: the holder closes
    assert holder.returncode == 0, err.decode()
    acks = [int(x.split()[1]) for x in out.decode().splitlines() if x.startswith("ack ")]
    # Mutations are numbered and sequential: the last ack counts them all. (The
    # lines the readline above buffered beyond "locked" never reach communicate.)
    acked = acks[-1] + 1 if acks else 0
    assert acks == list(range(acked - len(acks), acked)), "acknowledgements out of order"
    states = {json.dumps(adapter.expected(n), sort_keys=True) for n in range(acked + 2)}
    for got in seen:
        assert "snapshot" in got, f"a reader failed beside the writer: {got}"
        assert json.dumps(got["snapshot"], sort_keys=True) in states, (
            f"a reader saw a state the writer never had: {got['snapshot']}")
    snapshots = len(seen)
    assert snapshots == 12
    assert asyncio.run(_read(adapter, tmp_path)) == adapter.expected(acked)
    count("processes.writers_refused", 1, store=name)
    count("processes.children", 3, store=name)
    count("processes.reader_snapshots", snapshots, store=name)


async def _try_to_write(adapter: Adapter, data_dir: Path) -> BaseException | None:
    store = adapter.open(data_dir)
    try:
        await store.initialize()
    except StoreLockedError as exc:
        return exc
    finally:
        await store.close()
    return None


async def _read(adapter: Adapter, data_dir: Path) -> dict[str, object]:
    store = adapter.open(data_dir)  # the lock was released: a writer opens
    try:
        return await adapter.snapshot(store)
    finally:
        await store.close()


async def _cancel_after(coro_factory: Callable[[], Awaitable[None]], k: int) -> bool:
    """Start the call, let the loop turn ``k`` times, cancel; whether it finished first."""
    task = asyncio.ensure_future(coro_factory())
    for _ in range(k):
        await asyncio.sleep(0)
    finished = task.done()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return finished


@pytest.mark.slow
@pytest.mark.parametrize("name", adapter_names())
async def test_cancelled_callers_leave_a_consistent_store_and_leak_nothing(
    name: str, tmp_path: Path
) -> None:
    adapter = get_adapter(name)
    fds = _open_fds()
    store = adapter.open(tmp_path)
    cancels = 0
    # Cancel initialize() itself at every point, then a mutation at every point.
    for k in range(200):
        finished = await _cancel_after(store.initialize, k)
        cancels += not finished
        if finished:
            break
    await store.initialize()
    done = 0
    for k in range(400):
        finished = await _cancel_after(functools.partial(adapter.apply, store, done), k)
        cancels += not finished
        await store.flush()
        snap = await adapter.snapshot(store)
        found = match_prefix(adapter, snap, done, done + 1)
        assert found is not None, f"cancelled after {k} turns: the store holds {snap!r}"
        done = found
        if finished:
            break
    await store.close()
    assert _open_fds() == fds, "a descriptor leaked"
    assert not temp_files(adapter.store_dir(tmp_path))
    assert await _read(adapter, tmp_path) == adapter.expected(done)  # the lock is free
    assert cancels > 3
    count("cancel.points", cancels, store=name)
