"""Evaluate proxies over a seeded architecture sample and record every score in the store."""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from nasproxy_bench import __version__
from nasproxy_bench.benchmark import Benchmark, Dataset
from nasproxy_bench.config import RunConfig
from nasproxy_bench.errors import NasproxyError, UnsupportedNetwork
from nasproxy_bench.execution import Chunk, ChunkRunner, LocalPoolExecutor, SequentialExecutor
from nasproxy_bench.execution.chunk import chunked
from nasproxy_bench.execution.ray_executor import RayExecutor
from nasproxy_bench.inputs import Batch
from nasproxy_bench.memory import high_water_mib, rss_mib
from nasproxy_bench.proxies.base import ProxyContext, ProxySpec
from nasproxy_bench.registry import get_benchmark, get_proxy, stored_version
from nasproxy_bench.store import STATUS_ERROR, STATUS_OK, STATUS_UNSUPPORTED, Record, ResultStore, RunKey
from nasproxy_bench.tasks import default_io


@dataclass
class RunSummary:
    computed: int = 0
    skipped: int = 0
    errors: int = 0
    peak_rss_mib: float = 0.0  # high-water mark of the scoring processes (inside evaluations)
    settled_rss_mib: float = 0.0  # largest resident memory sampled after an architecture


def resolve_device(name: str) -> torch.device:
    if name not in ("cpu", "cuda"):
        raise NasproxyError(f"unknown device {name!r}; use cpu or cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise NasproxyError("--device cuda given but torch sees no CUDA GPU; use --device cpu")
    if name == "cuda":
        # A score must not depend on the GPU generation: TF32 (on by default for cuDNN convolutions
        # from Ampere on) rounds float32 products to a 10-bit mantissa.
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    return torch.device(name)


def resolve_proxies(names: Iterable[str]) -> list[ProxySpec]:
    """The per-network proxies to run; an ensemble contributes its constituents instead.

    ``all`` is every registered proxy except the opt-in (expensive) ones; name those explicitly,
    e.g. ``all,ntk_cond_full``.
    """
    from nasproxy_bench.registry import proxies

    requested: list[ProxySpec] = []
    for name in names:
        if name == "all":
            requested.extend(spec for spec in proxies().values() if not spec.opt_in)
        else:
            requested.append(get_proxy(name))
    out: dict[str, ProxySpec] = {}
    for spec in requested:
        for part in [get_proxy(n) for n in spec.derived_from] if spec.derived_from else [spec]:
            out.setdefault(part.name, part)
    return list(out.values())


def as_score(value: object) -> float:
    """A proxy's return value as a float; ``TypeError`` unless it is one real number.

    Accepted: int, float, numpy real scalars, one-element real tensors/arrays. Refused: None,
    strings (even '1.5'), bools (a yes/no is not a score: return 0.0/1.0), complex numbers.
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_complex():
        value = value.item()
    elif isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"returned {type(value).__name__} {str(value)[:40]!r}, expected a number")
    return float(value)


def one_line(exc: BaseException) -> str:
    """An exception as one line of a record's message."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


def evaluate(spec: ProxySpec, ctx: ProxyContext) -> Record:
    """One proxy on one architecture, as a store record.

    Any failure of the proxy on this network (a built-in or a plugin: KeyError, TypeError, a
    non-number returned, ...) becomes an ``error`` record with a one-line message and the run
    goes on. Not caught: ``KeyboardInterrupt``/``SystemExit`` (interrupts) and ``NasproxyError``
    (a problem with the user's setup that every architecture would hit).
    """
    if ctx.dataset.task not in spec.tasks:
        return Record(math.nan, 0.0, STATUS_UNSUPPORTED, f"{spec.name} does not support {ctx.dataset.task.value}")
    start = time.perf_counter()
    try:
        score = as_score(spec.fn(ctx))
    except UnsupportedNetwork as exc:
        return Record(math.nan, time.perf_counter() - start, STATUS_UNSUPPORTED, str(exc))
    except NasproxyError:
        raise
    except Exception as exc:  # one failing network must not end a run of thousands
        return Record(math.nan, time.perf_counter() - start, STATUS_ERROR, one_line(exc))
    return Record(score, time.perf_counter() - start, STATUS_OK)


def task_batches(dataset: Dataset, data_root: Path, seed: int, batch_size: int, count: int) -> list[Batch]:
    """The fixed minibatches of a run, from the dataset's task (none where it declares no task)."""
    io = dataset.io or default_io(dataset.task)
    return io.batches(data_root, dataset.name, seed, batch_size, count) if io and count else []


LIST_SAMPLE = -1  # store key of runs over a user-given architecture list


def canonical_list(benchmark: Benchmark, texts: Iterable[str]) -> list[str]:
    """Canonical strings of user-given architectures; a malformed one is a one-line error."""
    out = []
    for number, text in enumerate(texts, start=1):
        try:
            out.append(benchmark.canonical(benchmark.parse(text)))
        except ValueError as exc:
            raise NasproxyError(f"architecture {number} of the list is malformed: {exc}") from None
    known = set(benchmark.archs())
    missing = [a for a in out if a not in known]
    if missing:
        raise NasproxyError(f"{len(missing)} listed architectures have no ground truth in {benchmark.name}, e.g. {missing[0]}")
    return list(dict.fromkeys(out))


def build_model(benchmark: Benchmark, arch: str, dataset: str, seed: int, device: torch.device) -> torch.nn.Module:
    """The network every proxy of a run sees: initialised from ``seed``, in train mode.

    On the ``meta`` device the network has shapes but no values (no memory, no init): enough
    for structural proxies, and much faster to build.
    """
    if device.type == "meta":
        with torch.device("meta"):
            return benchmark.build(arch, dataset).train()
    torch.manual_seed(seed)
    return benchmark.build(arch, dataset).to(device).train()


def model_device(specs: list[ProxySpec], device: torch.device) -> torch.device:
    """``meta`` when every proxy only needs the network's structure, else the run's device."""
    return torch.device("meta") if all(s.family == "structural" for s in specs) else device


def provenance(device: torch.device, batches: list[Batch]) -> dict[str, object]:
    source = batches[0].source if batches else "none"
    return {
        "package_version": __version__,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        # CPU threads of the writing process: float summation order, so trained proxies (GenNAS) differ between counts
        "torch_threads": torch.get_num_threads(),
        "input_source": source,
        "surrogate_inputs": bool(batches and batches[0].surrogate),
    }


def require_seeds(seeds: list[int]) -> None:
    """One-line refusal of an empty seed list (``--seeds ''``), for every command that takes seeds."""
    if not seeds:
        raise NasproxyError("no seeds given (--seeds is empty); give at least one, e.g. --seeds 0 or --seeds 0-4")


def check_run_size(config: RunConfig, benchmark: Benchmark) -> None:
    """Refuse runs that would compute nothing or not what was asked (one-line errors)."""
    require_seeds(config.seeds)
    if config.arch_list is None and config.n is not None and config.n > len(benchmark):
        raise NasproxyError(
            f"--n {config.n} is more than the {len(benchmark):,} architectures of {benchmark.name}; "
            "use --full to evaluate every architecture"
        )


Executor = SequentialExecutor | LocalPoolExecutor | RayExecutor


def make_executor(config: RunConfig, benchmark: Benchmark | None = None) -> Executor:
    """In-process for ``workers == 1`` (reusing the loaded benchmark), else a local process pool; or Ray actors."""
    if config.workers < 1:
        raise NasproxyError(f"--workers {config.workers}: give at least 1")
    if config.executor not in ("local", "ray"):
        raise NasproxyError(f"unknown executor {config.executor!r}; use local or ray")
    if config.address is not None and config.executor != "ray":
        raise NasproxyError("--address is the address of a Ray cluster; add --executor ray")
    share = config.gpus_per_worker
    if share is not None and (share <= 0 or config.device != "cuda"):
        raise NasproxyError(f"--gpus-per-worker {share}: give a positive GPU share, with --device cuda")
    if config.executor == "ray":
        gpus = (1.0 if share is None else share) if config.device == "cuda" else 0.0
        return RayExecutor(config.workers, address=config.address, plugins=config.plugins, gpus_per_worker=gpus)
    if config.workers == 1:
        return SequentialExecutor(ChunkRunner(benchmark))
    cuda_devices = torch.cuda.device_count() if config.device == "cuda" else 0
    return LocalPoolExecutor(config.workers, plugins=config.plugins, cuda_devices=cuda_devices)


def run(config: RunConfig, *, progress: bool = True, executor: Executor | None = None,
        on_scored: Callable[[int], None] | None = None) -> RunSummary:
    """Score ``config``'s sample and store every record; resumes from the store.

    ``executor`` lets several runs (``run --all``) share one pool of workers; without it the run
    makes its own and closes it at the end. ``on_scored(k)`` is told of each k architectures done.
    """
    benchmark = get_benchmark(config.benchmark)(config.data_root, trust_pickles=config.trust_pickles)
    dataset = benchmark.dataset(config.dataset)
    specs = resolve_proxies(config.proxies)
    resolve_device(config.device)
    check_run_size(config, benchmark)
    if config.arch_list is not None:
        archs, sample_seed = canonical_list(benchmark, config.arch_list)[: config.n], LIST_SAMPLE
    else:
        archs, sample_seed = benchmark.sample(config.n, config.sample_seed), config.sample_seed
    own_executor = executor is None
    if executor is None:
        executor = make_executor(config, benchmark)
    try:
        return _run(config, benchmark, dataset, specs, archs, sample_seed, executor, progress, on_scored)
    finally:
        if own_executor:
            executor.close()


def _needs_score(done: dict[str, Record], arch: str, retry_errors: bool) -> bool:
    record = done.get(arch)
    return record is None or (retry_errors and record.status == STATUS_ERROR)


def _run(config: RunConfig, benchmark: Benchmark, dataset: Dataset, specs: list[ProxySpec], archs: list[str],
         sample_seed: int, executor: Executor, progress: bool, on_scored: Callable[[int], None] | None) -> RunSummary:
    from nasproxy_bench.gennas.proxies import task_documents

    summary = RunSummary()
    with ResultStore(config.store) as store:
        for seed in config.seeds:
            keys = {
                s.name: RunKey(benchmark.name, dataset.name, s.name, stored_version(s, benchmark.name), sample_seed,
                               config.batch_size, seed)
                for s in specs
            }
            for key in keys.values():  # scores a search or another sample already computed
                store.adopt(key, archs)
            todo = [(a, tuple(s.name for s in specs if _needs_score(store.done(keys[s.name]), a, config.retry_errors)))
                    for a in archs]
            todo = [(a, names) for a, names in todo if names]
            summary.skipped += len(archs) - len(todo)
            if on_scored is not None and len(archs) > len(todo):
                on_scored(len(archs) - len(todo))
            if not todo:
                continue
            names = tuple(s.name for s in specs)
            chunks = [
                Chunk(benchmark.name, config.data_root, config.trust_pickles, dataset.name, seed, config.batch_size,
                      config.device, names, piece, task_documents(names))
                for piece in chunked(todo, executor.chunk_size(len(todo)))
            ]
            bar = tqdm(total=len(todo), desc=f"{benchmark.name}/{dataset.name} seed {seed}", disable=not progress, unit="arch",
                       leave=on_scored is None)
            with bar:
                for chunk, result in executor.run(chunks):  # only this process writes the store
                    prov = result.provenance or _failed_chunk_provenance(store, keys)
                    for scored in result.records:
                        store.add(keys[scored.proxy], scored.arch, scored.record, prov)
                        summary.computed += 1
                        summary.errors += scored.record.status == STATUS_ERROR
                    summary.peak_rss_mib = max(summary.peak_rss_mib, high_water_mib(), result.peak_rss_mib)
                    summary.settled_rss_mib = max(summary.settled_rss_mib, rss_mib(), result.settled_rss_mib)
                    store.maybe_checkpoint(config.checkpoint_s)
                    bar.update(len(chunk.todo))
                    if on_scored is not None:
                        on_scored(len(chunk.todo))
    return summary


def _failed_chunk_provenance(store: ResultStore, keys: dict[str, RunKey]) -> dict[str, object]:
    """Provenance for records of a chunk no worker finished: that of the run's groups, if any."""
    for key in keys.values():
        group = store.groups.get(key.path)
        if group is not None and group.provenance:
            return {k: v for k, v in group.provenance.items() if k not in RunKey.__dataclass_fields__}
    return {"package_version": __version__, "torch_version": torch.__version__}


__all__ = ["run", "RunSummary", "evaluate", "build_model", "STATUS_OK"]
