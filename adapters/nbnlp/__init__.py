"""NAS-Bench-NLP adapter: ``nbnlp`` (datasets ``ptb`` and, for ground truth and params only, ``wikitext2``)."""

from nasproxy_bench.adapters.nbnlp.benchmark import NBNLPBenchmark

__all__ = ["NBNLPBenchmark"]
