"""The durable-file layer every store is built on (stores never touch files themselves)."""

from tradestore.persistence._collection import Collection, Txn
from tradestore.persistence._format import FORMAT, VERSION
from tradestore.persistence._fs import (
    FileSystem,
    durable_replace,
    is_spare_name,
    is_temp_name,
    run_io,
)
from tradestore.persistence._lock import LockOwner, WriterLock, read_lock_owner
from tradestore.persistence._observe import StoreObserver, add_observer, remove_observer
from tradestore.persistence._store import BaseStore, Clock
from tradestore.persistence._verify import Problem, RepairReport

__all__ = [
    "FORMAT",
    "VERSION",
    "BaseStore",
    "Clock",
    "Collection",
    "FileSystem",
    "LockOwner",
    "Problem",
    "RepairReport",
    "StoreObserver",
    "Txn",
    "WriterLock",
    "add_observer",
    "durable_replace",
    "is_spare_name",
    "is_temp_name",
    "read_lock_owner",
    "remove_observer",
    "run_io",
]
