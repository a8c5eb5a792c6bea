"""The benchmark suite: tradestore beside its peers (run with ``python -m benchmarks``).

``python -m benchmarks [--quick] [--only W1,W3] [--systems ...]`` runs the
workloads W1-W6 on every system in one run and writes ``docs/benchmarks.md``,
``docs/benchmarks.json`` and ``docs/benchmarks.png``.
"""

__all__: list[str] = []
