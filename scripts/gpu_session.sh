#!/bin/bash
# One device call, prepared ahead: (1) per-architecture cost on the idle GPU (`bench`), then
# (2) the long GenNAS and TransNAS runs side by side on the GPU until a deadline. Every run
# writes its own resumable store; stores, logs and GPU samples are packed into
# $OUT/gpu_session.tar.gz, which `merge`/`report` read back on the CPU machine.
#
# Usage (repo root of the device machine; the data root holds the NB201/NB101/NDS/TransNAS/NB-NLP
# tables and the CIFAR/PTB inputs):
#   DATA=.gpudata [RESUME=store.h5] [RESUME_DIR=dir] [JOBS="name ..."] scripts/gpu_session.sh [DEADLINE_S, default 480]
# RESUME: every run starts from a copy of that store; RESUME_DIR: run NAME starts from DIR/NAME.h5 or
# DIR/NAME.h5.xz where one exists (so GPU sessions add up; give it GPU stores only: a store keeps
# one device's records, docs/stores/README.md). JOBS: the runs to start (names as in
# part 2, shell patterns allowed; default the GenNAS runs, two TransNAS tasks and NB-NLP --proxies all:
# 9 runs, 17 processes; "e2e_gennas_combo_*" the ten GenNAS end-to-end searches of Table 3).
# A CPU dry run of the same script: DEVICE=cpu N=3 NT=2 BENCH_N=1 scripts/gpu_session.sh 120
# (BENCH=0 skips part 1; E2E_POPULATION / E2E_TOURNAMENT / E2E_CYCLES shrink the searches)
# Preparing .gpudata on the CPU machine (about 70 MB; list it in .git/info/exclude, pass it to the
# device tool's `carry`): copy benchmarks/{nb201,nb101,nds,transnas,nbnlp} and inputs/cifar-10-batches-py,
# inputs/cifar-100-python, inputs/ptb from the data root, then
#   python -m nasproxy_bench.adapters.transnas.reference micro .gpudata/tnb101_micro_ref.csv
#   python -m nasproxy_bench.adapters.transnas.reference macro .gpudata/tnb101_macro_ref.csv
set -u
T0=$(date +%s)
DEADLINE=${1:-480}                 # seconds after start at which the runs are stopped (SIGTERM: stores close)
DEVICE=${DEVICE:-cuda}
N=${N:-1000}                       # GenNAS sample size
NT=${NT:-200}                      # TransNAS sample size (first NT of NASLib's reference subset)
BENCH_N=${BENCH_N:-3}
OUT=${OUT:-results/gpu_session}
PY=${PY:-python3}
W=$(mktemp -d)/gpu_session
mkdir -p "$W/stores" "$W/logs" "$OUT"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 NASPROXY_DATA=${DATA:-$PWD/.gpudata}
export PYTHONWARNINGS=ignore
# The package without pip (no registry there): adapters/ is installed as nasproxy_bench.adapters.
PKG=$(mktemp -d)
cp -r nasproxy_bench "$PKG/" && rm -rf "$PKG/nasproxy_bench/adapters" && mkdir -p "$PKG/nasproxy_bench/adapters" && cp -r adapters/. "$PKG/nasproxy_bench/adapters/"
export PYTHONPATH=$PKG
NPB=("$PY" -P -m nasproxy_bench.cli)  # -P: the repo root (no adapters inside the package) must not shadow $PKG
left() { local s=$(( DEADLINE - ($(date +%s) - T0) )); echo $(( s > 1 ? s : 1 )); }
stamp() { echo "[$(( $(date +%s) - T0 )) s] $*" | tee -a "$W/logs/session.txt"; }

stamp "start; device $DEVICE, deadline $DEADLINE s, data $NASPROXY_DATA"
{ nvidia-smi 2>&1 | head -20; "$PY" -c "import sys, torch; print(sys.version); print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name() if torch.cuda.is_available() else '-')"; nproc --all; free -g; } > "$W/logs/env.txt" 2>&1
cat "$W/logs/env.txt"

# -- 1. cost per architecture, GPU otherwise idle ------------------------------------------------
bench() {  # name cap args...  (BENCH=0 skips part 1: a later session that measured it already, a dry run)
  local name=$1 cap=$2; shift 2
  [ "${BENCH:-1}" = 0 ] && return 0
  stamp "bench $name"
  timeout "$cap" "${NPB[@]}" bench --device "$DEVICE" --n "$BENCH_N" --store "$W/stores/bench.h5" --out "$W/bench_$name.md" "$@" \
    > "$W/logs/bench_$name.log" 2>&1 || stamp "bench $name rc $?"
}
# (bench writes its table only at the end: each cap leaves room for BENCH_N architectures)
bench nb201_gennas 60 --benchmark nb201 --dataset cifar10 --proxies gennas_combo --batch-size 16
bench nb201_suite 60 --benchmark nb201 --dataset cifar10 --proxies all
bench nb101_gennas 40 --benchmark nb101 --dataset cifar10 --proxies gennas_combo_w16 --batch-size 16

# -- 2. long runs side by side ------------------------------------------------------------------
# MPS lets the many small kernels of several processes share the GPU; if it does not come up, the
# runs go on without it (time-sliced).
if [ "$DEVICE" = cuda ] && [ "${MPS:-1}" = 1 ] && command -v nvidia-cuda-mps-control > /dev/null; then
  export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps_pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps_log
  mkdir -p /tmp/mps_pipe /tmp/mps_log
  # "already running" (a daemon left by an earlier call on this warm machine) is fine: the client check decides
  nvidia-cuda-mps-control -d >> "$W/logs/session.txt" 2>&1
  if timeout 40 "$PY" -c "import torch; print('mps client ok', float(torch.ones(4, device='cuda').sum()))" >> "$W/logs/session.txt" 2>&1; then
    stamp "MPS on"
  else
    echo quit | timeout 10 nvidia-cuda-mps-control; sleep 1
    unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
    stamp "MPS failed; plain CUDA: $(timeout 30 "$PY" -c "import torch; print(float(torch.ones(4, device='cuda').sum()))" 2>&1 | tail -1)"
  fi
