"""GPU throughput of `run` on NB201/CIFAR-10: architectures per second and GPU utilisation, per proxy set.

Phases (each its own fresh store under --out, so nothing is resumed):
  ref8   the eight measures of the reference zero-cost implementation (speed.REFERENCE_EIGHT)
  suite  every default proxy ('all')
  gennas GenNAS (gennas_single: 100 SGD iterations per network)

For each phase: wall time, steady-state architectures/s (from the first finished chunk to the last,
so worker start-up and imports are left out), the projected time for all 15,625 NB201 architectures,
and nvidia-smi samples (utilisation %, memory MiB) every 0.5 s while the phase runs. Writes
throughput.json and throughput.md to --out. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from nasproxy_bench.config import RunConfig, resolve_data_root
from nasproxy_bench.runner import make_executor, run
from nasproxy_bench.speed import REFERENCE_EIGHT

PHASES = {"ref8": list(REFERENCE_EIGHT), "suite": ["all"], "gennas": ["gennas_single"]}
NB201_SIZE = 15_625
GOAL_S = 15 * 60  # the goal: the whole default suite over all of NB201 in under 15 minutes


class GpuSampler:
    """nvidia-smi in the background, one CSV line per GPU every 500 ms."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> GpuSampler:
        if shutil.which("nvidia-smi"):
            self.process = subprocess.Popen(
                ["nvidia-smi", "--query-gpu=index,utilization.gpu,memory.used", "--format=csv,noheader,nounits", "-lms", "500"],
                stdout=self.path.open("w"), stderr=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def summary(self) -> dict[str, float]:
        if not self.path.exists() or not self.path.stat().st_size:
            return {}
        rows = np.array([[float(v) for v in line.split(",")] for line in self.path.read_text().splitlines() if line.strip()])
        return {"gpu_util_mean_pct": float(rows[:, 1].mean()), "gpu_util_p90_pct": float(np.percentile(rows[:, 1], 90)),
                "gpu_mem_max_mib": float(rows[:, 2].max()), "samples": int(len(rows))}


def measure(phase: str, args: argparse.Namespace, data_root: Path) -> dict[str, object]:
    config = RunConfig("nb201", "cifar10", PHASES[phase], n=args.n, batch_size=args.batch_size, device=args.device,
                       data_root=data_root, store=args.out / f"{phase}.h5", workers=args.workers, executor=args.executor,
                       gpus_per_worker=args.gpus_per_worker, checkpoint_s=float("inf"))
    done: list[tuple[float, int]] = []
    start = time.perf_counter()
    with GpuSampler(args.out / f"{phase}_nvidia_smi.csv") as sampler:
        executor = make_executor(config)
        try:
            summary = run(config, progress=False, executor=executor,
                          on_scored=lambda k: done.append((time.perf_counter(), k)))
        finally:
            executor.close()
    wall = time.perf_counter() - start
    first_t, first_k = done[0]
    steady = (sum(k for _, k in done) - first_k) / (done[-1][0] - first_t) if len(done) > 1 else args.n / wall
    result: dict[str, object] = {
        "phase": phase, "proxies": ",".join(PHASES[phase]), "n": args.n, "workers": args.workers, "executor": args.executor,
        "batch_size": args.batch_size, "wall_s": wall, "archs_per_s_steady": steady, "archs_per_s_overall": args.n / wall,
        "nb201_all_min_projected": NB201_SIZE / steady / 60, "errors": summary.errors, **sampler.summary(),
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=300, help="architectures per phase (default 300)")
    parser.add_argument("--workers", type=int, default=4, help="worker processes sharing the GPU(s) (default 4)")
    parser.add_argument("--executor", choices=["local", "ray"], default="local")
    parser.add_argument("--gpus-per-worker", type=float, default=None, help="Ray GPU share per worker, e.g. 0.25")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda", help="cpu only to smoke-test this script")
    parser.add_argument("--phases", default="ref8,suite,gennas")
    parser.add_argument("--data-root")
    parser.add_argument("--out", type=Path, default=Path("results/gpu_throughput"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data_root = resolve_data_root(args.data_root)
    results = [measure(phase, args, data_root) for phase in args.phases.split(",")]
    (args.out / "throughput.json").write_text(json.dumps(results, indent=1))
    lines = ["| phase | workers | n | archs/s (steady) | all 15,625 NB201 (min) | GPU util mean / p90 % | GPU mem max MiB |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['phase']} | {r['workers']} | {r['n']} | {r['archs_per_s_steady']:.2f} | {r['nb201_all_min_projected']:.1f} | "
                     f"{r.get('gpu_util_mean_pct', float('nan')):.0f} / {r.get('gpu_util_p90_pct', float('nan')):.0f} | "
                     f"{r.get('gpu_mem_max_mib', float('nan')):.0f} |")
    suite = next((r for r in results if r["phase"] == "suite"), None)
    if suite is not None:
        lines.append(f"\nGoal: whole default suite over all NB201 in {GOAL_S // 60} min -> "
                     f"{'reached' if float(suite['nb201_all_min_projected']) * 60 < GOAL_S else 'not reached'} "
                     f"({suite['nb201_all_min_projected']:.1f} min projected)")
    (args.out / "throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
