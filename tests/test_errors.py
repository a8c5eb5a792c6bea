"""The error hierarchy: categories, structured fields, JSON export and pickling."""

from __future__ import annotations

import errno
import json
import math
import pickle
from typing import Any

import pytest

import tradestore
from tradestore.errors import (
    ErrorCategory,
    ErrorSeverity,
    NotFoundError,
    StoreClosedError,
    StoreCorruptedError,
    StoreError,
    StoreIOError,
    StoreLockedError,
    TradingError,
    ValidationError,
)


def test_enums_match_the_contract() -> None:
    assert [c.name for c in ErrorCategory] == [
        "TRADING",
        "MARKET_DATA",
        "API",
        "VALIDATION",
        "RESOURCE",
        "CONFIGURATION",
        "SYSTEM",
    ]
    assert [s.name for s in ErrorSeverity] == ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
    for member in [*ErrorCategory, *ErrorSeverity]:
        assert member.value == member.name.lower()


@pytest.mark.parametrize(
    "cls", [StoreIOError, StoreCorruptedError, StoreLockedError, StoreClosedError]
)
def test_store_errors_are_resource_errors(cls: type[StoreError]) -> None:
    assert issubclass(cls, StoreError)
    assert issubclass(cls, TradingError)
    err = cls("boom")
    assert err.category is ErrorCategory.RESOURCE


def test_leaf_errors_also_inherit_the_fitting_builtin() -> None:
    assert issubclass(ValidationError, ValueError)
    assert issubclass(NotFoundError, LookupError)
    assert ValidationError("x").category is ErrorCategory.VALIDATION
    with pytest.raises(LookupError):
        raise NotFoundError("missing", key="t1")
    with pytest.raises(ValueError, match="bad"):
        raise ValidationError("bad", field="symbol")


def test_severities_and_recoverability() -> None:
    assert StoreCorruptedError("x", path="/d/f.json").severity is ErrorSeverity.CRITICAL
    locked = StoreLockedError("held", path="/d")
    assert locked.recoverable is True
    assert locked.retry_after is not None
    assert StoreClosedError().recoverable is False
    assert str(StoreClosedError()) == "the store is closed"


def test_structured_fields() -> None:
    err = TradingError(
        "order refused",
        category=ErrorCategory.TRADING,
        severity=ErrorSeverity.HIGH,
        code="order_refused",
        recoverable=True,
        retry_after=2.5,
        metadata={"symbol": "AAPL"},
    )
    assert (err.message, err.code, err.recoverable, err.retry_after) == (
        "order refused",
        "order_refused",
        True,
        2.5,
    )
    assert err.metadata == {"symbol": "AAPL"}
    assert str(err) == "order refused"
    assert ValidationError("bad", field="symbol").field == "symbol"
    assert NotFoundError("gone", key="t1").key == "t1"
    assert StoreCorruptedError("bad", path="/d/f.json").path == "/d/f.json"


def test_metadata_is_copied() -> None:
    meta = {"a": 1}
    err = ValidationError("x", metadata=meta)
    meta["a"] = 2
    assert err.metadata["a"] == 1


@pytest.mark.parametrize(
    ("err_no", "recoverable"),
    [
        (errno.ENOSPC, True),
        (errno.EAGAIN, True),
        (errno.EINTR, True),
        (errno.EACCES, False),
        (errno.EPERM, False),
        (errno.ENOENT, False),
    ],
)
def test_io_error_recoverability_follows_errno(err_no: int, recoverable: bool) -> None:
    os_error = OSError(err_no, "failure", "/data/tasks.json")
    err = StoreIOError.from_os_error("writing tasks", os_error)
    assert err.recoverable is recoverable
    assert (err.retry_after is not None) is recoverable
    assert err.metadata["errno"] == err_no
    assert err.metadata["filename"] == "/data/tasks.json"
    assert "writing tasks" in err.message


def _write_to_full_disk(os_error: OSError) -> None:
    """Fail the way a store does when the disk is full."""
    try:
        raise os_error
    except OSError as exc:
        raise StoreIOError.from_os_error("write", exc) from exc


def test_io_error_chains_the_os_error() -> None:
    os_error = OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(StoreIOError) as info:
        _write_to_full_disk(os_error)
    assert info.value.__cause__ is os_error


def test_to_dict_is_json_without_traceback() -> None:
    try:
        raise StoreIOError.from_os_error("write", OSError(errno.ENOSPC, "full", "/d/f"))
    except StoreIOError as exc:
        data = exc.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert "Traceback" not in text
    assert data["type"] == "StoreIOError"
    assert data["category"] == "resource"
    assert data["severity"] == "high"
    assert data["code"] == "store_io_error"
    assert data["recoverable"] is True
    assert set(data) == {
        "type",
        "message",
        "category",
        "severity",
        "code",
        "recoverable",
        "retry_after",
        "metadata",
    }


def test_to_dict_makes_odd_metadata_json_safe() -> None:
    metadata: dict[Any, Any] = {"obj": object(), "nan": math.nan, "tuple": (1, 2), 3: "int"}
    err = ValidationError("x", metadata=metadata)
    err.retry_after = math.inf
    json.dumps(err.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    "err",
    [
        ValidationError("bad symbol", field="symbol", code="bad_symbol"),
        NotFoundError("no task", key="t1"),
        StoreIOError.from_os_error("write", OSError(errno.EACCES, "denied", "/d/f")),
        StoreCorruptedError("damaged", path="/d/f.json"),
        StoreLockedError("held", path="/d"),
        StoreClosedError(),
        StoreError("generic", code="x", recoverable=True, retry_after=3.0),
        TradingError(
            "t",
            category=ErrorCategory.API,
            severity=ErrorSeverity.LOW,
            code="api",
            metadata={"n": 1},
        ),
    ],
)
def test_errors_pickle_with_their_fields(err: TradingError) -> None:
    restored = pickle.loads(pickle.dumps(err))
    assert type(restored) is type(err)
    assert restored.to_dict() == err.to_dict()
    assert str(restored) == str(err)
    assert restored.args == err.args


def test_top_level_package_exports_the_errors() -> None:
    for name in (
        "TradingError",
        "ErrorCategory",
        "ErrorSeverity",
        "StoreError",
        "StoreIOError",
        "StoreCorruptedError",
        "StoreLockedError",
        "StoreClosedError",
        "ValidationError",
        "NotFoundError",
    ):
        assert name in tradestore.__all__
        assert getattr(tradestore, name) is getattr(tradestore.errors, name)
