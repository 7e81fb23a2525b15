"""Zero-cost proxies, one module per family; ``nasproxy_bench.registry`` collects them."""
