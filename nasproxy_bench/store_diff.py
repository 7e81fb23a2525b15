"""Record-by-record comparison of two result stores.

Answers "did these two runs store the same scores?" (sequential vs ``--workers`` vs Ray, CPU vs
GPU, before vs after a refactor). A record is keyed by its run-group path (benchmark, dataset,
proxy, version, sample, batch and seed) and architecture; two records agree when their status
is the same and their scores are equal (both NaN counts as equal), optionally within a relative
tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from nasproxy_bench.store import Record, ResultStore

RecordKey = tuple[str, str]  # (group path, architecture)


@dataclass
class StoreDiff:
    same: int = 0
    only_a: list[RecordKey] = field(default_factory=list)
    only_b: list[RecordKey] = field(default_factory=list)
    different: list[tuple[RecordKey, Record, Record]] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not (self.only_a or self.only_b or self.different)

    def summary(self) -> str:
        both = self.same + len(self.different)
        return (f"{both} records in both stores: {self.same} identical, {len(self.different)} differ; "
                f"{len(self.only_a)} only in the first, {len(self.only_b)} only in the second")


def scores_agree(a: float, b: float, rtol: float = 0.0) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:  # also equal infinities
        return True
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= rtol * max(abs(a), abs(b))


def _records(store: ResultStore) -> dict[RecordKey, Record]:
    return {(path, arch): record for path, group in store.groups.items() for arch, record in group.records.items()}


def diff_stores(a: ResultStore, b: ResultStore, *, rtol: float = 0.0) -> StoreDiff:
    """Compare every record of ``a`` with ``b`` (journals included, as the stores read them)."""
    first, second = _records(a), _records(b)
    result = StoreDiff()
    for key, record in first.items():
        other = second.get(key)
        if other is None:
            result.only_a.append(key)
        elif record.status == other.status and scores_agree(record.score, other.score, rtol):
            result.same += 1
        else:
            result.different.append((key, record, other))
    result.only_b = [key for key in second if key not in first]
    return result
