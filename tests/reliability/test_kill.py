"""Kill test: a child process writes and acknowledges; SIGKILL at random moments; nothing lost.

Each round starts a child that opens the store and makes numbered mutations,
printing each acknowledgement once the awaited call has returned. The parent
kills it at a random moment (during start-up and recovery too), reopens the
store and checks it holds exactly the acknowledged prefix (or one more: the
call in flight), that nothing was taken for damage, and that no temporary file
or journal survives the reopen, so leftovers never pile up across rounds.
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .adapters import Snapshot, adapter_names, get_adapter, in_both_modes
from .figures import count
from .harness import child_command, files_under, journal_files, match_prefix, temp_files

ROUNDS = 12


async def _reopen_and_read(name: str, data_dir: Path) -> Snapshot:
    adapter = get_adapter(name)
    store = adapter.open(data_dir)
    try:
        return await adapter.snapshot(store)
    finally:
        await store.close()


KILL_CASES = [(name, True) for name in in_both_modes(adapter_names())] + [
    (name, False) for name in in_both_modes(["probe", "tasks", "stock_state"])
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "durable"), KILL_CASES,
                         ids=[f"{n}-{'durable' if d else 'nondurable'}" for n, d in KILL_CASES])
def test_sigkill_at_random_moments_loses_no_acknowledged_write(
    name: str, durable: bool, tmp_path: Path
) -> None:
    """Either mode: a killed process loses nothing acknowledged (the page cache survives)."""
    adapter = get_adapter(name)
    rng = random.Random(f"kill-{name}-{durable}")
    data_dir = tmp_path / "data"
    folder = adapter.store_dir(data_dir)
    done = 0  # mutations the store holds
    acked_total = 0
    for round_no in range(ROUNDS):
        argv, env = child_command("kill", name, str(data_dir), str(done),
                                  *([] if durable else ["nondurable"]))
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        time.sleep(rng.uniform(0.2, 0.9))
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL, err.decode()
        acks = [int(line.split()[1]) for line in out.decode().splitlines()
                if line.startswith("ack ")]
        assert acks == list(range(done, done + len(acks))), "acknowledgements out of order"
        acked_total += len(acks)
        left_temps = len(temp_files(folder))
        assert left_temps <= 8, f"round {round_no}: {left_temps} temporary files after a kill"
        snap = asyncio.run(_reopen_and_read(name, data_dir))
        lo = done + len(acks)
        found = match_prefix(adapter, snap, lo, lo + 1)
        count("kill.lost_or_wrong", found is None, store=name)
        assert found is not None, (
            f"round {round_no}: {lo} mutations acknowledged, the store holds {snap!r}"
        )
        done = found
        assert not temp_files(folder), "temporary files survived a reopen"
        assert not journal_files(folder), "journals survived a clean close"
        assert not any(p.parent.name == "quarantine" for p in files_under(folder)), (
            "a kill was taken for damage")
    count("kill.rounds", ROUNDS, store=name)
    count("kill.processes", ROUNDS, store=name)
    count("kill.acknowledged", acked_total, store=name)
    assert acked_total > ROUNDS, "the children hardly wrote: the kills proved nothing"
