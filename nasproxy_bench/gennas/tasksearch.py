"""Proxy-task search (paper Sec. 3.2, App. A.2.2): regularized evolution over task documents.

The search space follows the public code (``utils/config_generator.py``): noise type
(gaussian/uniform) and level 0.0..0.9; per stage a channel count 64 x {0.25 .. 1.5}; per stage
and per base kind (sin1d, sin2d, dot, gdot, resize) a slot that is empty or holds one tensor
of that base spanning all the stage's channels (present slots are summed) with a level in
0.5..2.9, and for sin bases 10 frequencies drawn uniformly from [a, b], 0 <= a < b <= 0.5,
for dot bases a pixel fraction k/64, and local or global. Ours in addition: a sin phase is
random per map (the public code) or fixed at a multiple of pi/4. Mutation regenerates each
block (noise, a stage's channels, a slot) with probability 0.2 (public code mutate_ratio 0.8).

Candidates are canonical task JSON strings (hashable, and what gets written to disk).
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

from nasproxy_bench.gennas.task import N_STAGES, SCHEMA, VERSION, parse_task, task_to_doc

KINDS = ("sin1d", "sin2d", "dot", "gdot", "resize")
CHANNEL_FACTORS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5)
NOISE_LEVELS = tuple(round(0.1 * k, 1) for k in range(10))
LEVELS = tuple(round(0.5 + 0.1 * k, 1) for k in range(25))
MUTATE_P = 0.2


def _slot(kind: str, channels: int, rng: random.Random) -> dict[str, Any] | None:
    if rng.random() < 0.5:
        return None
    base: dict[str, Any] = {"base": kind, "channels": channels, "level": rng.choice(LEVELS)}
    if kind != "resize":
        base["local"] = rng.random() < 0.5
    if kind in ("sin1d", "sin2d"):
        a, b = sorted((rng.random() * 0.5, rng.random() * 0.5))
        base["frequencies"] = [round(rng.uniform(a, b), 6) for _ in range(10)]
        base["phase"] = "random" if rng.random() < 0.5 else round(rng.randrange(8) * math.pi / 4, 6)
    if kind in ("dot", "gdot"):
        base["fraction"] = rng.randint(1, 64) / 64
    return base


def _genome(rng: random.Random) -> dict[str, Any]:
    stages = []
    for _ in range(N_STAGES):
        channels = int(64 * rng.choice(CHANNEL_FACTORS))
        stages.append({"channels": channels, "slots": {k: _slot(k, channels, rng) for k in KINDS}})
    return {"noise": {"type": rng.choice(("gaussian", "uniform")), "level": rng.choice(NOISE_LEVELS)}, "stages": stages}


def _doc(genome: dict[str, Any]) -> dict[str, Any]:
    stages = [{"tensors": [[{**slot, "channels": s["channels"]}] for slot in s["slots"].values() if slot]}
              for s in genome["stages"]]
    noise = genome["noise"] if genome["noise"]["level"] > 0 else {"type": "none", "level": 0.0}
    return {"schema": SCHEMA, "version": VERSION, "name": "searched", "noise": noise, "stages": stages}


def _encode(genome: dict[str, Any]) -> str:
    return json.dumps(task_to_doc(parse_task(_doc(genome))), sort_keys=True)


def _genome_of(candidate: str) -> dict[str, Any]:
    doc = json.loads(candidate)
    stages = []
    for i, stage in enumerate(doc["stages"]):
        slots: dict[str, Any] = {k: None for k in KINDS}
        for tensor in stage["tensors"]:
            slots[tensor[0]["base"]] = dict(tensor[0])
        channels = stage["tensors"][0][0]["channels"] if stage["tensors"] else 64
        stages.append({"channels": channels, "slots": slots, "index": i})
    return {"noise": doc["noise"], "stages": stages}


def sample_task(rng: random.Random) -> str:
    """A random task (resampled until at least one stage has a tensor)."""
    while True:
        genome = _genome(rng)
        if any(any(s["slots"].values()) for s in genome["stages"]):
            return _encode(genome)


def mutate_task(candidate: str, rng: random.Random) -> str:
    """Regenerate each block with probability 0.2; retried until the child differs and is valid."""
    for _ in range(100):
        genome = _genome_of(candidate)
        if rng.random() < MUTATE_P:
            genome["noise"] = {"type": rng.choice(("gaussian", "uniform")), "level": rng.choice(NOISE_LEVELS)}
        for stage in genome["stages"]:
            if rng.random() < MUTATE_P:
                stage["channels"] = int(64 * rng.choice(CHANNEL_FACTORS))
                for slot in stage["slots"].values():
                    if slot:
                        slot["channels"] = stage["channels"]
            for kind in KINDS:
                if rng.random() < MUTATE_P:
                    stage["slots"][kind] = _slot(kind, stage["channels"], rng)
        if any(any(s["slots"].values()) for s in genome["stages"]):
            child = _encode(genome)
            if child != candidate:
                return child
    return sample_task(rng)
