"""The checksummed file format and the file-name encoding."""

from __future__ import annotations

import string

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.persistence.toy import Counter
from tradestore.persistence._format import (
    DamagedFileError,
    Decoded,
    NewerFormatError,
    decode_file,
    encode_file,
)
from tradestore.persistence._naming import decode_doc_name, doc_file_name

DECODER: msgspec.json.Decoder[Decoded[dict[str, Counter]]] = msgspec.json.Decoder(
    Decoded[dict[str, Counter]]
)


def _file(**kw: object) -> bytes:
    records = {"a": Counter("a", 1), "b": Counter("b", 2, "é\n\"x")}
    return encode_file("doc", "counters", "p1", 7, records, lines=True)


def test_round_trip_and_readable_json() -> None:
    data = _file()
    decoded = decode_file(data, DECODER, kind="doc", collection="counters", doc="p1", seq=7)
    assert decoded.payload == {"a": Counter("a", 1), "b": Counter("b", 2, "é\n\"x")}
    plain = msgspec.json.decode(data)
    assert plain["format"] == "tradestore"
    assert plain["version"] == 1
    assert plain["payload"]["a"] == {"name": "a", "value": 1, "note": ""}
    assert data.count(b"\n") >= 4  # one record a line


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: b"",
        lambda d: d[: len(d) // 2],
        lambda d: d[:-1],
        lambda d: b"\0" * len(d),
        lambda d: d.replace(b'"value":1', b'"value":2'),  # still valid JSON
        lambda d: d.replace(b'"seq":7', b'"seq":8'),
        lambda d: d.replace(b"{", b"[", 2),
        lambda d: b"not json at all",
    ],
    ids=["empty", "half", "last-byte", "zeros", "value-flip", "seq-flip", "bad-json", "garbage"],
)
def test_damage_is_detected(damage: object) -> None:
    assert callable(damage)
    with pytest.raises(DamagedFileError):
        decode_file(damage(_file()), DECODER, kind="doc", collection="counters", doc="p1", seq=7)


def test_every_single_bit_flip_is_detected() -> None:
    data = _file()
    for i in range(0, len(data), 3):
        flipped = bytearray(data)
        flipped[i] ^= 0x10
        try:
            decode_file(bytes(flipped), DECODER, kind="doc", collection="counters", doc="p1",
                        seq=7)
        except (DamagedFileError, NewerFormatError):
            continue
        pytest.fail(f"bit flip at byte {i} went unnoticed")


def test_wrong_shape_with_valid_checksum_is_damage() -> None:
    bad = encode_file("doc", "counters", "p1", 7, {"a": {"name": "a", "value": -5}}, lines=True)
    with pytest.raises(DamagedFileError, match="wrong shape"):
        decode_file(bad, DECODER, kind="doc", collection="counters", doc="p1", seq=7)


def test_file_of_another_collection_or_document_is_damage() -> None:
    other = encode_file("doc", "tasks", "p1", 7, {}, lines=True)
    with pytest.raises(DamagedFileError, match="belongs"):
        decode_file(other, DECODER, kind="doc", collection="counters", doc="p1")
    with pytest.raises(DamagedFileError, match="belongs"):
        decode_file(_file(), DECODER, kind="doc", collection="counters", doc="p2")


def test_newer_version_is_refused() -> None:
    newer = _file().replace(b'"version":1', b'"version":2', 1)
    with pytest.raises(NewerFormatError):
        decode_file(newer, DECODER, kind="doc", collection="counters")


@given(st.text(min_size=0, max_size=300))
def test_doc_names_never_escape_and_round_trip(doc: str) -> None:
    name = doc_file_name(doc)
    assert "/" not in name
    assert "\0" not in name
    assert not name.startswith(".")
    assert len(name.encode()) <= 255
    assert set(name[4:-5]) <= set(string.ascii_letters + string.digits + "_-~")
    decoded = decode_doc_name(name)
    assert decoded is None or decoded == doc
    if "~~" not in name:  # not cut to fit: the name decodes back to the id
        assert decoded == doc


def test_distinct_docs_get_distinct_names() -> None:
    ids = ["a/b", "a~2fb", "a.b", "A/B", "..", "../../x", "", "x" * 300, "x" * 301]
    assert len({doc_file_name(i) for i in ids}) == len(ids)


def _state_file(fetch_count: int) -> bytes:
    """A correctly checksummed stock-state document holding one record."""
    record = {"symbol": "AAPL", "fetch_count": fetch_count}
    return encode_file("doc", "stock_state", "d", 1, {"AAPL": record}, lines=True)


def test_checksummed_records_skip_revalidation_but_strict_decoding_and_models_do_not() -> None:
    from tradestore import StockSchedulerState
    from tradestore.errors import ValidationError

    decoder = msgspec.json.Decoder(Decoded[dict[str, StockSchedulerState]])
    good = decode_file(_state_file(3), decoder, kind="doc", collection="stock_state")
    assert good.payload["AAPL"].fetch_count == 3
    # Bytes tradestore wrote were validated before writing; a record that breaks a
    # model rule can only come from outside, which a strict decode (verify) refuses.
    with pytest.raises(DamagedFileError, match="fetch_count"):
        decode_file(_state_file(-1), decoder, kind="doc", collection="stock_state",
                    trusted=False)
    # Types are checked either way.
    typed = encode_file("doc", "stock_state", "d", 1, {"AAPL": {"symbol": 5}}, lines=True)
    with pytest.raises(DamagedFileError):
        decode_file(typed, decoder, kind="doc", collection="stock_state")
    # The trust ends with the decode, even a failed one: models built after it validate.
    with pytest.raises(ValidationError):
        StockSchedulerState(symbol="AAPL", fetch_count=-1)
