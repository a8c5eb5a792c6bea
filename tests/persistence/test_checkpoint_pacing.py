"""A checkpoint checks the backups it replaces in small thread jobs, each once.

The check is hundreds of short reads with hashing between; done in one thread
job without a pause it kept the event loop from the GIL for 5-10 ms at a time.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import tradestore.persistence._checkpoint as checkpoint_module
from tests.persistence.toy import ToyStore
from tradestore.persistence._fs import FileSystem, run_io
from tradestore.persistence._naming import BACKUP_SUFFIX

PARTS = 100
NAMES = [f"c{i}" for i in range(4 * PARTS)]
DOCS = len({ToyStore.doc_of(name, PARTS) for name in NAMES})  # the partitions used


class _CountingFS(FileSystem):
    def __init__(self) -> None:
        super().__init__()
        self.backup_reads: dict[str, int] = {}

    def read(self, path: Path) -> bytes:
        if path.name.startswith("doc-") and path.name.endswith(BACKUP_SUFFIX):
            self.backup_reads[path.name] = self.backup_reads.get(path.name, 0) + 1
        return super().read(path)


async def _every_part_changed(store: ToyStore) -> None:
    await store.set_many({name: i for i, name in enumerate(NAMES)})


async def test_each_backup_is_checked_once_in_jobs_of_a_few(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for _ in range(2):  # every partition now has a document and a backup
        async with ToyStore(tmp_path, parts=PARTS) as store:
            await _every_part_changed(store)
    jobs: list[int] = []

    async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
        if fn is not checkpoint_module.write_checkpoint:
            jobs.append(len(args[-1]))  # the documents of this check
        return await run_io(fn, *args, **kwargs)

    monkeypatch.setattr(checkpoint_module, "run_io", counted)
    fs = _CountingFS()
    async with ToyStore(tmp_path, parts=PARTS, fs=fs) as store:
        await _every_part_changed(store)
        await store.checkpoint()
    per_job = checkpoint_module.BACKUPS_PER_JOB
    assert 3 * per_job < DOCS
    assert len(jobs) == math.ceil(DOCS / per_job)
    assert max(jobs) <= per_job
    assert sum(jobs) == DOCS
    assert len(fs.backup_reads) == DOCS
    assert set(fs.backup_reads.values()) == {1}  # write_checkpoint read none again
