"""Where the dashboard may listen: loopback by default, anything else only when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import invoke
from tradestore._cli.common import UserError, err_console
from tradestore._cli.web import check_bind, is_loopback, parse_bind


def test_parse_bind() -> None:
    assert parse_bind("8080") == ("127.0.0.1", 8080)
    assert parse_bind("0.0.0.0:9000") == ("0.0.0.0", 9000)
    assert parse_bind("[::1]:8081") == ("::1", 8081)
    assert parse_bind("localhost:1") == ("localhost", 1)
    for bad in ("", "host:", "99999", "x:abc", "0"):
        with pytest.raises(ValueError, match="not a port"):
            parse_bind(bad)


def test_loopback_addresses() -> None:
    for host in ("127.0.0.1", "127.8.9.10", "::1", "localhost"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.com"):
        assert not is_loopback(host), host


def test_remote_bind_needs_the_flag_and_warns() -> None:
    with pytest.raises(UserError, match="--allow-remote") as refused:
        check_bind("0.0.0.0", allow_remote=False)
    assert refused.value.exit_code == 2
    with err_console.capture() as captured:
        check_bind("0.0.0.0", allow_remote=True)
    assert "warning" in captured.get()
    assert "reachable" in captured.get() or "anyone" in captured.get()
    check_bind("127.0.0.1", allow_remote=False)


def test_commands_refuse_a_remote_address_without_the_flag(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    served = invoke("serve", "--data-dir", tmp_path / "data", "--host", "0.0.0.0")
    assert served.exit_code == 2
    assert "--allow-remote" in served.output
    ran = invoke("run", "--data-dir", tmp_path / "data", "--once", "--web", "0.0.0.0:8765")
    assert ran.exit_code == 2
    assert "--allow-remote" in ran.output
    bad = invoke("run", "--data-dir", tmp_path / "data", "--once", "--web", "nope")
    assert bad.exit_code == 2
