"""Result stores committed xz-compressed (``NAME.h5.xz``, docs/stores/), read without unpacking by hand.

An HDF5 store is mostly per-group metadata and packs about 14x (a TransNAS task of 200
architectures x 28 proxies: 1.1 MB, 79 kB packed). Commands that only read a store accept the
packed file and read a temporary copy; a command that writes refuses it with the unpack command.
"""

from __future__ import annotations

import argparse
import lzma
import shutil
from pathlib import Path

from nasproxy_bench.errors import DataError, NasproxyError

SUFFIX = ".xz"


def is_packed(path: Path) -> bool:
    return path.name.endswith(".h5" + SUFFIX)


def unpacked(path: Path, workdir: Path) -> Path:
    """``path`` itself, or for a packed store its contents written to a file in ``workdir``."""
    if not is_packed(path):
        return path
    if not path.exists():
        raise DataError(f"no result store at {path}; check the path")
    target = workdir / path.name[: -len(SUFFIX)]
    n = 1
    while target.exists():  # two packed stores of the same name from different folders
        target = workdir / f"{n}_{target.name}"
        n += 1
    try:
        with lzma.open(path) as packed, target.open("wb") as out:
            shutil.copyfileobj(packed, out)
    except (lzma.LZMAError, EOFError) as exc:
        raise DataError(f"{path} is not a complete xz archive ({exc}); fetch it again (git checkout -- {path})") from None
    return target


def unpack_arguments(args: argparse.Namespace, workdir: Path) -> dict[Path, Path]:
    """Point the store arguments of a read-only command at unpacked copies; refuse a packed store to write to.

    Returns each unpacked copy's packed original, for messages that name the file.
    """
    originals: dict[Path, Path] = {}

    def unpack(path: Path) -> Path:
        copy = unpacked(path, workdir)
        originals[copy] = path
        return copy

    reading = args.command in ("report", "compare") or (args.command == "gennas" and args.gennas_command == "tables")
    for name in ("first", "second"):  # diff
        if isinstance(getattr(args, name, None), Path):
            setattr(args, name, unpack(getattr(args, name)))
    for name in ("sources", "stores"):  # merge, info
        if isinstance(getattr(args, name, None), list):
            setattr(args, name, [unpack(path) for path in getattr(args, name)])
    store = getattr(args, "store", None)
    if isinstance(store, Path) and is_packed(store):
        if not reading:
            raise NasproxyError(f"{store} is a packed store, read-only here; unpack it to write to it: xz -dk {store}")
        args.store = unpack(store)
    return originals
