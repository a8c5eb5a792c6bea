"""Benchmark suite of tradestore: the same workloads on tradestore and its peers.

Run it with ``python -m benchmarks [--quick] [--only W1,W3] [--systems ...]``;
the workloads and peers are defined in ``/work/shared/BENCHMARKS.md`` and
summarised in the generated ``docs/benchmarks.md``.
"""

__all__: list[str] = []
