"""The durable-file layer every store is built on (stores never touch files themselves)."""

from tradestore.persistence._applog import JOURNAL_MODES
from tradestore.persistence._collection import Collection, Txn
from tradestore.persistence._format import FORMAT, VERSION
from tradestore.persistence._fs import FileSystem, is_spare_name, is_temp_name, run_io
from tradestore.persistence._lock import WriterLock
from tradestore.persistence._replace import replace_keeping_backup, write_new
from tradestore.persistence._store import BaseStore, Clock
from tradestore.persistence._verify import Problem, RepairReport

__all__ = [
    "FORMAT",
    "JOURNAL_MODES",
    "VERSION",
    "BaseStore",
    "Clock",
    "Collection",
    "FileSystem",
    "Problem",
    "RepairReport",
    "Txn",
    "WriterLock",
    "is_spare_name",
    "is_temp_name",
    "replace_keeping_backup",
    "run_io",
    "write_new",
]
