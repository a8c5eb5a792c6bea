"""What every store promises, on every backend, and how a location picks the backend.

A contract class (``TaskStore``, ``StockStateStore``, ...) holds each method's
signature, docstring and what it raises, once. Calling it builds the backend
the location names: a folder (``str`` or ``os.PathLike``) gives the file
backend, a ``postgresql://`` / ``postgres://`` URL or a
``tradestore.postgres.Database`` gives the PostgreSQL backend. Both backends
subclass the contract, so ``isinstance(TaskStore(url), TaskStore)`` holds, and
a backend class that misses a contract method fails when it is defined.

Errors every method may raise, beyond those its docstring names:

:raises StoreClosedError: the store was closed.
:raises StoreIOError: the disk or the database failed (the cause chained;
    ``recoverable`` when a retry can help; ``metadata["in_doubt"]`` when the
    outcome of a write is unknown).
:raises StoreCorruptedError: stored data is damaged beyond recovery, or was
    written by a newer tradestore.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self, Union

from tradestore.errors import StoreError, ValidationError
from tradestore.models._stamps import Clock

if TYPE_CHECKING:
    from tradestore.persistence import Problem, RepairReport

__all__ = ["Clock", "Location", "Store", "backend_of", "is_postgres_location"]

if TYPE_CHECKING:
    from tradestore.postgres import Database

    Location = str | os.PathLike[str] | Database
else:
    # The PostgreSQL backend (psycopg) is optional at run time: name it by reference.
    Location = Union[str, os.PathLike[str], "Database"]


def is_postgres_location(location: object) -> bool:
    """Whether ``location`` names the PostgreSQL backend (a URL or a Database)."""
    if isinstance(location, str):
        return location.startswith(("postgresql://", "postgres://"))
    return type(location).__module__.startswith("tradestore.postgres") and \
        type(location).__name__ == "Database"


def backend_of(location: object) -> str:
    """``"postgres"`` or ``"file"``; ValidationError for anything else."""
    if is_postgres_location(location):
        return "postgres"
    if isinstance(location, str | os.PathLike):
        return "file"
    raise ValidationError(
        f"location: expected a folder, a postgresql:// URL or a tradestore.postgres.Database, "
        f"got {type(location).__name__}", field="location")


class Store:
    """The lifecycle every store shares (see docs/reference.md, "Common to every store")."""

    #: kind -> backend -> "module:Class", filled by each contract class.
    backends: ClassVar[dict[str, str]] = {}
    #: Set on backend classes ("file", "postgres"); the contract classes leave it empty.
    backend: ClassVar[str] = ""
    _contract_methods: ClassVar[frozenset[str]] = frozenset()

    durable: bool  #: commits are durable when they return (see docs/backends.md)
    read_only: bool  #: mutations raise StoreError
    exclusive: bool  #: the only writer (always so for a folder; opt-in on PostgreSQL)
    journal: str  #: how a folder's commits are written ("files" or "append"); "files" on PostgreSQL

    def __new__(cls, location: Location, *args: Any, **kwargs: Any) -> Self:
        return cls._dispatch(location)

    @classmethod
    def _dispatch(cls, location: object) -> Self:
        """A new, uninitialised instance of the backend class ``location`` names."""
        if cls.backend:  # a backend class called directly
            return object.__new__(cls)
        target = cls.backends.get(backend_of(location))
        if target is None:
            raise TypeError(f"{cls.__name__} is not a store contract")
        module, _, name = target.partition(":")
        try:
            impl = getattr(importlib.import_module(module), name)
        except ImportError as exc:
            raise StoreError(
                f"the PostgreSQL backend needs psycopg: pip install 'tradestore[postgres]' "
                f"({exc})", code="store_backend_missing") from exc
        if not issubclass(impl, cls):
            impl = _combined(cls, impl)
        instance: Self = object.__new__(impl)
        return instance

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.backend:
            if "backends" in vars(cls):  # a contract (not a user's subclass of one)
                cls._contract_methods = cls._contract_methods | _stubs_of(cls)
            return
        missing = sorted(name for name in cls._contract_methods
                         if _defined_by_contract(cls, name))
        if missing:
            raise TypeError(f"{cls.__name__} ({cls.backend}) does not implement {missing}")

    async def initialize(self) -> None:
        """Open the store; idempotent and safe to call concurrently.

        Any method called first initializes the store, once.

        :raises StoreLockedError: another process writes here (file backend), or holds
            the store with ``exclusive=True`` (PostgreSQL).
        """
        raise NotImplementedError

    async def close(self) -> None:
        """Wait for pending writes and release the store; idempotent.

        After it every method raises ``StoreClosedError``.
        """
        raise NotImplementedError

    async def reload(self) -> None:
        """See the writer's latest commits (a read-only file store reads them again)."""
        raise NotImplementedError

    async def flush(self) -> None:
        """Wait until every pending write is done."""
        raise NotImplementedError

    async def checkpoint(self) -> None:
        """Fold journals into documents now (file backend); failures are logged, not raised."""
        raise NotImplementedError

    async def verify(self) -> list[Problem]:
        """Check all stored data without changing anything; one Problem per damaged item."""
        raise NotImplementedError

    async def repair(self, progress: Callable[[str], None] | None = None) -> RepairReport:
        """Recover what can be recovered, set aside what cannot, and report it.

        :raises StoreLockedError: another process writes here.
        """
        raise NotImplementedError

    def now(self) -> datetime:
        """The store clock's current time (timezone-aware).

        :raises ValidationError: the clock returned a naive datetime.
        """
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        raise NotImplementedError

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        raise NotImplementedError


_STUBS: set[Any] = set()  # the contracts' own method objects (the "not implemented" stubs)


def _stubs_of(contract: type) -> set[str]:
    """Record ``contract``'s public methods as stubs; return their names."""
    names = {name for name, value in vars(contract).items()
             if callable(value) and (not name.startswith("_") or name in ("__aenter__",
                                                                          "__aexit__"))}
    _STUBS.update(vars(contract)[name] for name in names)
    return names


Store._contract_methods = frozenset(_stubs_of(Store))

_COMBINED: dict[tuple[type, type], type] = {}


def _combined(user: type[Store], impl: type[Store]) -> type[Store]:
    """A class with ``user``'s methods over backend ``impl``, for a subclass of a contract.

    A user's ``class AuditedTaskStore(TaskStore)`` that overrides a few methods
    and calls ``super()`` works on either backend: its instances are of
    ``AuditedTaskStore[file]`` or ``AuditedTaskStore[postgres]``, whose ``super()``
    calls reach the backend's implementation.
    """
    key = (user, impl)
    found = _COMBINED.get(key)
    if found is None:
        found = type(f"{user.__name__}[{impl.backend}]", (user, impl),
                     {"__module__": user.__module__, "__qualname__":
                      f"{user.__qualname__}[{impl.backend}]"})
        _COMBINED[key] = found
    return found


def _defined_by_contract(cls: type, name: str) -> bool:
    """Whether ``cls`` gets ``name`` only from a contract class (not implemented)."""
    for klass in cls.__mro__:
        if name in vars(klass):
            return vars(klass)[name] in _STUBS
    return True
