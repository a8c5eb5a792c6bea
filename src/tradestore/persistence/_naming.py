"""File names for documents: a reversible encoding no key can turn into a path.

Only ASCII letters, digits, ``_`` and ``-`` pass through; every other byte of
the UTF-8 key becomes ``~xx``. The result never holds ``/``, ``.`` or a NUL,
never starts with a dot, and is never empty. Keys too long for a file name are
cut and suffixed with a hash of the whole key (the header inside the file still
names the document in full).
"""

from __future__ import annotations

import hashlib
import re
import string

__all__ = [
    "BACKUP_SUFFIX",
    "CHECKPOINT_NAME",
    "DOC_PREFIX",
    "JOURNAL_PREFIX",
    "decode_doc_name",
    "doc_file_name",
    "journal_file_name",
    "parse_journal_name",
]

DOC_PREFIX = "doc-"
JOURNAL_PREFIX = "journal-"
CHECKPOINT_NAME = "checkpoint.json"
BACKUP_SUFFIX = ".bak"
_SAFE = frozenset(string.ascii_letters + string.digits + "_-")
_MAX_ENCODED = 160
_JOURNAL_RE = re.compile(r"\Ajournal-(\d{16})(\.unsynced)?\.json\Z")
UNSYNCED = ".unsynced"
_ESCAPE_RE = re.compile(r"~([0-9a-f]{2})")


def _encode(key: str) -> str:
    out: list[str] = []
    for ch in key:
        if ch in _SAFE:
            out.append(ch)
        else:
            out.extend(f"~{b:02x}" for b in ch.encode("utf-8", "surrogatepass"))
    encoded = "".join(out) or "~"
    if len(encoded) > _MAX_ENCODED:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        encoded = encoded[:100] + "~~" + digest
    return encoded


def doc_file_name(doc: str) -> str:
    """The file name of document ``doc``."""
    return f"{DOC_PREFIX}{_encode(doc)}.json"


def decode_doc_name(name: str) -> str | None:
    """The document id a file name encodes, or None (not a document, or a hashed name)."""
    if not name.startswith(DOC_PREFIX) or not name.endswith(".json"):
        return None
    encoded = name[len(DOC_PREFIX):-len(".json")]
    if not encoded or "~~" in encoded or encoded == "~":
        return None if encoded != "~" else ""
    if any(ch not in _SAFE and ch != "~" for ch in encoded):
        return None
    try:
        raw = bytes.fromhex("".join(
            part if i % 2 else part.encode().hex()
            for i, part in enumerate(_ESCAPE_RE.split(encoded))
        ))
        decoded = raw.decode("utf-8")
    except ValueError:
        return None
    return decoded if _encode(decoded) == encoded else None


def journal_file_name(seq: int, *, synced: bool = True) -> str:
    """The file name of journal entry ``seq``.

    A journal written without a sync (``durable=False``) says so in its name,
    ``journal-<seq>.unsynced.json``: after a power cut it may be torn or empty,
    which at open is an expected loss, not damage.
    """
    return f"{JOURNAL_PREFIX}{seq:016d}{'' if synced else UNSYNCED}.json"


def parse_journal_name(name: str) -> tuple[int, bool] | None:
    """(sequence number, whether it was synced) of a journal file name, or None."""
    match = _JOURNAL_RE.match(name)
    return (int(match.group(1)), match.group(2) is None) if match else None
