"""nasproxy-bench: a benchmark-suite harness for zero-cost NAS proxies."""

__version__ = "0.1.0"
