"""Search-space adapters, installed as ``nasproxy_bench.adapters`` (one module per benchmark)."""
