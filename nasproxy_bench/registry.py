"""Registries of benchmarks and proxies.

Built-ins are listed by module path and loaded on first use (no import side effects). Users
add their own without editing the package, in either of two ways:

- in code: ``register_benchmark(MyBenchmark)`` / ``register_proxy(spec)`` or the
  ``@proxy(...)`` decorator, then run through the library, or pass ``--plugin mymodule`` to
  the CLI so it imports ``mymodule`` (which registers) first;
- by packaging: an entry point in the group ``nasproxy_bench.benchmarks`` (a ``Benchmark``
  subclass) or ``nasproxy_bench.proxies`` (a ``ProxySpec`` or a module that registers).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from nasproxy_bench.benchmark import Benchmark, Direction
from nasproxy_bench.errors import NasproxyError, UnknownNameError
from nasproxy_bench.proxies.base import ProxyContext, ProxySpec

BUILTIN_BENCHMARKS = {
    "nb201": "nasproxy_bench.adapters.nb201.benchmark:NB201Benchmark",
}
BUILTIN_PROXY_MODULES = (
    "nasproxy_bench.proxies.structural",
    "nasproxy_bench.proxies.gradient",
    "nasproxy_bench.proxies.activation",
    "nasproxy_bench.proxies.jacobian",
    "nasproxy_bench.proxies.topology",
    "nasproxy_bench.proxies.ensemble",
    "nasproxy_bench.gennas.proxies",
)

_benchmarks: dict[str, type[Benchmark]] = {}
_proxies: dict[str, ProxySpec] = {}
_loaded = False


def register_benchmark(cls: type[Benchmark]) -> type[Benchmark]:
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    _benchmarks[cls.name] = cls
    return cls


def register_proxy(spec: ProxySpec) -> ProxySpec:
    _proxies[spec.name] = spec
    return spec


def proxy(
    name: str, *, family: str, version: str, direction: Direction = Direction.HIGHER, **meta: Any
) -> Callable[[Callable[[ProxyContext], float]], Callable[[ProxyContext], float]]:
    """Decorator form of ``register_proxy`` for user code."""

    def wrap(fn: Callable[[ProxyContext], float]) -> Callable[[ProxyContext], float]:
        register_proxy(ProxySpec(name, fn, family, version, direction, **meta))
        return fn

    return wrap


def _load_object(target: str) -> Any:
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    return getattr(obj, attr) if attr else obj


def _register_from(obj: Any) -> None:
    if isinstance(obj, ProxySpec):
        register_proxy(obj)
    elif isinstance(obj, type) and issubclass(obj, Benchmark):
        register_benchmark(obj)
    elif hasattr(obj, "PROXIES"):
        for spec in obj.PROXIES:
            register_proxy(spec)


def _ensure_loaded() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for target in BUILTIN_BENCHMARKS.values():
        register_benchmark(_load_object(target))
    for module in BUILTIN_PROXY_MODULES:
        _register_from(importlib.import_module(module))
    for group in ("nasproxy_bench.benchmarks", "nasproxy_bench.proxies"):
        for entry in metadata.entry_points(group=group):
            _register_from(entry.load())


def load_plugin(module: str) -> None:
    """Import a user module that registers benchmarks or proxies (CLI ``--plugin``)."""
    _ensure_loaded()
    try:
        _register_from(importlib.import_module(module))
    except ImportError as exc:
        raise NasproxyError(f"cannot import plugin {module!r} ({exc}); check PYTHONPATH") from None


def benchmarks() -> dict[str, type[Benchmark]]:
    _ensure_loaded()
    return dict(_benchmarks)


def proxies() -> dict[str, ProxySpec]:
    _ensure_loaded()
    return dict(_proxies)


def get_benchmark(name: str) -> type[Benchmark]:
    found = benchmarks()
    if name not in found:
        raise UnknownNameError("benchmark", name, list(found))
    return found[name]


def get_proxy(name: str) -> ProxySpec:
    if name.startswith("gennas:"):  # any GenNAS task file (or shipped preset) by reference
        from nasproxy_bench.gennas.proxies import spec_for

        return spec_for(name)
    found = proxies()
    if name not in found:
        raise UnknownNameError("proxy", name, list(found))
    return found[name]


@lru_cache(maxsize=16)
def open_benchmark(name: str, data_root: Path) -> Benchmark:
    """One shared (lazily loading) instance per benchmark and data root, for read-only use."""
    return get_benchmark(name)(Path(data_root))
