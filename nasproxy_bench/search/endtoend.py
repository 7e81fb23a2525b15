"""End-to-end architecture search with any registered proxy as the fitness (GenNAS Table 3).

A search is (benchmark, dataset, fitness proxy, seed) plus the regularized-evolution settings
(population 50, tournament 10, 400 cycles as in the paper). The fitness of an architecture is
the proxy's score computed exactly as ``nasproxy-bench run`` computes it (same network init,
same fixed minibatch, same ``evaluate``), times the proxy's direction sign, so higher is better.
A NaN score, an error or "unsupported" ranks below every finite fitness (``-inf``) and is
counted in the outcome.

Scores. Every score the search computes goes into the result store under the same ``RunKey``
as a run's, with sample seed ``SEARCH_SAMPLE`` (the architectures a search visits are not a
random sample, so they must not mix with a run's sample in correlation reports). Lookups ignore
the sample seed (``ResultStore.find``): a search reuses what any run or earlier search stored,
and a run reuses what a search stored. An interrupted search rerun with the same settings
replays its random choices and finds its scores stored, so it ends with the same outcome.

Outcomes. One JSON object per finished search is appended to ``<store>.searches.jsonl`` (beside
the store, written only by the process that holds the store's lock): the found architecture
(best fitness in the whole history, first on ties), its ground truth, evaluations, distinct
architectures, scores computed vs reused, non-finite fitness count, wall time and settings.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from nasproxy_bench.benchmark import Benchmark, Dataset
from nasproxy_bench.config import DEFAULT_DATA_ROOT, DEFAULT_STORE
from nasproxy_bench.errors import NasproxyError
from nasproxy_bench.inputs import Batch, fixed_batches
from nasproxy_bench.memory import release_freed_memory
from nasproxy_bench.proxies.base import ProxyContext, ProxySpec
from nasproxy_bench.registry import get_benchmark, stored_version
from nasproxy_bench.runner import build_model, evaluate, model_device, provenance, resolve_device, resolve_proxies
from nasproxy_bench.search.evolution import SearchTrace, random_search, regularized_evolution
from nasproxy_bench.store import SEARCH_SAMPLE, STATUS_OK, Record, ResultStore, RunKey

ALGORITHMS = ("re", "random")
OUTCOME_VERSION = 1


@dataclass(frozen=True)
class SearchConfig:
    """One search.

    Attributes:
        seed: seed of the search's random choices (``random.Random(seed)``).
        init_seed: network-initialisation and minibatch seed of the fitness proxy (the ``seed``
            of a run's key). The default 0 is ``run``'s default: every search seed then optimises
            the same fitness function (the spread over seeds is the search's own), and searches
            share scores with each other and with ``run --seeds 0``. ``None`` uses ``seed``, so
            repeated searches also differ in the proxy's initialisation noise.
        algorithm: ``re`` (regularized evolution) or ``random`` (random search with the same
            number of evaluations, ``population + cycles``).
    """

    benchmark: str
    dataset: str
    fitness: str
    seed: int = 0
    population: int = 50
    tournament: int = 10
    cycles: int = 400
    batch_size: int = 64
    init_seed: int | None = 0
    algorithm: str = "re"
    device: str = "cpu"
    data_root: Path = DEFAULT_DATA_ROOT
    store: Path = DEFAULT_STORE
    trust_pickles: bool = False
    checkpoint_s: float = 60.0

    @property
    def proxy_seed(self) -> int:
        return self.seed if self.init_seed is None else self.init_seed

    @property
    def evaluations(self) -> int:
        return self.population + self.cycles


@dataclass
class SearchOutcome:
    """What one finished search found; one line of the outcomes file."""

    benchmark: str
    dataset: str
    fitness: str
    fitness_version: str
    algorithm: str
    seed: int
    init_seed: int
    population: int
    tournament: int
    cycles: int
    batch_size: int
    found_arch: str
    found_fitness: float  # higher is better (score x direction sign)
    found_truth: float  # ground truth of the found arch (default metric of the dataset)
    truth_metric: str
    best_truth_seen: float  # best ground truth among evaluated archs (what a perfect proxy would pick)
    oracle_truth: float  # best ground truth in the whole space
    evaluations: int
    distinct_archs: int
    computed: int  # scores computed by this process
    reused: int  # distinct archs whose score was already stored
    nonfinite: int  # distinct archs whose fitness was NaN/error/unsupported (ranked worst)
    wall_s: float  # elapsed time of this search in this process (small when resumed from the store)
    fitness_s: float  # summed stored proxy time of its distinct archs: the proxy cost of a cold search
    device: str
    input_source: str
    surrogate_inputs: bool
    package_version: str
    finished_at: str
    version: int = OUTCOME_VERSION
    cpu_s: float = math.nan  # CPU time of this process for the search (wall time inflates under shared load)

    def search_key(self) -> tuple:
        """What determines the search's result: a rerun with the same key finds the same arch."""
        return (self.benchmark, self.dataset, self.fitness, self.fitness_version, self.algorithm, self.seed, self.init_seed,
                self.population, self.tournament, self.cycles, self.batch_size)


def outcomes_path(store: Path) -> Path:
    """Where the outcomes of searches using ``store`` are recorded."""
    store = Path(store)
    return store.with_name(store.stem + ".searches.jsonl")


def read_outcomes(path: Path) -> list[SearchOutcome]:
    """Every outcome recorded in ``path`` (a torn last line from a kill is skipped)."""
    if not Path(path).is_file():
        return []
    names = set(SearchOutcome.__dataclass_fields__)
    out = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
                out.append(SearchOutcome(**{k: v for k, v in entry.items() if k in names}))
            except (json.JSONDecodeError, TypeError):
                continue
    return out


def resolve_fitness(name: str) -> ProxySpec:
    """The proxy called ``name``, through the same resolution as ``run --proxies``.

    Only a proxy computed per network can be a fitness: an ensemble combines ranks over a
    whole population, and ``all`` is many proxies.
    """
    specs = resolve_proxies([name])
    if len(specs) != 1 or specs[0].derived_from:
        parts = ", ".join(s.name for s in specs)
        raise NasproxyError(f"--fitness {name!r} is not one per-network proxy (it stands for {parts}); "
                            "name a single proxy, see 'nasproxy-bench list'")
    return specs[0]


def to_fitness(spec: ProxySpec, record: Record) -> float:
    """Higher-is-better fitness of a stored record; anything but a finite ok score is ``-inf``."""
    if record.status != STATUS_OK or not math.isfinite(record.score):
        return -math.inf
    return spec.direction.sign() * record.score


@dataclass
class FitnessCounter:
    computed: int = 0
    reused: int = 0
    nonfinite: int = 0
    fitness_s: float = 0.0
    cache: dict[str, float] = field(default_factory=dict)


class StoredFitness:
    """Fitness of architectures: memoised, read from the store when held, else computed and stored."""

    def __init__(self, bench: Benchmark, dataset: Dataset, spec: ProxySpec, config: SearchConfig,
                 store: ResultStore, device: torch.device) -> None:
        self.bench, self.dataset, self.spec, self.config, self.store = bench, dataset, spec, config, store
        self.device = device
        self.build_device = model_device([spec], device)
        self.key = RunKey(bench.name, dataset.name, spec.name, stored_version(spec, bench.name), SEARCH_SAMPLE,
                          config.batch_size, config.proxy_seed)
        self.counter = FitnessCounter()
        self._batches: list[Batch] | None = None
        self.provenance: dict[str, object] = {}

    @property
    def batches(self) -> list[Batch]:
        if self._batches is None:
            n = self.spec.n_batches if self.spec.needs_data else 0
            self._batches = [b.to(self.device) for b in fixed_batches(
                self.config.data_root, self.dataset.name, self.config.proxy_seed, self.config.batch_size, n)]
            self.provenance = provenance(self.device, self._batches)
        return self._batches

    def _record(self, arch: str) -> Record:
        found = self.store.find(self.key, arch)
        if found is not None:
            self.counter.reused += 1
            record, prov = found
            self.provenance = self.provenance or dict(prov)
            if arch not in self.store.done(self.key):
                self.store.add(self.key, arch, record, prov)  # the search's own group lists every arch it saw
            return record
        batches = self.batches
        model = build_model(self.bench, arch, self.dataset.name, self.config.proxy_seed, self.build_device)
        ctx = ProxyContext(self.bench, arch, self.dataset, model, batches, self.config.proxy_seed, self.device,
                           frozenset({self.spec.name}))
        record = evaluate(self.spec, ctx)
        ctx.release()
        del ctx, model
        release_freed_memory()
        self.counter.computed += 1
        self.store.add(self.key, arch, record, self.provenance)
        self.store.maybe_checkpoint(self.config.checkpoint_s)
        return record

    def __call__(self, arch: str) -> float:
        if arch not in self.counter.cache:
            record = self._record(arch)
            value = to_fitness(self.spec, record)
            self.counter.nonfinite += not math.isfinite(value)
            self.counter.fitness_s += record.wall_s
            self.counter.cache[arch] = value
        return self.counter.cache[arch]


def _search(config: SearchConfig, bench: Benchmark, fitness: Callable[[str], float]) -> SearchTrace[str]:
    rng = random.Random(config.seed)
    if config.algorithm == "re":
        return regularized_evolution(bench.random_arch, bench.mutate, fitness, rng, population=config.population,
                                     tournament=config.tournament, cycles=config.cycles)
    return random_search(bench.random_arch, fitness, rng, evaluations=config.evaluations)


def check_config(config: SearchConfig, bench: Benchmark) -> None:
    if config.algorithm not in ALGORITHMS:
        raise NasproxyError(f"unknown search algorithm {config.algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
    if config.population < 1 or not 1 <= config.tournament <= config.population or config.cycles < 0:
        raise NasproxyError(f"need population >= 1, 1 <= tournament <= population and cycles >= 0; got "
                            f"{config.population}, {config.tournament}, {config.cycles}")
    if config.algorithm == "re":
        try:
            bench.mutate(bench.random_arch(random.Random(0)), random.Random(0))
        except NotImplementedError:
            raise NasproxyError(f"{bench.name} has no mutation operator yet; use --algorithm random") from None


def run_search(config: SearchConfig, store: ResultStore, bench: Benchmark | None = None) -> SearchOutcome:
    """One search on an open (writable) store; appends its outcome beside the store."""
    bench = bench or get_benchmark(config.benchmark)(config.data_root, trust_pickles=config.trust_pickles)
    dataset = bench.dataset(config.dataset)
    spec = resolve_fitness(config.fitness)
    check_config(config, bench)
    device = resolve_device(config.device)
    truth = bench.ground_truth(dataset.name)
    fitness = StoredFitness(bench, dataset, spec, config, store, device)
    start, cpu_start = time.perf_counter(), time.process_time()
    trace = _search(config, bench, fitness)
    wall_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    found_arch, found_fitness = trace.best
    visited = set(fitness.counter.cache)
    prov = fitness.provenance
    outcome = SearchOutcome(
        benchmark=bench.name, dataset=dataset.name, fitness=spec.name, fitness_version=stored_version(spec, bench.name),
        algorithm=config.algorithm, seed=config.seed, init_seed=config.proxy_seed, population=config.population,
        tournament=config.tournament, cycles=config.cycles, batch_size=config.batch_size,
        found_arch=found_arch, found_fitness=found_fitness, found_truth=float(truth.get(found_arch, math.nan)),
        truth_metric=dataset.metric().name, best_truth_seen=float(truth.reindex(sorted(visited)).max()),
        oracle_truth=float(truth.max()), evaluations=trace.evaluations, distinct_archs=len(visited),
        computed=fitness.counter.computed, reused=fitness.counter.reused, nonfinite=fitness.counter.nonfinite,
        wall_s=wall_s, fitness_s=fitness.counter.fitness_s, device=str(prov.get("device", config.device)),
        input_source=str(prov.get("input_source", "")), surrogate_inputs=bool(prov.get("surrogate_inputs", False)),
        package_version=str(prov.get("package_version", "")),
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), cpu_s=cpu_s,
    )
    store.checkpoint()
    path = outcomes_path(store.path)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(outcome)) + "\n")  # non-finite floats as NaN/-Infinity (Python's json reads them)
    return outcome


