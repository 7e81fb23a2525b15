"""Tiny NDS files in the official JSON format, written by the tests themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TINY_CELL_NET = {
    "aux": False, "depth": 3, "drop_prob": 0.0, "width": 2,
    "genotype": {
        "normal": [["sep_conv_3x3", 0], ["skip_connect", 1]], "normal_concat": [2],
        "reduce": [["max_pool_3x3", 0], ["conv_1x1", 1]], "reduce_concat": [2],
    },
}
TINY_BASIC_NET = {"block_type": "res_basic_block", "bot_muls": [], "ds": [1, 1], "num_gs": [], "ss": [1, 2], "ws": [4, 8]}
TINY_BOTTLENECK_NET = {
    "block_type": "res_bottleneck_block", "bot_muls": [1.0, 0.5], "ds": [1, 1], "num_gs": [1, 2], "ss": [1, 1], "ws": [4, 8],
}
OPTIM = {"base_lr": 0.1, "iter_lr": False, "lr_policy": "cos", "max_ep": 3, "mom": 0.9, "wd": 5e-05}


def entry(net: dict[str, Any], errors: list[float], *, params: int = 1, flops: int = 1, optim: dict | None = None,
          seed: int = 1) -> dict[str, Any]:
    return {
        "job_id": f"j{seed}", "rng_seed": seed, "params": params, "flops": flops, "net": net,
        "optim": optim or OPTIM, "test_ep_top1": errors, "min_test_top1": min(errors),
        "train_ep_loss": [1.0] * len(errors), "train_ep_top1": errors,
    }


def with_width(net: dict[str, Any], width: int) -> dict[str, Any]:
    return {**net, "width": width}


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path
