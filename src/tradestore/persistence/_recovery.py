"""Recovery at open: leftover temp files, damaged files, the previous good version.

A damaged file is never deleted: it is moved into ``quarantine/`` beside it
(only by a writer; a read-only open changes nothing). A file claiming a newer
format version is refused and left untouched.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import msgspec

from tradestore.errors import StoreCorruptedError, StoreIOError
from tradestore.persistence._applog import is_log_name, log_tops, read_logs
from tradestore.persistence._format import (
    DamagedFileError,
    Decoded,
    NewerFormatError,
    decode_file,
)
from tradestore.persistence._fs import FileSystem, is_spare_name, is_temp_name, make_folder
from tradestore.persistence._naming import (
    BACKUP_SUFFIX,
    CHECKPOINT_NAME,
    DOC_PREFIX,
    decode_doc_name,
    journal_file_name,
    parse_journal_name,
)

__all__ = [
    "MARKER_DECODER",
    "QUARANTINE",
    "FolderScan",
    "journal_names_in",
    "quarantine",
    "read_doc",
    "scan_folder",
    "set_aside_bad_backup",
]

_log = logging.getLogger(__name__)
QUARANTINE = "quarantine"
MARKER_DECODER: msgspec.json.Decoder[Decoded[dict[str, Any]]] = msgspec.json.Decoder(
    Decoded[dict[str, Any]]
)


class FolderScan(msgspec.Struct):
    """What a collection folder holds."""

    doc_files: dict[str, str]
    journals: list[tuple[int, str, dict[str, dict[str, Any]]]]  # (seq, file name, changes)
    checkpoint_seq: int | None
    spares: list[str]
    journal_names: frozenset[str] = frozenset()  # every journal file listed
    logs: list[str] = msgspec.field(default_factory=list)  # the append logs listed
    # Journals a read-only open could not decode. Beside a live writer that is
    # usually not damage but a torn read: the writer renamed the journal away
    # (a checkpoint made it a spare) and is rewriting that inode in place while
    # we read it. The open starts over rather than serve a state without it.
    unreadable: list[str] = msgspec.field(default_factory=list)


def quarantine(fs: FileSystem, folder: Path, name: str, reason: str) -> str:
    """Move a damaged file aside (never delete it); returns where it went."""
    qdir = folder / QUARANTINE
    make_folder(fs, qdir)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    for n in range(1000):
        dest = qdir / f"{name}.{stamp}.{n}"
        if not fs.exists(dest):
            break
    fs.replace(folder / name, dest)
    fs.fsync_dir(qdir)  # the moved bytes' new entry, then their old one's removal
    fs.fsync_dir(folder)
    _log.error("damaged file %s moved to %s: %s", folder / name, dest, reason)
    return str(dest)


def _corrupted(path: Path, reason: str) -> StoreCorruptedError:
    return StoreCorruptedError(f"{path} is damaged and no good version is left: {reason}",
                               path=str(path))


def _newer(path: Path, exc: NewerFormatError) -> StoreCorruptedError:
    return StoreCorruptedError(
        f"{path} was written by a newer tradestore ({exc}); upgrade to read it",
        path=str(path), metadata={"version": exc.version},
    )


def _read(fs: FileSystem, path: Path) -> bytes:
    try:
        return fs.read(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno in (40, 21):  # ELOOP (a symlink), EISDIR: not a file we wrote
            raise DamagedFileError(f"not a regular file: {exc}") from exc
        raise StoreIOError.from_os_error(f"reading {path}", exc) from exc


def scan_folder(  # noqa: PLR0912  one branch per kind of file a folder holds
    fs: FileSystem,
    folder: Path,
    collection: str,
    journal_decoder: msgspec.json.Decoder[Decoded[dict[str, Any]]],
    read_only: bool,
) -> FolderScan:
    """List documents and spares, remove other temp leftovers, read the marker and journals."""
    try:
        names = fs.listdir(folder)
    except OSError as exc:
        raise StoreIOError.from_os_error(f"listing {folder}", exc) from exc
    result = FolderScan(doc_files={}, journals=[], checkpoint_seq=None, spares=[])
    journal_names: list[tuple[int, str]] = []
    for name in names:
        try:
            if is_spare_name(name):
                result.spares.append(name)  # kept for reuse, see _spares.py
            elif is_temp_name(name):
                if not read_only:
                    fs.unlink(folder / name)
                    _log.info("removed leftover temporary file %s", folder / name)
            elif (parsed := parse_journal_name(name)) is not None:
                journal_names.append((parsed[0], name))
            elif is_log_name(name):
                result.logs.append(name)
            elif name.startswith(DOC_PREFIX) and name.endswith(".json"):
                doc = decode_doc_name(name)
                if doc is None:
                    doc = _doc_id_from_file(fs, folder, name, collection)
                if doc is not None:
                    result.doc_files[doc] = name
                elif not read_only:
                    quarantine(fs, folder, name, "unreadable header")
            elif name.startswith(DOC_PREFIX) and name.endswith(".json" + BACKUP_SUFFIX):
                doc = decode_doc_name(name[: -len(BACKUP_SUFFIX)])
                if doc is not None:
                    result.doc_files.setdefault(doc, name[: -len(BACKUP_SUFFIX)])
        except OSError as exc:
            raise StoreIOError.from_os_error(f"recovering {folder / name}", exc) from exc
    result.checkpoint_seq = _read_marker(fs, folder, collection, read_only)
    result.journal_names = frozenset(name for _, name in journal_names)
    result.journals = _read_journals(fs, folder, collection, sorted(journal_names),
                                     journal_decoder, read_only=read_only,
                                     unreadable=result.unreadable)
    if result.logs:  # either journal mode reads both kinds: a folder may switch modes
        result.logs.sort()
        result.journals = sorted(
            result.journals + read_logs(fs, folder, collection, result.logs,
                                        journal_decoder, read_only=read_only),
            key=lambda entry: entry[0],
        )
        result.journal_names |= {f"{name}#{n}" for name, n in log_tops(result.journals).items()}
    return result


def _read_journals(  # noqa: PLR0913  the folder's journals and how to read them
    fs: FileSystem, folder: Path, collection: str, names: list[tuple[int, str]],
    decoder: msgspec.json.Decoder[Decoded[dict[str, Any]]], *, read_only: bool,
    unreadable: list[str],
) -> list[tuple[int, str, dict[str, dict[str, Any]]]]:
    """Decode the journals in sequence order.

    A damaged journal that was synced is damage: quarantined (a writer); a
    reader lists it in ``unreadable`` (beside a live writer it is most likely a
    torn read of a journal being recycled, and the open starts over). A
    damaged *unsynced* one (``durable=False``) is the tail a power cut tore: it
    and every later unsynced journal are dropped (a writer removes them), so the
    store holds a prefix of its commits.
    """
    out: list[tuple[int, str, dict[str, dict[str, Any]]]] = []
    torn: str | None = None
    for seq, name in names:
        path = folder / name
        synced = name == journal_file_name(seq)
        try:
            if torn is not None and not synced:
                raise DamagedFileError(f"after the torn journal {torn}")
            decoded = decode_file(_read(fs, path), decoder, kind="journal",
                                  collection=collection, seq=seq)
        except NewerFormatError as exc:
            raise _newer(path, exc) from exc
        except DamagedFileError as exc:
            if read_only and torn is None:
                unreadable.append(name)  # the caller retries before taking it as damage
            if not synced:
                torn = torn or name
                _log.warning("dropping unsynced journal %s, cut short by a power loss: %s",
                             path, exc)
                if not read_only:
                    fs.unlink(path)
            elif not read_only:
                quarantine(fs, folder, name, str(exc))
            else:
                _log.debug("journal %s unreadable in a read-only open: %s", path, exc)
            continue
        out.append((seq, name, decoded.payload))
    return out


def journal_names_in(fs: FileSystem, folder: Path, collection: str,
                     decoder: msgspec.json.Decoder[Decoded[dict[str, Any]]]) -> frozenset[str]:
    """The journal files ``folder`` holds now (every commit and checkpoint changes the set).

    An append log is listed with its newest record (``name#seq``): appends keep its name.
    """
    names = fs.listdir(folder)
    found = {n for n in names if parse_journal_name(n) is not None}
    logs = read_logs(fs, folder, collection, sorted(n for n in names if is_log_name(n)),
                     decoder, read_only=True)
    found.update(f"{name}#{n}" for name, n in log_tops(logs).items())
    return frozenset(found)


def _doc_id_from_file(fs: FileSystem, folder: Path, name: str, collection: str) -> str | None:
    try:
        decoded = decode_file(_read(fs, folder / name), MARKER_DECODER, kind="doc",
                              collection=collection)
    except (DamagedFileError, NewerFormatError, FileNotFoundError):
        return None
    return decoded.doc


def _read_marker(fs: FileSystem, folder: Path, collection: str, read_only: bool) -> int | None:
    """The sequence number of the last checkpoint, from the marker or its backup."""
    for name in (CHECKPOINT_NAME, CHECKPOINT_NAME + BACKUP_SUFFIX):
        path = folder / name
        try:
            return decode_file(_read(fs, path), MARKER_DECODER, kind="checkpoint",
                               collection=collection).seq
        except FileNotFoundError:
            continue
        except NewerFormatError as exc:
            raise _newer(path, exc) from exc
        except DamagedFileError as exc:
            if not read_only:
                quarantine(fs, folder, name, str(exc))
    return None


def read_doc(  # noqa: PLR0913  the document's identity and how to read it, by keyword
    fs: FileSystem,
    folder: Path,
    name: str,
    *,
    collection: str,
    doc: str,
    decoder: msgspec.json.Decoder[Decoded[dict[str, Any]]],
    read_only: bool,
    salvage: bool = False,
) -> tuple[dict[str, Any], int, bool]:
    """Read a document: (records, sequence number, whether the backup had to be used).

    Damaged files are moved aside only once a good version replaces them (or
    with ``salvage``, an explicit repair); otherwise they stay in place and
    :class:`StoreCorruptedError` is raised, at this open and every later one.
    """
    live = folder / name
    damaged: list[tuple[Path, str]] = []
    found: Decoded[dict[str, Any]] | None = None
    used_backup = False
    for path in (live, folder / (name + BACKUP_SUFFIX)):
        try:
            found = decode_file(_read(fs, path), decoder, kind="doc", collection=collection,
                                doc=doc)
        except FileNotFoundError:
            continue
        except NewerFormatError as exc:
            raise _newer(path, exc) from exc
        except DamagedFileError as exc:
            damaged.append((path, str(exc)))
            continue
        used_backup = path != live
        break
    if damaged and found is None and not salvage:
        raise _corrupted(live, "; ".join(f"{p.name}: {why}" for p, why in damaged))
    if not read_only:
        for path, why in damaged:
            try:
                quarantine(fs, folder, path.name, why)
            except OSError as exc:
                raise StoreIOError.from_os_error(f"quarantining {path}", exc) from exc
    if found is None:
        return {}, 0, bool(damaged)
    return found.payload, found.seq, used_backup or bool(damaged)


_raw_decoder: msgspec.json.Decoder[Decoded[msgspec.Raw]] = msgspec.json.Decoder(
    Decoded[msgspec.Raw]
)


def set_aside_bad_backup(  # noqa: PLR0913  the file and what its header must say
    fs: FileSystem, folder: Path, name: str, *, collection: str, doc: str, kind: str = "doc",
) -> None:
    """Quarantine ``name`` (a backup about to be replaced) if it is damaged or foreign.

    A rotation would otherwise overwrite it: damaged bytes are never deleted, and a
    file of a newer format version is moved aside whole rather than destroyed.
    Only the header and checksum are checked; the records are not decoded.
    """
    try:
        decode_file(_read(fs, folder / name), _raw_decoder, kind=kind, collection=collection,
                    doc=doc)
    except FileNotFoundError:
        return
    except NewerFormatError as exc:
        quarantine(fs, folder, name, str(exc))
    except DamagedFileError as exc:
        quarantine(fs, folder, name, str(exc))
