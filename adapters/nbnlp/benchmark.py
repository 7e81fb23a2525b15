"""NAS-Bench-NLP (Klyuchnikov et al., 2020): recurrent cells trained as 3-layer PTB language models.

Data: the official training logs (``benchmarks/nbnlp/train_logs.tar.gz``: 14,322 PTB logs and 345
WikiText-2 logs), read straight from the tarball (``logs.read_logs``). Parsing 14,667 logs takes
tens of seconds, so the per-log table is cached as CSV: ``benchmarks/nbnlp/nbnlp_logs.csv`` in
the data root when ``nasproxy-bench import nbnlp --source <tar or folder>`` wrote it, else a
cache file under ``$XDG_CACHE_HOME/nasproxy_bench`` (``~/.cache``) keyed by the tarball's
size and modification time (skipped when not writable).

Architectures: the canonical cell string of ``arch.Recepie`` (node names and the input order of
symmetric ops do not matter). Several recepie_ids are the same cell (the release trained
repeats: 14,322 PTB logs are 12,124 distinct cells), so an architecture's ground truth is
the mean over its successful runs; ``recepie_ids(arch)`` / ``arch_of(recepie_id)`` map both ways.

Ground truth (lower is better, log-perplexity = mean token cross-entropy in nats):
``test_logppl`` (default), the test log-perplexity after the final (50th) epoch. GenNAS scores
NB-NLP searches by test log-perplexity (its regret uses L* = 4.36, the lowest test value), and
the final epoch is the trained model the release reports. Also ``valid_logppl`` (final
epoch), best-epoch test/validation, and validation after 1, 3 and 10 epochs
(``valid_logppl_ep{1,3,10}``: training-based baselines such as GenNAS's ppl@ep3, never a proxy
input). Failed runs (status not OK: "loss is nan!", "math range error") have no ground truth;
``failed_runs()`` counts them; ``archs()`` lists the cells with at least one OK PTB run.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from nasproxy_bench.adapters.nbnlp.arch import Recepie
from nasproxy_bench.adapters.nbnlp.inputs import ptb_batches
from nasproxy_bench.adapters.nbnlp.logs import EARLY_EPOCHS, LOG_COLUMNS, read_logs
from nasproxy_bench.adapters.nbnlp.network import (
    BPTT,
    EMBEDDING,
    HIDDEN,
    LAYERS,
    NO_DROPOUTS,
    OFFICIAL_DROPOUTS,
    VOCAB,
    RecurrentLM,
    official_param_count,
)
from nasproxy_bench.benchmark import DROPOUTS, Benchmark, Dataset, Direction, Metric, TaskKind, VerifyResult
from nasproxy_bench.errors import DataError
from nasproxy_bench.tables import write_table
from nasproxy_bench.tasks import LanguageModel

TARBALL = "benchmarks/nbnlp/train_logs.tar.gz"
LOG_TABLE = "benchmarks/nbnlp/nbnlp_logs.csv"
GRAPH2VEC = "benchmarks/nbnlp/doc2vec_features_lowdim.csv"
MEAN_COLUMNS = ("test_logppl", "valid_logppl", "best_test_logppl", "best_valid_logppl",
                *(f"valid_logppl_ep{e}" for e in EARLY_EPOCHS))


def _metrics() -> tuple[Metric, ...]:
    low = Direction.LOWER
    return (
        Metric("test_logppl", low, "test log-perplexity after the final (50th) epoch, mean over OK runs"),
        Metric("valid_logppl", low, "validation log-perplexity after the final epoch"),
        Metric("best_test_logppl", low, "lowest test log-perplexity over the 50 epochs"),
        Metric("best_valid_logppl", low, "lowest validation log-perplexity over the 50 epochs"),
        *(Metric(f"valid_logppl_ep{e}", low, f"validation log-perplexity after {e} epoch(s) (training-based baseline)")
          for e in EARLY_EPOCHS),
    )


def _datasets() -> dict[str, Dataset]:
    io = LanguageModel(ptb_batches)
    return {
        name: Dataset(name, (BPTT,), VOCAB[name], TaskKind.SEQUENCE, _metrics(), "test_logppl", io)
        for name in ("ptb", "wikitext2")
    }


def _cache_file(tarball: Path) -> Path:
    stat = tarball.stat()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "nasproxy_bench" / f"nbnlp_logs_{stat.st_size}_{int(stat.st_mtime)}.csv"


class NBNLPBenchmark(Benchmark):
    name = "nbnlp"
    description = "NAS-Bench-NLP: 14,322 recurrent cells (12,124 distinct) as 3-layer PTB language models"
    datasets = _datasets()

    # -- data ------------------------------------------------------------------------------
    @cached_property
    def logs(self) -> pd.DataFrame:
        """One row per official log (``logs.LOG_COLUMNS``), from the import, the cache or the tarball."""
        imported = self.data_root / LOG_TABLE
        if imported.is_file():
            return self._read_cached(imported)
        tarball = self.data_root / TARBALL
        if not tarball.is_file():
            raise DataError(f"missing {tarball}; run 'nasproxy-bench import nbnlp --source <train_logs.tar.gz or folder>' "
                            "or point --data-root / NASPROXY_DATA at a folder that has it")
        cache = _cache_file(tarball)
        if cache.is_file():
            return self._read_cached(cache)
        frame = read_logs(tarball)
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            write_table(frame, cache)
        except (OSError, DataError):
            pass  # a read-only home only costs the parse next time
        return frame

    def _read_cached(self, path: Path) -> pd.DataFrame:
        try:
            frame = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
            raise DataError(f"{path}: unreadable table ({exc}); delete it or re-import nbnlp") from None
        missing = set(LOG_COLUMNS) - set(frame.columns)
        if missing:
            raise DataError(f"{path}: missing columns {sorted(missing)}; delete it or re-import nbnlp")
        return frame

    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per architecture: per dataset the mean of each metric over OK runs, run counts, params."""
        parts = []
        for dataset, group in self.logs.groupby("dataset"):
            ok = group[group["ok"].astype(bool)]
            means = ok.groupby("arch")[list(MEAN_COLUMNS)].mean()
            counts = group.groupby("arch").agg(runs=("recepie_id", "size"), num_params=("num_params", "first"))
            counts["ok_runs"] = ok.groupby("arch").size().reindex(counts.index).fillna(0).astype(int)
            block = counts.join(means)
            block.columns = [f"{dataset}/{c}" for c in block.columns]
            parts.append(block)
        table = pd.concat(parts, axis=1)
        order = self.logs.sort_values(["dataset", "recepie_id"])["arch"].drop_duplicates()  # ptb before wikitext2
        table = table.loc[order.to_numpy()]
        table.index.name = "arch"
        return table

    def failed_runs(self, dataset: str = "ptb") -> pd.Series:
        """How many logs of ``dataset`` failed, by status (NaN-loss runs without a status count as 'incomplete')."""
        self.dataset(dataset)
        logs = self.logs[self.logs["dataset"] == dataset]
        failed = logs[~logs["ok"].astype(bool)]
        return failed["status"].where(failed["status"] != "OK", "incomplete").value_counts()

    def recepie_ids(self, arch: str, dataset: str = "ptb") -> list[int]:
        logs = self.logs
        return logs.loc[(logs["arch"] == arch) & (logs["dataset"] == dataset), "recepie_id"].astype(int).tolist()

    def arch_of(self, recepie_id: int, dataset: str = "ptb") -> str:
        logs = self.logs
        found = logs.loc[(logs["recepie_id"] == int(recepie_id)) & (logs["dataset"] == dataset), "arch"]
        if found.empty:
            raise DataError(f"no {dataset} log with recepie_id {recepie_id}")
        return str(found.iloc[0])

    # -- architectures -------------------------------------------------------------------
    def parse(self, text: str) -> Recepie:
        return Recepie.parse(text)

    def canonical(self, arch: Recepie) -> str:
        return str(arch)

    @cached_property
    def _archs(self) -> list[str]:
        column = "ptb/ok_runs"
        table = self.table
        return table.index[table[column].fillna(0) > 0].tolist() if column in table else []

    def archs(self) -> Sequence[str]:
        """Cells with at least one successful PTB run, in order of their first recepie_id."""
        return self._archs

    def ground_truth(self, dataset: str, metric: str | None = None) -> pd.Series:
        spec = self.dataset(dataset)
        column = f"{dataset}/{spec.metric(metric).name}"
        if column not in self.table.columns:
            raise DataError(f"no {dataset} logs in {self.data_root / TARBALL}")
        return self.table[column].astype(float)

    def costs(self, dataset: str) -> pd.DataFrame:
        """params_M (formula = built network) and flops_M: multiply-accumulates for one sequence of BPTT tokens."""
        vocab = self.dataset(dataset).num_outputs
        rows = {}
        for arch in self.archs():
            recepie = self.parse(arch)
            params = official_param_count(recepie, vocab)
            cell_weights = params - vocab * (EMBEDDING + 1) - _cell_biases(recepie)
            rows[arch] = (params / 1e6, BPTT * (cell_weights + vocab * EMBEDDING) / 1e6)
        return pd.DataFrame.from_dict(rows, orient="index", columns=["params_M", "flops_M"])

    # -- networks ------------------------------------------------------------------------
    def build(self, arch: str, dataset: str) -> nn.Module:
        return RecurrentLM(self.parse(arch), self.dataset(dataset).num_outputs)

    def build_variant(self, arch: str, dataset: str, *, channels: int | None = None, cell_bn: str = "standard",
                      dropouts: str = "none") -> nn.Module:
        """With ``dropouts="official"``: the official training's locked and weight dropouts (``network.OFFICIAL_DROPOUTS``)."""
        if channels is not None or cell_bn != "standard" or dropouts not in DROPOUTS:
            return super().build_variant(arch, dataset, channels=channels, cell_bn=cell_bn, dropouts=dropouts)
        chosen = OFFICIAL_DROPOUTS if dropouts == "official" else NO_DROPOUTS
        return RecurrentLM(self.parse(arch), self.dataset(dataset).num_outputs, dropouts=chosen)

    # -- search --------------------------------------------------------------------------
    def mutate(self, arch: str, rng: random.Random) -> str:
        """The benchmark cell nearest to ``arch`` in the official graph2vec space (ties: random).

        As NAS-Bench-NLP's and GenNAS's evolution: a cell's neighbour is the most similar trained
        cell, since arbitrary graph edits mostly leave the 14k trained cells. Without the
        graph2vec file, a random cell with the closest parameter count is used.
        """
        features = self._graph2vec
        candidates = [a for a in self.archs() if a != arch]
        if not candidates:
            raise DataError("nbnlp has a single architecture; nothing to mutate to")
        if features is not None and arch in features.index:
            pool = features.loc[features.index.intersection(candidates)]
            dist = np.linalg.norm(pool.to_numpy() - features.loc[arch].to_numpy(), axis=1)
            nearest = pool.index[dist <= dist.min() + 1e-12].tolist()
            return rng.choice(sorted(nearest))
        params = self.table["ptb/num_params"]
        own = params.get(arch, params.median())
        gap = (params.loc[candidates] - own).abs()
        return rng.choice(sorted(gap.index[gap == gap.min()]))

    @cached_property
    def _graph2vec(self) -> pd.DataFrame | None:
        """Official 10-d graph2vec features per cell (mean over its recepie_ids), or None without the file."""
        path = self.data_root / GRAPH2VEC
        if not path.is_file():
            return None
        try:
            raw = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
            raise DataError(f"{path}: unreadable ({exc}); replace it with the official file") from None
        id_column = next((c for c in raw.columns if "id" in str(c).lower()), raw.columns[0])
        ptb = self.logs[self.logs["dataset"] == "ptb"].set_index("recepie_id")["arch"]
        raw = raw.set_index(id_column)
        raw = raw.loc[raw.index.intersection(ptb.index)]
        return raw.groupby(ptb.loc[raw.index].to_numpy()).mean()

    # -- official files --------------------------------------------------------------------
    def import_table(self, source: Path, **options: Any) -> tuple[pd.DataFrame, Path]:
        """The per-log table of the official tarball or log folder, for ``benchmarks/nbnlp/nbnlp_logs.csv``."""
        return read_logs(Path(source)), self.data_root / LOG_TABLE

    def verify(self, *, stride: int = 1, flops: bool = False) -> VerifyResult:
        from nasproxy_bench.adapters.nbnlp.verify import verify_params

        return verify_params(self, stride=stride)


def _cell_biases(recepie: Recepie) -> int:
    widths = [HIDDEN] * (LAYERS - 1) + [EMBEDDING]
    linears = sum(1 for node in recepie.nodes.values() if node.op == "linear")
    return linears * sum(widths)


__all__ = ["NBNLPBenchmark"]
