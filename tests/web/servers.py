"""Real ``tradestore serve`` / ``tradestore run --web`` processes on a free loopback port."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

SRC = Path(__file__).resolve().parents[2] / "src"


def free_port() -> int:
    """A TCP port nothing listens on now (the kernel's pick, on loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Process:
    """``python -m tradestore.cli ARGS`` with its output collected line by line."""

    def __init__(self, *args: str | Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tradestore.cli", *(str(a) for a in args)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line)

    def wait_for_line(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first output line matching ``pattern`` (fails after ``timeout`` s)."""
        regex = re.compile(pattern)
        for line in list(self.lines):
            if found := regex.search(line):
                return found
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None and self._queue.empty():
                break
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if found := regex.search(line):
                return found
        raise AssertionError(f"no line matching {pattern!r}; output:\n" + "\n".join(self.lines))

    def wait_http(self, url: str, timeout: float = 60) -> None:
        """Wait until ``url`` answers (any status)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("the process ended:\n" + "\n".join(self.lines))
            try:
                with urllib.request.urlopen(url, timeout=5):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"{url} never answered:\n" + "\n".join(self.lines))

    def stop(self) -> int:
        """SIGINT (Ctrl-C), then wait; kill if it does not stop. Returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self._reader.join(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return self.proc.returncode

    def __enter__(self) -> Process:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def post(url: str, token: str | None = None) -> tuple[int, str]:
    """POST to ``url`` (with the token header if given): (status, body)."""
    request = urllib.request.Request(url, method="POST", data=b"")
    if token is not None:
        request.add_header("X-Tradestore-Token", token)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def get(url: str) -> tuple[int, str]:
    """GET ``url``: (status, body)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