fi
SAMPLER=""
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader,nounits -lms 1000 > "$W/logs/gpu_samples.csv" 2>/dev/null &
  SAMPLER=$!
fi
selected() {  # name: is it one of $JOBS (words; shell patterns allowed, e.g. "e2e_*")?
  local pattern patterns
  read -ra patterns <<< "$JOBS"  # read, not word splitting: a pattern is not expanded against files here
  for pattern in "${patterns[@]}"; do [[ $1 == $pattern ]] && return 0; done
  return 1
}
resume() {  # name: start the run's store from a committed one (docs/stores/), so GPU sessions add up
  local name=$1
  if [ -n "${RESUME_DIR:-}" ] && [ -f "$RESUME_DIR/$name.h5" ]; then cp "$RESUME_DIR/$name.h5" "$W/stores/$name.h5"
  elif [ -n "${RESUME_DIR:-}" ] && [ -f "$RESUME_DIR/$name.h5.xz" ]; then xz -dc "$RESUME_DIR/$name.h5.xz" > "$W/stores/$name.h5"
  elif [ -n "${RESUME:-}" ]; then cp "$RESUME" "$W/stores/$name.h5"; fi
}
job() {  # name command run-args...  (command: run or search)
  local name=$1 command=$2; shift 2
  selected "$name" || return 0
  stamp "start $name"
  resume "$name"
  local progress=--no-progress
  [ "$command" = search ] && progress=""
  timeout "$(left)" "${NPB[@]}" "$command" --device "$DEVICE" $progress --store "$W/stores/$name.h5" "$@" > "$W/logs/$name.log" 2>&1 &
}
JOBS=${JOBS:-"nb201_c10_presets nb201_c10_search_n nb201_c100_presets nb201_in16_presets nb101_gennas nds_resnext_a_single tnb_micro_segmentsemantic tnb_micro_autoencoder nbnlp_all"}
G="--batch-size 16 --n $N"
job nb201_c10_presets run --benchmark nb201 --dataset cifar10 --proxies gennas_single,gennas_combo $G --workers 5
job nb201_c10_search_n run --benchmark nb201 --dataset cifar10 --proxies gennas_search_n $G
job nb201_c100_presets run --benchmark nb201 --dataset cifar100 --proxies gennas_single,gennas_combo $G --workers 2
job nb201_in16_presets run --benchmark nb201 --dataset ImageNet16-120 --proxies gennas_single,gennas_combo $G --workers 2
job nb101_gennas run --benchmark nb101 --dataset cifar10 --proxies gennas_single_w16,gennas_combo_w16,gennas_search_n $G --workers 3
job nds_resnext_a_single run --benchmark nds_resnext-a --dataset imagenet-32 --proxies gennas_single --batch-size 16 --n 130
T="--proxies all --batch-size 8 --n $NT"
for space in micro macro; do
  for task in autoencoder class_object class_scene jigsaw normal room_layout segmentsemantic; do
    job tnb_${space}_$task run --benchmark tnb101_$space --dataset $task --arch-list "$NASPROXY_DATA/tnb101_${space}_ref.csv" $T
  done
done
job nbnlp_all run --benchmark nbnlp --dataset ptb --proxies all --n 500 --batch-size 64
job nbnlp_gennas run --benchmark nbnlp --dataset ptb --proxies gennas_rnn_single,gennas_rnn_combo --n 1000 --workers 2
# GenNAS Table 2's NDS ImageNet rows other than ResNeXt-A (not in the default JOBS: "nds_*_combo")
for space in amoeba darts darts_fix-w-d enas nasnet pnas resnext-b; do
  job nds_${space}_combo run --benchmark nds_$space --dataset imagenet-32 --proxies gennas_combo --batch-size 16 --n 130 --workers 2
done
# GenNAS Table 3 (end-to-end search, NB201 CIFAR-10): one process per search seed, each its own store
# (scores and the outcome file beside it); a search stopped by the deadline resumes from its store's
# cached scores. Not in the default JOBS: select with JOBS="e2e_*" (about 450 evaluations per seed).
for seed in 0 1 2 3 4 5 6 7 8 9; do
  for fitness in gennas_combo naswot synflow; do
    job e2e_${fitness}_s$seed search --benchmark nb201 --dataset cifar10 --fitness $fitness --seeds $seed \
      --batch-size 16 --population "${E2E_POPULATION:-50}" --tournament "${E2E_TOURNAMENT:-10}" --cycles "${E2E_CYCLES:-400}"
  done
done
wait $(jobs -p | grep -v "^${SAMPLER:-x}$")
[ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
stamp "runs stopped"

# -- 3. pack -----------------------------------------------------------------------------------
for f in "$W"/logs/*.log; do echo "== $(basename "$f")"; tail -n 4 "$f"; done > "$W/logs/tails.txt" 2>&1
cat "$W/logs/tails.txt"
stamp "packing"
tar czf "$OUT/gpu_session.tar.gz" -C "$(dirname "$W")" gpu_session
cp "$W/logs/session.txt" "$W/logs/tails.txt" "$OUT/" 2>/dev/null
cat "$W"/bench_*.md > "$OUT/bench.md" 2>/dev/null
ls -la "$OUT"
stamp "done"
