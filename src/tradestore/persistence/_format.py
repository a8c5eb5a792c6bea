"""The on-disk format: readable JSON with a format name, a version and a checksum.

A file is one JSON object, one record a line::

    {"format":"tradestore","version":1,"kind":"doc","collection":"stock_state","doc":"0a3","seq":42,
    "payload":{
    "AAPL":{...},
    "MSFT":{...}
    },
    "checksum":"<blake2b-128 hex of every byte before this line>"}

The checksum covers the header too, so a flipped digit in ``seq`` or a file
copied from another collection or document is caught, as are truncation and
zero-filling. Records are decoded with their msgspec type, which validates them.
Spaces after the checksum line are padding (see :func:`pad_to`).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from typing import Any, Generic, TypeVar

import msgspec

from tradestore.models._base import trusted_decode

__all__ = [
    "FORMAT",
    "VERSION",
    "DamagedFileError",
    "Decoded",
    "NewerFormatError",
    "decode_file",
    "encode_file",
    "pad_blocks",
    "pad_to",
    "peek_header",
]

FORMAT = "tradestore"
VERSION = 1
BLOCK = 4096

_TAIL_PREFIX = b'"checksum":"'
_TAIL_LEN = len(_TAIL_PREFIX) + 32 + len(b'"}\n')
_HEADER_RE = re.compile(rb'\A\{"format":"([a-z]+)","version":(\d{1,9}),')
_encoder = msgspec.json.Encoder()

P = TypeVar("P")


class DamagedFileError(Exception):
    """A file failed its integrity checks (internal; stores raise StoreCorruptedError)."""


class NewerFormatError(Exception):
    """A file written by a newer format version (internal)."""

    def __init__(self, version: int) -> None:
        super().__init__(f"format version {version} is newer than {VERSION}")
        self.version = version


class Decoded(msgspec.Struct, Generic[P]):
    """A decoded file."""

    format: str
    version: int
    kind: str
    collection: str
    doc: str
    seq: int
    payload: P  # the checksum line is checked on the raw bytes, before decoding


def _digest(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=16).hexdigest().encode()


def encode_file(  # noqa: PLR0913  the header's fields, then the payload
    kind: str, collection: str, doc: str, seq: int, records: dict[str, Any], *, lines: bool
) -> bytes:
    """Encode ``records`` (a mapping of key to record) as one checksummed file."""
    header = _encoder.encode(
        {"format": FORMAT, "version": VERSION, "kind": kind, "collection": collection,
         "doc": doc, "seq": seq}
    )
    if lines and records:
        encode = _encoder.encode
        body_lines = [encode(k) + b":" + encode(v) for k, v in records.items()]
        payload = b"{\n" + b",\n".join(body_lines) + b"\n}"
    else:
        payload = _encoder.encode(records)
    body = header[:-1] + b',\n"payload":' + payload + b",\n"
    return body + _TAIL_PREFIX + _digest(body) + b'"}\n'


def pad_blocks(data: bytes) -> bytes:
    """``data`` padded with spaces to whole 4 KiB blocks.

    The file takes the same room on disk, and once it is a spare a later
    version of about the same size fits in it without growing it.
    """
    return pad_to(data, -(-len(data) // BLOCK) * BLOCK)


def pad_to(data: bytes, size: int) -> bytes:
    """``data`` followed by spaces up to ``size`` bytes (if it is shorter).

    A file rewritten in place over a longer one keeps its length this way, so
    the rewrite changes no metadata; :func:`decode_file` ignores the padding.
    """
    if len(data) >= size:
        return data
    return data + b" " * (size - len(data))


def peek_header(data: bytes) -> tuple[str, int] | None:
    """The (format, version) a file claims, or None when it has no recognisable header."""
    match = _HEADER_RE.match(data)
    if match is None:
        return None
    return match.group(1).decode(), int(match.group(2))


def decode_file(  # noqa: PLR0913  what the header must say, each optional, by keyword
    data: bytes, decoder: msgspec.json.Decoder[Decoded[P]], *, kind: str, collection: str,
    doc: str | None = None, seq: int | None = None, trusted: bool = True,
) -> Decoded[P]:
    """Check and decode a file, raising DamagedFileError or NewerFormatError.

    Once the checksum matches, the records are what tradestore wrote from
    validated models: with ``trusted`` (the default) msgspec checks their
    types but the models' own ``validate()`` is not run again on each.
    """
    header = peek_header(data)
    if header is not None and header[0] == FORMAT and header[1] > VERSION:
        raise NewerFormatError(header[1])
    if header is None or header[0] != FORMAT:
        raise DamagedFileError("no tradestore header (empty, truncated or foreign file)")
    if data.endswith(b" "):
        data = data.rstrip(b" ")  # the padding of a file rewritten in place
    if len(data) < _TAIL_LEN or not data.endswith(b'"}\n'):
        raise DamagedFileError("truncated: the checksum line is missing")
    body, tail = data[:-_TAIL_LEN], data[-_TAIL_LEN:]
    if not tail.startswith(_TAIL_PREFIX) or tail[len(_TAIL_PREFIX):-3] != _digest(body):
        raise DamagedFileError("checksum mismatch")
    try:
        with trusted_decode() if trusted else contextlib.nullcontext():
            decoded = decoder.decode(data)
    except (msgspec.DecodeError, ValueError, TypeError) as exc:
        raise DamagedFileError(f"wrong shape: {exc}") from exc
    if decoded.version != VERSION or decoded.kind != kind or decoded.collection != collection:
        raise DamagedFileError(
            f"belongs elsewhere: {decoded.kind} of {decoded.collection!r}, expected {kind} of "
            f"{collection!r}"
        )
    if doc is not None and decoded.doc != doc:
        raise DamagedFileError(f"belongs to document {decoded.doc!r}, expected {doc!r}")
    if seq is not None and decoded.seq != seq:
        raise DamagedFileError(f"sequence {decoded.seq} does not match its name ({seq})")
    return decoded
