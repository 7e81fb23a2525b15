"""NAS-Bench-201 / NATS-Bench topology space: arch + benchmark, network, importer, verify."""

from nasproxy_bench.adapters.nb201.benchmark import TABLE, NB201Arch, NB201Benchmark

__all__ = ["TABLE", "NB201Arch", "NB201Benchmark"]
