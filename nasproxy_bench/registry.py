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
import importlib.util
import traceback
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
    "nats_sss": "nasproxy_bench.adapters.nats_sss.benchmark:NATSSizeBenchmark",
    "tnb101_micro": "nasproxy_bench.adapters.transnas.benchmark:TNB101MicroBenchmark",
    "tnb101_macro": "nasproxy_bench.adapters.transnas.benchmark:TNB101MacroBenchmark",
    "tnb101": "nasproxy_bench.adapters.transnas.benchmark:TNB101Family",
    "nbnlp": "nasproxy_bench.adapters.nbnlp.benchmark:NBNLPBenchmark",
    "nb101": "nasproxy_bench.adapters.nb101.benchmark:NB101Benchmark",
}
# Modules that define several benchmarks in a ``BENCHMARKS`` list (one class per space file).
BUILTIN_BENCHMARK_MODULES = ("nasproxy_bench.adapters.nds.benchmark",)
BUILTIN_PROXY_MODULES = (
    "nasproxy_bench.proxies.structural",
    "nasproxy_bench.proxies.gradient",
    "nasproxy_bench.proxies.activation",
    "nasproxy_bench.proxies.jacobian",
    "nasproxy_bench.proxies.topology",
    "nasproxy_bench.proxies.ensemble",
    "nasproxy_bench.proxies.logsynflow",
    "nasproxy_bench.proxies.meco",
    "nasproxy_bench.proxies.swap",
    "nasproxy_bench.proxies.aznas",
    "nasproxy_bench.gennas.proxies",
)

_benchmarks: dict[str, type[Benchmark]] = {}
_proxies: dict[str, ProxySpec] = {}
_loaded = False


def _origin(obj: Any) -> str:
    return getattr(obj, "__module__", None) or "another module"


def register_benchmark(cls: type[Benchmark]) -> type[Benchmark]:
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    held = _benchmarks.get(cls.name)
    if held is not None and held is not cls:
        raise NasproxyError(f"benchmark name {cls.name!r} is already registered by {_origin(held)}; register yours under another name")
    _benchmarks[cls.name] = cls
    return cls


def register_proxy(spec: ProxySpec) -> ProxySpec:
    """Add a proxy; a name already taken (by a built-in or another plugin) is refused.

    Scores are stored under the proxy's name and version, so two proxies sharing a name would
    mix their values under one key.
    """
    held = _proxies.get(spec.name)
    if held is not None and held != spec:
        raise NasproxyError(
            f"proxy name {spec.name!r} is already registered by {_origin(held.fn)}; register yours under another name"
        )
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
    elif hasattr(obj, "BENCHMARKS"):
        for cls in obj.BENCHMARKS:
            register_benchmark(cls)
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
    for module in BUILTIN_BENCHMARK_MODULES:
        _register_from(importlib.import_module(module))
    for module in BUILTIN_PROXY_MODULES:
        _register_from(importlib.import_module(module))
    for group in ("nasproxy_bench.benchmarks", "nasproxy_bench.proxies"):
        for entry in metadata.entry_points(group=group):
            _register_from(entry.load())


def _failure_site(exc: BaseException, module: str) -> str:
    """``file:line`` where a plugin import failed: the plugin's own line where there is one."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    frames = traceback.extract_tb(exc.__traceback__)
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    own = [f for f in frames if spec is not None and f.filename == spec.origin]
    frame = (own or frames or [None])[-1]
    return f"{frame.filename}:{frame.lineno}" if frame else module


def load_plugin(module: str) -> None:
    """Import a user module that registers benchmarks or proxies (CLI ``--plugin``).

    Any failure (not found, SyntaxError, an exception at import, a duplicate name) is a
    one-line ``NasproxyError`` naming the file and line.
    """
    _ensure_loaded()
    try:
        _register_from(importlib.import_module(module))
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):  # the plugin itself is missing
            raise NasproxyError(f"cannot import plugin {module!r} ({exc}); check PYTHONPATH") from None
        raise NasproxyError(f"plugin {module!r} failed at import ({_failure_site(exc, module)}): {exc}") from None
    except NasproxyError as exc:
        raise NasproxyError(f"plugin {module!r} ({_failure_site(exc, module)}): {exc}") from None
    except Exception as exc:  # any error in user code at import time
        message = exc.msg if isinstance(exc, SyntaxError) else (str(exc).strip().splitlines() or [""])[0]
        raise NasproxyError(
            f"plugin {module!r} failed at import ({_failure_site(exc, module)}): {type(exc).__name__}: {message}"
        ) from None


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


def stored_version(spec: ProxySpec, benchmark: str) -> str:
    """The version a score of ``spec`` on ``benchmark`` is stored under.

    The proxy's own version, and ``.net<r>`` when the benchmark's networks are at revision r > 0
    and the proxy runs the network (a structural proxy reads only the architecture). Unknown
    benchmark names (a store written with a plugin not loaded) get the proxy's version.
    """
    revision = benchmarks()[benchmark].network_revision if benchmark in benchmarks() else 0
    if revision == 0 or spec.family == "structural":
        return spec.version
    return f"{spec.version}.net{revision}"


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
