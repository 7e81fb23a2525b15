"""``gennas search-task``: search a proxy task whose scores rank a few labelled architectures best.

Labelled architectures: the first ``n_archs`` of the benchmark's seeded order for sample seed
``LABEL_SEED_BASE + seed`` (a different order from the evaluation runs, which use sample seed
0 by default). They are written into the task's provenance, and ``gennas tables`` leaves
them out when it scores that task, so the searched task is never judged on the architectures
it was selected with.

Fitness is Spearman's rho between minus the GenNAS loss (lower loss = better) and the ground
truth over the labelled architectures; a task that ties them all has no ranking power and
gets 0. Every (task, architecture) score is appended to a JSON-lines log; rerunning with the
same log and seed replays the same evolution and computes only what is missing (resumable in
chunks).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from nasproxy_bench.benchmark import Benchmark
from nasproxy_bench.gennas.regression import BATCH, regression_score
from nasproxy_bench.gennas.task import Task, parse_task, save_task
from nasproxy_bench.gennas.tasksearch import mutate_task, sample_task
from nasproxy_bench.inputs import fixed_batch
from nasproxy_bench.search.evolution import SearchTrace, random_search, regularized_evolution

LABEL_SEED_BASE = 10_000


@dataclass
class TaskSearchConfig:
    benchmark: Benchmark
    dataset: str
    data_root: Path
    n_archs: int = 20
    population: int = 50
    tournament: int = 10
    cycles: int = 400
    seed: int = 0
    method: str = "evolution"  # or "random"
    log: Path | None = None
    budget_s: float | None = None  # stop (resumably) after this much wall time
    evaluator: Callable[[Task, str], float] | None = None  # (task, arch) -> loss; default: GenNAS regression


class BudgetSpent(Exception):
    """The wall-time budget ran out; the log holds everything computed so far."""


def labelled_archs(benchmark: Benchmark, n: int, seed: int) -> list[str]:
    return benchmark.sample(n, LABEL_SEED_BASE + seed)


def fitness_value(losses: list[float], truth: list[float]) -> float:
    """Spearman rho of -loss vs ground truth (+inf loss ranks worst); 0 when undefined."""
    scores = -np.asarray(losses, dtype=float)
    if len(set(scores.tolist())) < 2:
        return 0.0
    rho = spearmanr(scores, np.asarray(truth, dtype=float)).statistic
    return float(rho) if np.isfinite(rho) else 0.0


class TaskFitness:
    """Scores tasks on the labelled architectures, caching every score in a JSON-lines log."""

    def __init__(self, config: TaskSearchConfig) -> None:
        self.config = config
        self.archs = labelled_archs(config.benchmark, config.n_archs, config.seed)
        truth = config.benchmark.ground_truth(config.dataset)
        sign = config.benchmark.dataset(config.dataset).metric().direction.sign()
        self.truth = [sign * float(truth[a]) for a in self.archs]  # higher is better
        self.images = fixed_batch(config.data_root, config.dataset, config.seed, BATCH).x if config.evaluator is None else None
        self.cache: dict[tuple[str, str], float] = {}
        self.started = time.monotonic()
        if config.log and config.log.exists():
            for line in config.log.read_text().splitlines():
                try:
                    row = json.loads(line)
                    self.cache[(row["task"], row["arch"])] = float(row["loss"])
                except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                    continue  # a torn last line from an interrupted run

    def loss(self, candidate: str, arch: str) -> float:
        task = parse_task(json.loads(candidate))
        key = (task.hash, arch)
        if key not in self.cache:
            if self.config.budget_s is not None and time.monotonic() - self.started > self.config.budget_s:
                raise BudgetSpent
            self.cache[key] = (self.config.evaluator or self.regression_loss)(task, arch)
            if self.config.log:
                with open(self.config.log, "a") as handle:
                    handle.write(json.dumps({"task": task.hash, "arch": arch, "loss": self.cache[key]}) + "\n")
        return self.cache[key]

    def regression_loss(self, task: Task, arch: str) -> float:
        torch.manual_seed(self.config.seed)  # the network's init, as the runner seeds it
        net = self.config.benchmark.build(arch, self.config.dataset)
        return regression_score(net, self.images, task, self.config.seed)

    def __call__(self, candidate: str) -> float:
        return fitness_value([self.loss(candidate, a) for a in self.archs], self.truth)


def search_task(config: TaskSearchConfig) -> tuple[SearchTrace[str], TaskFitness]:
    fitness = TaskFitness(config)
    rng = random.Random(config.seed)
    if config.method == "random":
        trace = random_search(sample_task, fitness, rng, evaluations=config.population + config.cycles)
    else:
        trace = regularized_evolution(sample_task, mutate_task, fitness, rng, population=config.population,
                                      tournament=config.tournament, cycles=config.cycles)
    return trace, fitness


def write_best(trace: SearchTrace[str], fitness: TaskFitness, config: TaskSearchConfig, path: Path, wall_s: float) -> Path:
    best, value = trace.best
    doc = json.loads(best)
    doc["name"] = f"searched_{config.benchmark.name}_{config.dataset}_seed{config.seed}"
    doc["description"] = f"GenNAS task found by {config.method} search on {config.benchmark.name}/{config.dataset}"
    doc["provenance"] = {
        "search": config.method, "benchmark": config.benchmark.name, "dataset": config.dataset, "seed": config.seed,
        "population": config.population, "tournament": config.tournament, "cycles": config.cycles,
        "evaluations": trace.evaluations, "fitness_spearman": value, "wall_s": round(wall_s, 1),
        "labelled_archs_rule": f"benchmark.sample({config.n_archs}, {LABEL_SEED_BASE} + seed)",
        "labelled_archs": fitness.archs,
    }
    return save_task(parse_task(doc), path)
