"""The durable-file layer every store is built on (stores never touch files themselves)."""

from tradestore.persistence._applog import JOURNAL_MODES
from tradestore.persistence._format import FORMAT, VERSION
from tradestore.persistence._store import BaseStore, Clock
from tradestore.persistence._verify import Problem, RepairReport

__all__ = [
    "FORMAT",
    "JOURNAL_MODES",
    "VERSION",
    "BaseStore",
    "Clock",
    "Problem",
    "RepairReport",
]
