"""TransNAS-Bench-101 adapters: ``tnb101_micro`` and ``tnb101_macro``."""

from nasproxy_bench.adapters.transnas.benchmark import TNB101MacroBenchmark, TNB101MicroBenchmark

__all__ = ["TNB101MicroBenchmark", "TNB101MacroBenchmark"]
