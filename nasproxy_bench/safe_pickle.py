"""Loading pickled benchmark files without running arbitrary code.

Pickle can call any importable function while loading. The official CIFAR, ImageNet16 and
NATS-Bench files only need plain containers and numpy arrays, so ``safe_load`` allows exactly
those globals and rejects the rest. A file that needs more can only be read with
``allow_unsafe=True``, which the CLI exposes as ``--trust-pickles``.
"""

from __future__ import annotations

import bz2
import codecs
import collections
import io
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np

from nasproxy_bench.errors import DataError

UNSAFE_FLAG = "--trust-pickles"


def _numpy_globals() -> dict[tuple[str, str], Any]:
    from numpy._core import multiarray

    allowed: dict[tuple[str, str], Any] = {}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = multiarray._reconstruct
        allowed[(module, "scalar")] = multiarray.scalar
    allowed[("numpy", "ndarray")] = np.ndarray
    allowed[("numpy", "dtype")] = np.dtype
    return allowed


_ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
    # protocol-2 pickles written by Python 3 store bytes as codecs.encode(text, "latin1")
    ("_codecs", "encode"): codecs.encode,
    **_numpy_globals(),
}


class ForbiddenGlobal(pickle.UnpicklingError):
    """The pickle asks for a global outside the allow-list."""


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that only resolves an allow-list of harmless globals."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise ForbiddenGlobal(f"global {module}.{name} is not on the safe list") from None


def safe_loads(data: bytes, *, allow_unsafe: bool = False, source: str = "<bytes>") -> Any:
    if allow_unsafe:
        return pickle.loads(data, encoding="latin1")  # noqa: S301 - explicit opt-in
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
    except ForbiddenGlobal as exc:
        raise DataError(
            f"{source}: refused to unpickle ({exc}); if you trust this file, rerun with {UNSAFE_FLAG}"
        ) from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise DataError(f"{source}: truncated or corrupt pickle ({exc}); download it again") from None


def safe_load(path: Path, *, allow_unsafe: bool = False) -> Any:
    """Load a ``.pickle``/``.pkl`` or bz2-compressed ``.pbz2`` file through the allow-list."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"missing file {path}; see data/README.md for where to get it")
    raw = path.read_bytes()
    if path.suffix == ".pbz2":
        try:
            raw = bz2.decompress(raw)
        except (OSError, EOFError, ValueError) as exc:
            raise DataError(f"{path}: corrupt bz2 data ({exc}); download it again") from None
    return safe_loads(raw, allow_unsafe=allow_unsafe, source=str(path))


def _torch_safe_globals() -> list[Any]:
    return [g for (module, _), g in _ALLOWED.items() if module.startswith("numpy")]


def safe_torch_load(path: Path, *, allow_unsafe: bool = False) -> Any:
    """Load a ``torch.save`` file (e.g. an NB201 ``.pth``) with the same allow-list as ``safe_load``.

    Plain containers, tensors and numpy arrays load; a file asking for any other global is
    refused with the same one-line message as a ``.pickle``/``.pbz2`` file (nothing runs).
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise DataError(f"missing file {path}; see data/README.md for where to get it")
    try:
        if allow_unsafe:
            return torch.load(path, map_location="cpu", weights_only=False)  # explicit opt-in
        with torch.serialization.safe_globals(_torch_safe_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if found:
            raise DataError(
                f"{path}: refused to unpickle (global {found.group(1)} is not on the safe list); "
                f"if you trust this file, rerun with {UNSAFE_FLAG}"
            ) from None
        raise DataError(f"{path}: truncated or corrupt torch file ({_torch_reason(exc)}); download it again") from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise DataError(f"{path}: truncated or corrupt torch file ({_torch_reason(exc)}); download it again") from None


def _torch_reason(exc: BaseException) -> str:
    """The useful part of torch's message (its weights-only errors start with a long notice)."""
    text = str(exc)
    if "weights_only" in text:
        text = text.split("WeightsUnpickler error:")[-1] if "WeightsUnpickler error:" in text else type(exc).__name__
    return _first_line(text)


def _first_line(exc: BaseException | str) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0].split(". ")[0] if lines else "no details")[:160]
