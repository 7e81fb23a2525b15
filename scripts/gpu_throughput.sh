#!/bin/bash
# One call on a GPU machine: NB201/CIFAR-10 throughput (archs/s) and GPU utilisation for the reference
# 8 proxies, the whole default suite and GenNAS, at 1 and at several workers per GPU.
# Needs NASPROXY_DATA (NB201 table + CIFAR-10 inputs). Results: $OUT (or results/gpu_throughput)/w*/throughput.{md,json}.
# Usage: scripts/gpu_throughput.sh [N per phase, default 300] [worker counts, default "1 4"]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
N=${1:-300}
OUT_DIR=${OUT:-results/gpu_throughput}
mkdir -p "$OUT_DIR"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT_DIR.gpu.txt" 2>/dev/null || true
for W in ${2:-1 4}; do
  mkdir -p "$OUT_DIR/w$W"
  "$PY" scripts/gpu_throughput.py --n "$N" --workers "$W" --out "$OUT_DIR/w$W" 2>&1 | grep -v Warning | tee "$OUT_DIR/w$W/log.txt"
done
