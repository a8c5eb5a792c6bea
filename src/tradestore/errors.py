"""The error hierarchy of tradestore.

Every failure a store method can meet surfaces as one of these; the original
exception (an ``OSError``, a decode error) is chained as ``__cause__``::

    Exception
     └── TradingError                category, severity, code, recoverable, retry_after, metadata
          ├── StoreError             RESOURCE: the store could not do what was asked
          │    ├── StoreIOError      an OSError (disk full, permission denied, ...)
          │    │    └── CommitInDoubtError  it failed after the change reached its file
          │    ├── StoreCorruptedError  a damaged file with no good version left (CRITICAL)
          │    ├── StoreLockedError  another process holds the store for writing
          │    └── StoreClosedError  the store was closed
          ├── ValidationError        VALIDATION: bad input (also a ValueError)
          └── NotFoundError          an update addressed a missing key (also a LookupError)
"""

from __future__ import annotations

import errno
import math
from enum import StrEnum
from typing import Any

__all__ = [
    "CommitInDoubtError",
    "ErrorCategory",
    "ErrorSeverity",
    "NotFoundError",
    "StoreClosedError",
    "StoreCorruptedError",
    "StoreError",
    "StoreIOError",
    "StoreLockedError",
    "TradingError",
    "ValidationError",
]


class ErrorCategory(StrEnum):
    """What kind of failure an error is."""

    TRADING = "trading"
    MARKET_DATA = "market_data"
    API = "api"
    VALIDATION = "validation"
    RESOURCE = "resource"
    CONFIGURATION = "configuration"
    SYSTEM = "system"


class ErrorSeverity(StrEnum):
    """How bad an error is for the caller."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


def _json_safe(value: Any) -> Any:
    """Return ``value`` as plain JSON data (unknown objects become their ``repr``)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    return repr(value)


class TradingError(Exception):
    """Base of every tradestore error, with structured fields for callers and logs."""

    def __init__(
        self,
        message: str,
        *,
        category: ErrorCategory,
        severity: ErrorSeverity,
        code: str,
        recoverable: bool = False,
        retry_after: float | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.category = ErrorCategory(category)
        self.severity = ErrorSeverity(severity)
        self.code = code
        self.recoverable = recoverable
        self.retry_after = retry_after
        self.metadata: dict[str, Any] = dict(metadata or {})

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors do not pickle by default; rebuild from the fields.
        return (_rebuild, (type(self), self.__dict__.copy()))

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON-safe data, without traceback."""
        return {
            "type": type(self).__name__,
            "message": self.message,
            "category": str(self.category),
            "severity": str(self.severity),
            "code": self.code,
            "recoverable": self.recoverable,
            "retry_after": _json_safe(self.retry_after),
            "metadata": _json_safe(self.metadata),
        }


def _rebuild(cls: type[TradingError], state: dict[str, Any]) -> TradingError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class StoreError(TradingError):
    """The store could not do what was asked (category RESOURCE)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "store_error",
        severity: ErrorSeverity = ErrorSeverity.HIGH,
        recoverable: bool = False,
        retry_after: float | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            message,
            category=ErrorCategory.RESOURCE,
            severity=severity,
            code=code,
            recoverable=recoverable,
            retry_after=retry_after,
            metadata=metadata,
        )


_RECOVERABLE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EAGAIN, errno.EINTR, errno.EBUSY, errno.EDQUOT, errno.ENOMEM}
)


class StoreIOError(StoreError):
    """An operating-system error while reading or writing the store's files."""

    def __init__(
        self,
        message: str,
        *,
        os_error: OSError | None = None,
        code: str = "store_io_error",
        recoverable: bool | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        err_no = os_error.errno if os_error is not None else None
        if recoverable is None:
            recoverable = err_no in _RECOVERABLE_ERRNOS
        meta = dict(metadata or {})
        if os_error is not None:
            meta.setdefault("errno", err_no)
            meta.setdefault("strerror", os_error.strerror)
            if os_error.filename is not None:
                meta.setdefault("filename", str(os_error.filename))
        super().__init__(
            message,
            code=code,
            recoverable=recoverable,
            retry_after=1.0 if recoverable else None,
            metadata=meta,
        )

    @classmethod
    def from_os_error(cls, action: str, exc: OSError) -> StoreIOError:
        """Wrap ``exc``; the caller chains it with ``raise ... from exc``."""
        return cls(f"{action} failed: {exc}", os_error=exc)


class CommitInDoubtError(StoreIOError):
    """A write failed after its new file took the live name, and could not be withdrawn.

    The change is on disk (it will be read back at the next open) but is not
    known durable: a power cut now may still lose it. The store keeps the change
    in its cache, so the cache equals the disk; the caller should treat the call
    as probably done and not simply retry an increment. ``metadata["in_doubt"]``
    is ``True``, for callers that only look at the error's data.
    """

    def __init__(
        self,
        message: str,
        *,
        os_error: OSError | None = None,
        code: str = "commit_in_doubt",
        recoverable: bool | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, os_error=os_error, code=code, recoverable=recoverable,
                         metadata={**(metadata or {}), "in_doubt": True})


class StoreCorruptedError(StoreError):
    """A file is damaged and no good version of it is left, or it has an unknown format."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        meta = dict(metadata or {})
        if path is not None:
            meta.setdefault("path", path)
        super().__init__(
            message, code="store_corrupted", severity=ErrorSeverity.CRITICAL, metadata=meta
        )

    @property
    def path(self) -> str | None:
        """The damaged file."""
        value = self.metadata.get("path")
        return value if isinstance(value, str) else None


class StoreLockedError(StoreError):
    """Another process holds this store folder for writing."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(
            message,
            code="store_locked",
            severity=ErrorSeverity.MEDIUM,
            recoverable=True,
            retry_after=1.0,
            metadata={"path": path} if path is not None else None,
        )


class StoreClosedError(StoreError):
    """The store was closed; open a new one."""

    def __init__(self, message: str = "the store is closed") -> None:
        super().__init__(message, code="store_closed", severity=ErrorSeverity.MEDIUM)


class ValidationError(TradingError, ValueError):
    """Bad input: nothing was written."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str = "validation_error",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        meta = dict(metadata or {})
        if field is not None:
            meta.setdefault("field", field)
        super().__init__(
            message,
            category=ErrorCategory.VALIDATION,
            severity=ErrorSeverity.LOW,
            code=code,
            metadata=meta,
        )

    @property
    def field(self) -> str | None:
        """The offending field, when known."""
        value = self.metadata.get("field")
        return value if isinstance(value, str) else None


class NotFoundError(TradingError, LookupError):
    """An update addressed a key the store does not hold."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(
            message,
            category=ErrorCategory.VALIDATION,
            severity=ErrorSeverity.LOW,
            code="not_found",
            metadata={"key": key} if key is not None else None,
        )

    @property
    def key(self) -> str | None:
        """The missing key."""
        value = self.metadata.get("key")
        return value if isinstance(value, str) else None
