"""A throwaway PostgreSQL server for tests, demos and benchmarks.

``LocalServer`` finds the machine's PostgreSQL binaries (``pg_config
--bindir``, then ``/usr/lib/postgresql/*/bin``, newest first), runs ``initdb``
and ``pg_ctl`` in a private temporary folder on a free loopback port, and
removes everything at ``stop()``. PostgreSQL refuses to run as root, so when
the current user is root the server runs as the ``postgres`` system user (the
folder is handed to that user). The superuser ``postgres`` logs in over TCP
with a generated password (scram-sha-256), so wrong-password cases are real.

Run ``python -m tradestore.postgres -- COMMAND...`` to run a command
with ``TRADESTORE_PG_DSN`` pointing at a throwaway server (or at the server
already named by ``TRADESTORE_PG_DSN``).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, Self

__all__ = ["LocalServer", "PostgresNotFound", "find_bindir"]

_log = logging.getLogger(__name__)
_RUN_AS = "postgres"


class PostgresNotFound(RuntimeError):
    """No PostgreSQL server binaries (``initdb``, ``pg_ctl``) on this machine."""


def _version_key(path: str) -> tuple[int, ...]:
    parts = Path(path).parent.name.split(".")
    return tuple(int(p) for p in parts if p.isdigit())


def find_bindir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``; PostgresNotFound if there is none."""
    candidates: list[str] = []
    env = os.environ.get("TRADESTORE_PG_BINDIR")
    if env:
        candidates.append(env)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 check=True, timeout=10).stdout.strip()
            candidates.append(out)
    candidates.extend(sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key,
                             reverse=True))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for folder in candidates:
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    raise PostgresNotFound(
        "no PostgreSQL server binaries found (looked at pg_config --bindir and "
        "/usr/lib/postgresql/*/bin); install the 'postgresql' package or set "
        "TRADESTORE_PG_DSN to an existing server"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalServer:
    """A private PostgreSQL cluster in a temporary folder, on 127.0.0.1 at a free port.

    ``fsync=False`` (tests) trades durability of the throwaway data for speed;
    benchmarks keep the default ``fsync=True``.
    """

    def __init__(self, *, fsync: bool = True, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.fsync = fsync
        self.password = secrets.token_hex(12)
        self.port = 0
        self.root: Path | None = None
        self._running = False
        self._user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self._user = pwd.getpwnam(_RUN_AS)
            except KeyError as exc:
                raise PostgresNotFound(
                    f"running as root and there is no {_RUN_AS!r} user to run PostgreSQL as"
                ) from exc

    @property
    def dsn(self) -> str:
        """The superuser's URL of the running server."""
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/postgres"

    def dsn_for(self, dbname: str, *, password: str | None = None) -> str:
        """The URL of database ``dbname`` (optionally with another password)."""
        pw = self.password if password is None else password
        return f"postgresql://postgres:{pw}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        extra: dict[str, Any] = {}
        if self._user is not None:
            extra = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        if self._user is not None:
            env["HOME"] = str(self.root)
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]], capture_output=True, text=True,
            check=check, timeout=120, cwd=self.root, env=env, **extra,
        )

    def _give(self, path: Path) -> None:
        if self._user is not None:
            os.chown(path, self._user.pw_uid, self._user.pw_gid)

    def start(self) -> Self:
        """Create the cluster (first call) and start the server; waits until it accepts."""
        if self._running:
            return self
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="tradestore-pg-"))
            self._give(self.root)
            pwfile = self.root / "pwfile"
            pwfile.write_text(self.password + "\n")
            self._give(pwfile)
            try:
                self._run("initdb", "-D", str(self.root / "data"), "-U", "postgres",
                          "--pwfile", str(pwfile), "--auth-local=trust",
                          "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C",
                          "--no-sync")
            except subprocess.CalledProcessError as exc:
                self._remove()
                raise RuntimeError(f"initdb failed: {exc.stderr.strip()}") from exc
            pwfile.unlink()
        if not self.port:
            self.port = _free_port()
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                   f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=200 "
                   "-c shared_buffers=128MB")
        if not self.fsync:
            options += " -c synchronous_commit=off -c full_page_writes=off"
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-l",
                      str(self.root / "server.log"), "-o", options, "-w", "-t", "60", "start")
        except subprocess.CalledProcessError as exc:
            log = self.log_tail()
            raise RuntimeError(f"pg_ctl start failed: {exc.stderr.strip()} {log}") from exc
        self._running = True
        _log.info("throwaway PostgreSQL at 127.0.0.1:%d in %s", self.port, self.root)
        return self

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server log (for error messages)."""
        if self.root is None:
            return ""
        with contextlib.suppress(OSError):
            return "\n".join((self.root / "server.log").read_text().splitlines()[-lines:])
        return ""

    def stop(self, *, mode: str = "fast") -> None:
        """Stop the server, keeping its data (``start()`` again resumes it)."""
        if self._running and self.root is not None:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", mode, "-w", "stop",
                      check=False)
            self._running = False

    def kill(self) -> None:
        """Stop the server abruptly (``immediate`` mode: like a crash, recovery at start)."""
        self.stop(mode="immediate")

    def _remove(self) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def close(self) -> None:
        """Stop the server and delete its folder."""
        try:
            self.stop(mode="immediate" if not self.fsync else "fast")
        finally:
            self._remove()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def main(argv: list[str]) -> int:
    """Run ``argv`` (after ``--``) with TRADESTORE_PG_DSN set; a throwaway server if unset."""
    command = argv[argv.index("--") + 1:] if "--" in argv else argv
    if not command:
        print("usage: python -m tradestore.postgres -- COMMAND...", file=sys.stderr)
        return 2
    if os.environ.get("TRADESTORE_PG_DSN"):
        return subprocess.call(command)
    try:
        server = LocalServer()
    except PostgresNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with server.start():
        print(f"throwaway PostgreSQL server at 127.0.0.1:{server.port} "
              "(removed when the command ends)", file=sys.stderr)
        return subprocess.call(command, env={**os.environ, "TRADESTORE_PG_DSN": server.dsn})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
