"""Scheduler processes for the multi-host tests: start, signal, read what they ran.

Leases in these tests are 2 s (``LEASE``), not the default 30 s: a crashed or
frozen process's task can only be taken back once its lease has expired, and
the tests wait for that several times; 2 s keeps them short while staying far
above the time a renewal takes on a loaded 2-core machine (renewals happen
every lease / 3).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = ["LEASE", "Run", "Worker", "duplicates", "read_runs", "wait_for"]

LEASE = 2.0
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    """One line a handler wrote: one start of a handler."""

    task_id: str
    planned_at: datetime
    attempt: int
    token: int
    pid: int
    wall: float


def read_runs(paths: Iterable[Path]) -> list[Run]:
    """Every run recorded in ``paths`` (files that do not exist hold none)."""
    runs: list[Run] = []
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            task_id, planned, attempt, token, pid, wall = line.split(" ")
            runs.append(Run(task_id, datetime.fromisoformat(planned), int(attempt), int(token),
                            int(pid), float(wall)))
    return runs


def duplicates(runs: Iterable[Run]) -> dict[tuple[str, datetime], int]:
    """Slots (task, planned time) started more than once, with how many times."""
    counts = Counter((run.task_id, run.planned_at) for run in runs)
    return {slot: n for slot, n in counts.items() if n > 1}


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` every 50 ms until true; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)


class Worker:
    """A scheduler process (``tests.multihost._worker``) on ``dsn``, recording into ``out``."""

    def __init__(self, dsn: str, folder: Path, name: str, *args: str) -> None:
        self.name = name
        self.out = folder / f"{name}.runs"
        self.log = folder / f"{name}.log"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
        with self.log.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.multihost._worker", dsn, str(self.out),
                 "--lease", str(LEASE), *args],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()
        if not ready.startswith("ready "):
            raise AssertionError(f"{name} did not start: {ready!r} {self.log.read_text()}")
        self.scheduler_id = ready.split(" ", 1)[1].strip()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 30.0) -> str:
        """SIGTERM (a graceful stop), wait, and return what it printed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=timeout)
        return out

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=30)

    def logged(self) -> str:
        return self.log.read_text()
