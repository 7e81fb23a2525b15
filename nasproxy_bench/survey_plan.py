"""Which scores the survey gallery needs, and computing the missing ones.

``nasproxy-bench survey`` first runs this plan against the result store (runs resume, so an
existing store costs seconds), then draws the gallery. The defaults are sized for a CPU:

- NB201 (survey Figs. 6, 7, 13, 18 and Table IV NB201 rows): CIFAR-10 and CIFAR-100 (CIFAR-100
  carries the pi5 energy table used in place of EdgeGPU energy; ImageNet16-120 images are not in
  the data root), ``nb201_n`` architectures, 5 init/batch seeds as in the survey, batch 64;
- TransNAS-Bench-101 micro (Fig. 10, Table V): segmentation, autoencoding and surface normal,
  ``tnb_n`` architectures, one seed, batch 8 (256x256 inputs cost ~10 s CPU per architecture);
- NATS-Bench size space (Figs. 8, 9, 14, 19, Table IV NATS rows): only when its accuracy table
  has been imported; otherwise ``missing`` says which file would produce those figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nasproxy_bench.config import RunConfig
from nasproxy_bench.registry import open_benchmark

SURVEY_PROXIES = ("params", "flops", "synflow", "snip", "grad_norm", "naswot", "jacob_cov", "zico")
# jacob_cov and zico take ~60% of the time on 256x256 TransNAS inputs: left out of the TransNAS default
TNB_PROXIES = ("params", "flops", "synflow", "snip", "grad_norm", "naswot")
NB201_DATASETS = ("cifar10", "cifar100")
NATS_DATASETS = ("cifar10", "cifar100")
TNB_TASKS = ("segmentsemantic", "autoencoder", "normal")
DEFAULT_NB201_N = 100  # expected n@Top5% = 5 of a uniform sample, the fewest a bar is drawn for
DEFAULT_SEEDS = (0, 1, 2, 3, 4)
DEFAULT_TNB_N = 20
NATS_TABLE = "benchmarks/nats_sss/nats_sss.csv"
NATS_SOURCE = "NATS-sss-v1_0-50262-simple"


@dataclass
class SurveyPlan:
    runs: list[RunConfig] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # figures the data root cannot produce, and the file that would


def default_plan(data_root: Path, store: Path, *, nb201_n: int = DEFAULT_NB201_N, seeds: tuple[int, ...] = DEFAULT_SEEDS,
                 tnb_n: int = DEFAULT_TNB_N) -> SurveyPlan:
    """The runs behind every survey figure this data root allows (``n`` = 0 leaves a space out)."""
    plan = SurveyPlan()

    def add(bench: str, dataset: str, names: tuple[str, ...], n: int, run_seeds: tuple[int, ...], batch: int) -> None:
        plan.runs.append(RunConfig(bench, dataset, list(names), n=n, seeds=list(run_seeds), batch_size=batch,
                                   data_root=data_root, store=store))

    if nb201_n > 0:
        for dataset in NB201_DATASETS:
            add("nb201", dataset, SURVEY_PROXIES, nb201_n, seeds, 64)
    if nb201_n > 0 and open_benchmark("nats_sss", data_root).has_table:
        for dataset in NATS_DATASETS:
            add("nats_sss", dataset, SURVEY_PROXIES, nb201_n, seeds, 64)
    elif nb201_n > 0:
        plan.missing.append(nats_note(data_root) or "")
    if tnb_n > 0:
        for task in TNB_TASKS:
            add("tnb101_micro", task, TNB_PROXIES, tnb_n, (0,), 8)
    return plan


def run_plan(plan: SurveyPlan, *, progress: bool = True) -> int:
    """Compute every missing score of the plan; returns how many were computed."""
    from nasproxy_bench.runner import run

    return sum(run(config, progress=progress).computed for config in plan.runs)


def nats_note(data_root: Path) -> str | None:
    """Which file would produce the NATS size-space pages, while it is missing; ``None`` once imported.

    The file is named relative to the data root, so the committed gallery carries no local path.
    """
    if open_benchmark("nats_sss", data_root).has_table:
        return None
    return (f"NATS-Bench size space (survey Figs. 8, 9, 14, 19 and Table IV NATS rows): not produced, "
            f"{NATS_TABLE} is missing from the data root ($NASPROXY_DATA or --data-root); create it with "
            f"'nasproxy-bench import nats_sss --source "
            f"<{NATS_SOURCE} folder>' (the official NATS-Bench release, whose records also carry the GTX1080 latency "
            f"of Fig. 19), then rerun 'nasproxy-bench survey'")
