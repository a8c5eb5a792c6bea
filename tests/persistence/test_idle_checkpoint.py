"""The idle checkpoint: it comes one quiet spell after the last commit, never during a burst."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.persistence.toy import ToyStore, recording


async def test_the_idle_checkpoint_comes_a_quiet_spell_after_the_last_commit(
    tmp_path: Path,
) -> None:
    with recording() as seen:
        async with ToyStore(tmp_path, idle_checkpoint=0.5) as store:
            for i in range(16):  # a commit every 0.05 s for 0.8 s: never quiet for 0.5 s
                await store.add(f"k{i}")
                await asyncio.sleep(0.05)
            assert seen.checkpoints == []
            await asyncio.sleep(1.0)
            assert len(seen.checkpoints) == 1
            await asyncio.sleep(0.6)  # nothing committed since: no second one
            assert len(seen.checkpoints) == 1
            await store.add("again")
            await asyncio.sleep(1.0)
            assert len(seen.checkpoints) == 2
