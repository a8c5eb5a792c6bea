"""``python -m tradestore`` and the ``tradestore`` console script.

The command line needs the ``cli`` extra (typer, rich). Without it this
launcher prints one line naming the extra and exits with 2, the code for "could
not start", instead of a traceback; the library itself never needs the extra.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

CLI_EXTRA_HINT = "pip install 'tradestore[cli]'"
"""What to run to get the command line's dependencies."""

_CLI_DEPENDENCIES = frozenset({"typer", "click", "rich"})
EXIT_USAGE = 2


def main() -> None:
    """Run the ``tradestore`` command, or say which extra it needs."""
    try:
        from tradestore.cli import main as cli_main  # noqa: PLC0415  # only the CLI needs typer
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in _CLI_DEPENDENCIES:
            raise
        print(
            f"error: the tradestore command needs the 'cli' extra ({exc.name} is missing); "
            f"install it with: {CLI_EXTRA_HINT}",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_USAGE) from None
    cli_main()


if __name__ == "__main__":
    main()
