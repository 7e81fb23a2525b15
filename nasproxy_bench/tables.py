"""Writing normalized benchmark tables into the data root without ever losing the old one."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from nasproxy_bench.errors import DataError, NasproxyError


def existing_rows(path: Path) -> int | None:
    """Row count of the table at ``path``, or None when there is none (unreadable counts as 0)."""
    if not path.exists():
        return None
    try:
        return len(pd.read_csv(path, usecols=[0]))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError):
        return 0


def write_table(frame: pd.DataFrame, path: Path, *, force: bool = False) -> None:
    """Write ``frame`` to ``path`` through a temporary file and an atomic rename.

    An existing table is replaced only with ``force``: an import of a partial source (say a
    3-record fixture) must never silently shrink a complete table.
    """
    old = existing_rows(path)
    if old is not None and not force:
        raise NasproxyError(
            f"{path} already holds a table of {old} rows (the import has {len(frame)}); "
            "pass --force to replace it, or --data-root to import elsewhere"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(f"could not write {path} ({exc.strerror or exc}); the previous table is unchanged") from None
