"""NAS-Bench-101: cell spec and hash, network, benchmark, TFRecord importer, verify."""

from nasproxy_bench.adapters.nb101.spec import NB101Spec

__all__ = ["NB101Spec"]
