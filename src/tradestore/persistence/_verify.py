"""Checking every file of a collection folder without changing anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from tradestore.persistence._format import DamagedFileError, NewerFormatError, decode_file
from tradestore.persistence._fs import FileSystem, is_temp_name
from tradestore.persistence._naming import (
    BACKUP_SUFFIX,
    CHECKPOINT_NAME,
    DOC_PREFIX,
    decode_doc_name,
    parse_journal_name,
)
from tradestore.persistence._recovery import MARKER_DECODER

__all__ = ["Problem", "RepairReport", "verify_collection"]


class Problem(msgspec.Struct, frozen=True):
    """One file that is not as it should be."""

    path: str
    kind: str  # "damaged", "newer_version", "leftover_temp", "unsynced_tail";
    # on PostgreSQL "invalid_row"
    detail: str
    recoverable: bool  # a good previous version exists, or nothing is lost by removing it


class RepairReport(msgspec.Struct):
    """What a repair did."""

    checked_documents: int = 0
    recovered: list[str] = msgspec.field(default_factory=list)
    lost: list[str] = msgspec.field(default_factory=list)
    quarantined: list[str] = msgspec.field(default_factory=list)
    refused: list[str] = msgspec.field(default_factory=list)


def _check(fs: FileSystem, path: Path, decoder: msgspec.json.Decoder[Any], kind: str,
           collection: str, **expect: Any) -> tuple[str, str] | None:
    try:
        decode_file(fs.read(path), decoder, kind=kind, collection=collection, trusted=False,
                    **expect)
    except FileNotFoundError:
        return None
    except NewerFormatError as exc:
        return "newer_version", str(exc)
    except DamagedFileError as exc:
        return "damaged", str(exc)
    except OSError as exc:
        return "damaged", f"unreadable: {exc}"
    return None


def verify_collection(
    fs: FileSystem, folder: Path, collection: str, doc_decoder: msgspec.json.Decoder[Any],
    journal_decoder: msgspec.json.Decoder[Any],
) -> list[Problem]:
    """Check every file of one collection folder with the collection's own decoders."""
    names = sorted(fs.listdir(folder))
    problems: list[Problem] = []
    bad_live: dict[str, tuple[str, str]] = {}
    for name in names:
        path = folder / name
        result: tuple[str, str] | None
        if is_temp_name(name):  # never a spare: those are blanks kept for reuse
            problems.append(Problem(str(path), "leftover_temp", "unfinished write", True))
            continue
        if (parsed := parse_journal_name(name)) is not None:
            result = _check(fs, path, journal_decoder, "journal", collection, seq=parsed[0])
            recoverable = False
            if result is not None and not parsed[1] and result[0] == "damaged":
                # Written with durable=False and cut short by a power loss: the next
                # open drops it (and later unsynced journals), as the mode promises.
                result = ("unsynced_tail", result[1])
                recoverable = True
        elif name in (CHECKPOINT_NAME, CHECKPOINT_NAME + BACKUP_SUFFIX):
            result = _check(fs, path, MARKER_DECODER, "checkpoint", collection)
            recoverable = True
        elif name.startswith(DOC_PREFIX) and name.endswith((".json", ".json" + BACKUP_SUFFIX)):
            base = name.removesuffix(BACKUP_SUFFIX)
            doc = decode_doc_name(base)
            expect = {"doc": doc} if doc is not None else {}
            result = _check(fs, path, doc_decoder, "doc", collection, **expect)
            if result is not None and not name.endswith(BACKUP_SUFFIX):
                bad_live[name] = result
                continue
            recoverable = True
        else:
            continue
        if result is not None:
            problems.append(Problem(str(path), result[0], result[1], recoverable))
    for name, (kind, detail) in bad_live.items():
        backup_ok = (name + BACKUP_SUFFIX) in names and not any(
            p.path == str(folder / (name + BACKUP_SUFFIX)) for p in problems
        )
        problems.append(Problem(str(folder / name), kind, detail, backup_ok))
    return problems
