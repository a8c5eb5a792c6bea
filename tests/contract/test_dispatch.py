"""A location picks the backend; the contract is written once and every backend keeps it."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from tradestore import (
    FundamentalStore,
    StockStateStore,
    StrategyLogStore,
    TaskStore,
    ValidationError,
)
from tradestore.contracts import Store
from tradestore.postgres.fundamentals import PgFundamentalStore
from tradestore.postgres.stock_state import PgStockStateStore
from tradestore.postgres.strategy_logs import PgStrategyLogStore
from tradestore.postgres.tasks import PgTaskStore
from tradestore.stores.fundamental_store import FileFundamentalStore
from tradestore.stores.stock_state_store import FileStockStateStore
from tradestore.stores.strategy_log_store import FileStrategyLogStore
from tradestore.stores.task_store import FileTaskStore

PAIRS: list[tuple[Any, type[Store], type[Store]]] = [
    (TaskStore, FileTaskStore, PgTaskStore),
    (StockStateStore, FileStockStateStore, PgStockStateStore),
    (StrategyLogStore, FileStrategyLogStore, PgStrategyLogStore),
    (FundamentalStore, FileFundamentalStore, PgFundamentalStore),
]


@pytest.mark.parametrize(("contract", "file_cls", "pg_cls"), PAIRS)
def test_location_picks_the_backend(contract: Any, file_cls: type, pg_cls: type,
                                    tmp_path: Path) -> None:
    on_files = contract(tmp_path)
    assert type(on_files) is file_cls
    assert isinstance(on_files, contract)
    for url in ("postgresql://u@127.0.0.1:1/db", "postgres://u@127.0.0.1:1/db"):
        on_pg = contract(url)
        assert type(on_pg) is pg_cls
        assert isinstance(on_pg, contract)
    with pytest.raises(ValidationError):
        contract(42)


@pytest.mark.parametrize(("contract", "file_cls", "pg_cls"), PAIRS)
def test_every_backend_implements_every_contract_method_with_its_signature(
    contract: Any, file_cls: type, pg_cls: type
) -> None:
    methods = sorted(contract._contract_methods)
    assert {"initialize", "close", "verify", "repair"} <= set(methods)
    for backend in (file_cls, pg_cls):
        for name in methods:
            impl = getattr(backend, name)
            stub = getattr(contract, name)
            assert impl is not stub, f"{backend.__name__}.{name} is not implemented"
            if name.startswith("__"):
                continue
            assert list(inspect.signature(impl).parameters) == list(
                inspect.signature(stub).parameters), f"{backend.__name__}.{name}"


def test_contract_methods_carry_the_docs_and_backends_do_not_repeat_them() -> None:
    for contract, file_cls, pg_cls in PAIRS:
        for name in contract._contract_methods - set(dir(Store)) - {"__aenter__", "__aexit__"}:
            assert getattr(contract, name).__doc__, f"{contract.__name__}.{name}"
            for backend in (file_cls, pg_cls):
                assert name not in vars(backend) or vars(backend)[name].__doc__ is None, (
                    f"{backend.__name__}.{name} repeats the contract's docstring")


def test_a_backend_missing_a_method_is_refused_when_defined() -> None:
    with pytest.raises(TypeError, match=r"does not implement \['save'\]"):
        class Incomplete(PgTaskStore):  # pragma: no cover - never instantiated
            save = TaskStore.save


async def test_a_subclass_of_the_contract_wraps_either_backend(tmp_path: Path,
                                                               pg_dsn: str) -> None:
    calls: list[str] = []

    class Audited(TaskStore):
        async def delete(self, task_id: str) -> bool:
            calls.append(task_id)
            return await super().delete(task_id)

    for location in (str(tmp_path), pg_dsn):
        async with Audited(location) as store:
            assert isinstance(store, Audited)
            assert isinstance(store, TaskStore)
            assert await store.delete("x") is False
    assert calls == ["x", "x"]
