"""NATS-Bench size search space adapter (``nats_sss``)."""

from nasproxy_bench.adapters.nats_sss.arch import NATSSizeArch
from nasproxy_bench.adapters.nats_sss.benchmark import NATSSizeBenchmark

__all__ = ["NATSSizeArch", "NATSSizeBenchmark"]
