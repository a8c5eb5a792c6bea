"""Driver errors as tradestore errors: never a bare psycopg exception out of a store.

- no connection (refused, unknown host, server gone, pool timeout, too many
  connections, server starting or shutting down): ``StoreIOError``,
  ``recoverable=True`` (a retry after the server is back succeeds);
- failed login, missing database, insufficient privilege: ``StoreIOError``,
  not recoverable (a retry cannot help until the configuration changes);
- the connection lost while a COMMIT was in flight: ``StoreIOError`` with
  ``metadata["in_doubt"] = True``, as the file backend flags a write whose
  outcome it cannot know (the change may or may not be stored);
- a row refused by a constraint: ``StoreError`` (validation runs first, so
  this means the database holds rules this version does not check).

The driver's exception is always chained as ``__cause__``.
"""

from __future__ import annotations

import psycopg
import psycopg_pool

from tradestore.errors import StoreError, StoreIOError

__all__ = ["wrap_error"]

_RETRYABLE_STATES = frozenset({
    "53300",  # too_many_connections
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available
})


def wrap_error(exc: Exception, action: str, *, in_commit: bool = False) -> StoreError:
    """The tradestore error for driver error ``exc`` raised while doing ``action``.

    The caller raises it ``from exc``.
    """
    state = getattr(exc, "sqlstate", None)
    meta: dict[str, object] = {"driver_error": type(exc).__name__}
    if state:
        meta["sqlstate"] = state
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return StoreIOError(f"{action} failed: no database connection available ({exc})",
                            recoverable=True, metadata=meta, code="store_unavailable")
    if isinstance(exc, psycopg.errors.IntegrityError | psycopg.errors.DataError):
        return StoreError(f"{action} failed: the database refused the values ({exc})",
                          code="store_rejected", metadata=meta)
    lost = (isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
            and (state is None or state.startswith("08") or state in _RETRYABLE_STATES))
    if in_commit and lost:
        meta["in_doubt"] = True
        return StoreIOError(f"{action}: the connection was lost during COMMIT; the change "
                            f"may or may not be stored ({exc})", recoverable=True,
                            metadata=meta, code="store_in_doubt")
    text = str(exc)
    if (state in ("28P01", "28000", "3D000", "42501")
            or "password authentication failed" in text or "does not exist" in text):
        return StoreIOError(f"{action} failed: {text}", recoverable=False, metadata=meta,
                            code="store_connect_failed")
    if lost or (state is not None and state in _RETRYABLE_STATES):
        return StoreIOError(f"{action} failed: {text}", recoverable=True, metadata=meta,
                            code="store_unavailable")
    return StoreIOError(f"{action} failed: {text}", recoverable=False, metadata=meta)
