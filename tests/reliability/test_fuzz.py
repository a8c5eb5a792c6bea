"""Bad input: Hypothesis throws arbitrary values at every public method of every store.

Arguments are drawn per parameter from everything (strings with control
characters, NaN, infinities, huge and negative numbers, naive datetimes,
wrong types, oversized payloads) mixed with nearly valid values (a good model
with one field replaced by anything) so validation is reached deep down. The
only outcomes allowed are success and ValidationError (NotFoundError for
``update``), and after a ValidationError the store's folder is byte for byte
what it was, and so is what the store serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import inspect
import math
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradestore import (
    BackgroundTask,
    EarningsReport,
    FundamentalAnalysis,
    FundamentalSnapshot,
    NewsItem,
    NotFoundError,
    StrategyLog,
    TaskPriority,
    ValidationError,
)
from tradestore.persistence import BaseStore

from .adapters import D0, T0, adapter_names, get_adapter
from .figures import count
from .harness import files_under

EXAMPLES = 400
LIFECYCLE = {"initialize", "close", "flush", "reload", "verify", "repair"}

_naive = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30))
_aware = st.datetimes(timezones=st.timezones(), min_value=dt.datetime(1, 1, 2),
                      max_value=dt.datetime(9999, 12, 30))
_numbers = st.one_of(
    st.integers(), st.integers(min_value=2**63 - 2, max_value=2**80), st.integers(max_value=-1),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(
        [math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, -0.0, 2**53 + 1]),
)
_texts = st.one_of(
    st.text(), st.text(st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(["", " ", "../../etc/passwd", "a/b", "\x00", "AAPL\n", "a" * 129,
                     "A" * 33, "CON", ".", "..", "~", "%2e%2e", "\ud800",
                     "\uff21\uff21\uff30\uff2c"]),
    st.integers(0, 3_000_000).map(lambda n: "x" * n),  # oversized payloads
)
_scalars = st.one_of(st.none(), st.booleans(), _numbers, _texts, _naive, _aware, st.dates(),
                     st.timedeltas(), st.binary(max_size=20))
ANYTHING = st.recursive(
    _scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                      st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=8,
)

_SYMBOLS = st.sampled_from(["AAPL", "brk.b", " M&M ", "^NSEI", "EURUSD=X", "BAJAJ-AUTO"])
_IDS = st.sampled_from(["t0", "t1", "task.a:1", "momentum", "mean-rev"])


def _valid_models() -> dict[str, Any]:
    return {
        "task": BackgroundTask(task_id="t0", task_type="health_check",
                               priority=TaskPriority.HIGH,
                               execute_at=T0, interval_seconds=60.0),
        "log": StrategyLog(date=D0, what_worked=["a"], trades_executed=1, wins=1),
        "snapshot": FundamentalSnapshot(symbol="AAPL", as_of=D0, fetched_at=T0, pe_ratio=1.0),
        "report": EarningsReport(symbol="AAPL", fiscal_period="2025Q1", report_date=D0),
        "analysis": FundamentalAnalysis(symbol="AAPL", analyzed_at=T0, recommendation="buy",
                                        confidence=0.5),
        "news": NewsItem(symbol="AAPL", title="t", url="https://example.com/a",
                         published_at=T0),
    }


# Model fields set to a wrong type after construction once made the stores raise
# TypeError/ValueError (clone() before validate(); `[] in frozenset`): kept as a regression.
WRONG_TYPED_FIELDS = [
    ("StrategyLog", "what_worked"), ("StrategyLog", "what_didnt_work"),
    ("StrategyLog", "tomorrows_focus"), ("StrategyLog", "market_observations"),
    ("StrategyLog", "token_usage"), ("FundamentalAnalysis", "recommendation"),
    ("FundamentalAnalysis", "scores"),
]


@st.composite
def _broken_model(draw: st.DrawFn, model: Any) -> Any:
    """A valid model with one field set to anything (models are mutable structs)."""
    clone = model.clone()
    fields = list(msgspec.structs.fields(clone))
    if draw(st.booleans()):
        field = draw(st.sampled_from(fields))
        # A model may refuse on assignment: then it is simply not broken.
        with contextlib.suppress(ValidationError):
            setattr(clone, field.name, draw(ANYTHING))
    return clone


def _plausible(name: str) -> st.SearchStrategy[Any]:
    models = _valid_models()
    table: dict[str, st.SearchStrategy[Any]] = {
        "symbol": _SYMBOLS, "task_id": _IDS, "strategy_type": _IDS,
        "symbols": st.lists(st.one_of(_SYMBOLS, ANYTHING), max_size=4),
        "task": _broken_model(models["task"]),
        "tasks": st.lists(_broken_model(models["task"]), max_size=3),
        "log": _broken_model(models["log"]),
        "snapshot": _broken_model(models["snapshot"]),
        "report": _broken_model(models["report"]),
        "analysis": _broken_model(models["analysis"]),
        "items": st.lists(_broken_model(models["news"]), max_size=3),
        "ok": st.booleans(), "day": st.dates(), "days": st.integers(-5, 400),
        "limit": st.integers(-2, 10), "max_age": st.timedeltas(),
    }
    return table.get(name, _aware)


def _not_in(names: frozenset[str], key: str) -> bool:
    return key not in names


def _arguments(sig: inspect.Signature) -> st.SearchStrategy[dict[str, Any]]:
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for param in list(sig.parameters.values())[1:]:
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            fields = [f.name for f in msgspec.structs.fields(BackgroundTask)]
            keys: st.SearchStrategy[str] = st.one_of(
                st.sampled_from(fields), st.text(max_size=6)
            ).filter(functools.partial(_not_in, frozenset(sig.parameters)))
            parts["**"] = st.dictionaries(keys, ANYTHING, max_size=3)
            continue
        value = st.one_of(ANYTHING, _plausible(param.name))
        if param.default is not inspect.Parameter.empty:
            value = st.one_of(st.just(param.default), value)
        parts[param.name] = value
    return st.fixed_dictionaries(parts)


def _methods(store: BaseStore) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(fn)
        for name, fn in inspect.getmembers(type(store), inspect.iscoroutinefunction)
        if not name.startswith("_") and name not in LIFECYCLE
    }


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in files_under(folder)
            if p.name != ".lock"}


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in adapter_names() if n != "probe"])
def test_bad_input_gives_validation_error_and_changes_nothing(name: str, tmp_path: Path) -> None:
    adapter = get_adapter(name)
    store = adapter.open(tmp_path)
    methods = _methods(store)
    assert len(methods) >= 7, sorted(methods)
    calls = st.sampled_from(sorted(methods)).flatmap(
        lambda m: st.tuples(st.just(m), _arguments(methods[m])))
    outcomes: dict[str, int] = {}

    with asyncio.Runner() as runner:
        async def setup() -> None:
            for i in range(6):
                await adapter.apply(store, i)
            await _settle(store)

        async def attempt(method: str, kwargs: dict[str, Any]) -> None:
            before_disk = _folder_bytes(adapter.store_dir(tmp_path))
            before = await adapter.snapshot(store)
            extra = kwargs.pop("**", {})
            try:
                await getattr(store, method)(**kwargs, **extra)
            except ValidationError:
                outcomes["validation_error"] = outcomes.get("validation_error", 0) + 1
                assert _folder_bytes(adapter.store_dir(tmp_path)) == before_disk, (
                    f"{method} raised ValidationError but changed the folder")
                assert await adapter.snapshot(store) == before, (
                    f"{method} raised ValidationError but changed what the store serves")
                return
            except NotFoundError:
                assert method == "update", f"{method} raised NotFoundError"
                outcomes["not_found"] = outcomes.get("not_found", 0) + 1
                assert _folder_bytes(adapter.store_dir(tmp_path)) == before_disk
                return
            outcomes["success"] = outcomes.get("success", 0) + 1
            await _settle(store)

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(calls)
        def run(call: tuple[str, dict[str, Any]]) -> None:
            runner.run(attempt(*call))

        runner.run(setup())
        try:
            run()
        finally:
            runner.run(store.close())
    count("fuzz.inputs", EXAMPLES, store=name)
    count("fuzz.validation_errors", outcomes.get("validation_error", 0), store=name)
    assert outcomes.get("validation_error", 0) > EXAMPLES // 4, outcomes


async def _settle(store: BaseStore) -> None:
    """Fold pending journals so no background checkpoint changes files during a check."""
    await store.flush()
    for coll in store._collections:
        await coll.checkpoint()


_DEFECT_CALLS = {"StrategyLog": ("strategy_logs", "log", "add_log"),
                 "FundamentalAnalysis": ("fundamentals", "analysis", "save_analysis")}


@pytest.mark.parametrize(("model", "field"), WRONG_TYPED_FIELDS)
async def test_wrong_typed_model_fields_give_validation_error(model: str, field: str,
                                                   tmp_path: Path) -> None:
    store_name, key, method = _DEFECT_CALLS[model]
    store = get_adapter(store_name).open(tmp_path)
    bad = _valid_models()[key]
    setattr(bad, field, [] if field == "recommendation" else None)
    args = ("momentum", bad) if method == "add_log" else (bad,)
    try:
        with pytest.raises(ValidationError):
            await getattr(store, method)(*args)
    finally:
        await store.close()