def config_key(config: SearchConfig, bench: Benchmark, spec: ProxySpec) -> tuple:
    """``SearchOutcome.search_key`` of the outcome this config will produce."""
    return (bench.name, config.dataset, spec.name, stored_version(spec, bench.name), config.algorithm, config.seed,
            config.proxy_seed, config.population, config.tournament, config.cycles, config.batch_size)


def run_searches(configs: list[SearchConfig]) -> Iterator[tuple[SearchOutcome, bool]]:
    """The searches in order, on one store held for writing throughout (the single-writer rule).

    Yields ``(outcome, recorded)``: a search whose outcome is already recorded beside the store
    is not run again (``recorded`` is True); an interrupted one resumes from its stored scores.
    """
    if not configs:
        return
    if len({(c.store, c.benchmark, c.data_root) for c in configs}) != 1:
        raise NasproxyError("all searches of one call must use one store and one benchmark")
    first = configs[0]
    bench = get_benchmark(first.benchmark)(first.data_root, trust_pickles=first.trust_pickles)
    for config in configs:  # every name and setting checked before the store is touched
        bench.dataset(config.dataset)
        resolve_fitness(config.fitness)
        check_config(config, bench)
    with ResultStore(first.store) as store:
        recorded = {o.search_key(): o for o in read_outcomes(outcomes_path(store.path))}
        for config in configs:
            held = recorded.get(config_key(config, bench, resolve_fitness(config.fitness)))
            if held is not None:
                yield held, True
            else:
                yield run_search(config, store, bench), False
