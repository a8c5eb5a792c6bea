"""The benchmark suite: tradestore beside its peers (run with ``python -m benchmarks``)."""
