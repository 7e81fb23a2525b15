"""NDS architectures: the official ``net`` dicts, validated, and their canonical strings.

Two kinds of ``net`` exist in the official JSON:

- a cell net: ``{"genotype": {"normal": [[op, input], ...], "normal_concat": [...], "reduce": ...,
  "reduce_concat": ...}, "width": C, "depth": cells, "aux": bool, "drop_prob": p}``;
- an AnyNet: ``{"block_type": ..., "ds": [...], "ws": [...], "ss": [...], "bot_muls": [...],
  "num_gs": [...]}``, one entry per stage where entry 0 describes the stem (depth 1, width,
  stride); ``num_gs`` is a number of groups (not a group width); ``bot_muls``/``num_gs`` are
  empty for blocks without bottleneck.

The canonical string is the JSON of the net with sorted keys and no spaces (Python floats
print exactly, so parsing and printing round-trips). In the ``lr-wd`` spaces, one entry is a
(net, training recipe) pair and the string is ``{"net": ..., "optim": ...}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from nasproxy_bench.adapters.nds.ops import OPS

BLOCK_TYPES = ("res_basic_block", "res_bottleneck_block", "double_plain_block", "vanilla_block")
BOTTLENECK_BLOCKS = ("res_bottleneck_block",)
STEM_STRIDES = (1, 2, 4, 8)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ValueError(f"{what} must be an integer, got {value!r}")
    return int(value)


def _cell(ops: Any, concat: Any, which: str) -> tuple[tuple[tuple[str, int], ...], tuple[int, ...]]:
    if not isinstance(ops, list) or not ops or len(ops) % 2:
        raise ValueError(f"genotype {which!r} must be a non-empty list of [op, input] pairs, two per node")
    parsed = []
    for k, pair in enumerate(ops):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValueError(f"genotype {which}[{k}] must be [op, input], got {pair!r}")
        name, index = pair[0], _int(pair[1], f"input of genotype {which}[{k}]")
        if name not in OPS:
            raise ValueError(f"unknown NDS operation {name!r} in genotype {which}; expected one of {', '.join(OPS)}")
        if not 0 <= index < 2 + k // 2:
            raise ValueError(f"genotype {which}[{k}] reads state {index}, but node {k // 2} sees only states 0..{1 + k // 2}")
        parsed.append((name, index))
    if not isinstance(concat, list) or not concat:
        raise ValueError(f"genotype {which}_concat must be a non-empty list of state indices")
    states = 2 + len(ops) // 2
    out = tuple(_int(i, f"{which}_concat entry") for i in concat)
    if any(not 0 <= i < states for i in out):
        raise ValueError(f"genotype {which}_concat {list(out)} names states outside 0..{states - 1}")
    return tuple(parsed), out


@dataclass(frozen=True)
class CellArch:
    normal: tuple[tuple[str, int], ...]
    normal_concat: tuple[int, ...]
    reduce: tuple[tuple[str, int], ...]
    reduce_concat: tuple[int, ...]
    width: int
    depth: int
    aux: bool = False
    drop_prob: float = 0.0

    @classmethod
    def from_net(cls, net: dict[str, Any]) -> CellArch:
        genotype = net.get("genotype")
        if not isinstance(genotype, dict):
            raise ValueError("cell net has no 'genotype' dict")
        missing = {"normal", "normal_concat", "reduce", "reduce_concat"} - set(genotype)
        if missing:
            raise ValueError(f"genotype lacks {sorted(missing)}")
        normal, normal_concat = _cell(genotype["normal"], genotype["normal_concat"], "normal")
        reduce, reduce_concat = _cell(genotype["reduce"], genotype["reduce_concat"], "reduce")
        width, depth = _int(net.get("width"), "width"), _int(net.get("depth"), "depth")
        if width <= 0 or width % 2:
            raise ValueError(f"width must be a positive even number, got {width}")
        if depth < 3:
            raise ValueError(f"depth must be at least 3 (two reduction cells), got {depth}")
        return cls(normal, normal_concat, reduce, reduce_concat, width, depth, bool(net.get("aux", False)),
                   float(net.get("drop_prob", 0.0)))

    def to_net(self) -> dict[str, Any]:
        return {
            "aux": self.aux, "depth": self.depth, "drop_prob": self.drop_prob, "width": self.width,
            "genotype": {
                "normal": [list(p) for p in self.normal], "normal_concat": list(self.normal_concat),
                "reduce": [list(p) for p in self.reduce], "reduce_concat": list(self.reduce_concat),
            },
        }


@dataclass(frozen=True)
class AnyNetArch:
    block_type: str
    ds: tuple[int, ...]
    ws: tuple[int, ...]
    ss: tuple[int, ...]
    bot_muls: tuple[float, ...]
    num_gs: tuple[int, ...]

    @classmethod
    def from_net(cls, net: dict[str, Any]) -> AnyNetArch:
        block = net.get("block_type")
        if block not in BLOCK_TYPES:
            raise ValueError(f"unknown AnyNet block_type {block!r}; expected one of {', '.join(BLOCK_TYPES)}")
        lists = {}
        for key in ("ds", "ws", "ss", "bot_muls", "num_gs"):
            value = net.get(key, [])
            if not isinstance(value, list):
                raise ValueError(f"AnyNet {key!r} must be a list, got {value!r}")
            lists[key] = value
        n = len(lists["ds"])
        if n < 2:
            raise ValueError("AnyNet needs the stem entry and at least one stage in ds/ws/ss")
        for key in ("ws", "ss"):
            if len(lists[key]) != n:
                raise ValueError(f"AnyNet lists disagree in length: ds has {n} entries, {key} {len(lists[key])}")
        ds = tuple(_int(v, "ds entry") for v in lists["ds"])
        ws = tuple(_int(v, "ws entry") for v in lists["ws"])
        ss = tuple(_int(v, "ss entry") for v in lists["ss"])
        if any(v <= 0 for v in ds + ws + ss):
            raise ValueError(f"AnyNet depths, widths and strides must be positive: ds={list(ds)} ws={list(ws)} ss={list(ss)}")
        if ss[0] not in STEM_STRIDES:
            raise ValueError(f"AnyNet stem stride {ss[0]} is not one of {STEM_STRIDES}")
        if block in BOTTLENECK_BLOCKS:
            for key in ("bot_muls", "num_gs"):
                if len(lists[key]) != n:
                    raise ValueError(f"AnyNet lists disagree in length: ds has {n} entries, {key} {len(lists[key])}")
        elif lists["bot_muls"] or lists["num_gs"]:
            raise ValueError(f"{block} takes no bot_muls/num_gs; leave them empty")
        bot_muls = tuple(float(v) for v in lists["bot_muls"])
        num_gs = tuple(_int(v, "num_gs entry") for v in lists["num_gs"])
        for stage in range(1, n if block in BOTTLENECK_BLOCKS else 0):
            w_b = int(round(ws[stage] * bot_muls[stage]))
            if w_b <= 0 or num_gs[stage] <= 0 or w_b % num_gs[stage]:
                raise ValueError(
                    f"stage {stage}: {num_gs[stage]} groups do not divide the bottleneck width {w_b} "
                    f"(= {ws[stage]} x {bot_muls[stage]})"
                )
        return cls(block, ds, ws, ss, bot_muls, num_gs)

    def to_net(self) -> dict[str, Any]:
        return {"block_type": self.block_type, "bot_muls": list(self.bot_muls), "ds": list(self.ds),
                "num_gs": list(self.num_gs), "ss": list(self.ss), "ws": list(self.ws)}


Net = CellArch | AnyNetArch


@dataclass(frozen=True)
class NDSArch:
    """One benchmark entry: a net and, in the lr-wd spaces, its training recipe (JSON text)."""

    net: Net
    optim: str | None = None

    def __str__(self) -> str:
        net = self.net.to_net()
        if self.optim is None:
            return dump(net)
        return dump({"net": net, "optim": json.loads(self.optim)})


def dump(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def net_from_dict(net: Any) -> Net:
    if not isinstance(net, dict):
        raise ValueError(f"an NDS net must be a JSON object, got {type(net).__name__}")
    return CellArch.from_net(net) if "genotype" in net else AnyNetArch.from_net(net)


def arch_from_entry(net: Any, optim: Any | None) -> NDSArch:
    """The entry's arch; ``optim`` (a dict) only for spaces where a net has several recipes."""
    if optim is not None and not isinstance(optim, dict):
        raise ValueError("'optim' must be a JSON object")
    return NDSArch(net_from_dict(net), None if optim is None else dump(optim))


def parse_arch(text: str, with_optim: bool) -> NDSArch:
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty NDS architecture string")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"NDS architecture must be JSON ({exc.msg} at char {exc.pos})") from None
    if with_optim:
        if not isinstance(obj, dict) or set(obj) != {"net", "optim"}:
            raise ValueError('this lr-wd space needs {"net": {...}, "optim": {...}}')
        return arch_from_entry(obj["net"], obj["optim"])
    return arch_from_entry(obj, None)
