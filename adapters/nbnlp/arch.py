"""NAS-Bench-NLP recurrent cells ("recepies"): parsing, validation and a canonical string.

A recepie (the official spelling) maps node names to ``{"op": ..., "input": [...]}``. The leaves
are ``x`` (the layer's input at this time step) and ``h_prev_i`` (the i-th hidden state of the
previous step); ``h_new_0 .. h_new_{k-1}`` are the new hidden states (``h_new_0`` is the
layer's output). Semantics follow the official ``custom_rnn.py``:

- ``linear``: Σ_i W_i · input_i + b (one weight per input, one bias), output = hidden size;
- ``blend``: a·b + (1 − a)·c for inputs (a, b, c);
- ``elementwise_sum`` / ``elementwise_prod``: a + b / a ⊙ b;
- ``activation_tanh`` / ``activation_sigm`` / ``activation_leaky_relu``: of one input.

Only ``linear`` may read ``x`` (its width differs from the hidden width in the first and last
layers, so the official code cannot run anything else on it).

Canonical string: intermediate nodes are renamed ``n0, n1, ...`` in order of (depth, structural
signature), where the signature is the expression the node computes (inputs of the symmetric
ops linear / sum / prod sorted, blend's kept in order); nodes are written in that order, then
``h_new_0..``, as ``name=op(in1,in2)`` joined by ``;``. Two recepies that differ only in node
names or in the order of a symmetric op's inputs get the same string. ``parse`` also accepts the
official JSON recepie.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property

ARITY = {
    "linear": None,  # one or more inputs
    "blend": 3,
    "elementwise_sum": 2,
    "elementwise_prod": 2,
    "activation_tanh": 1,
    "activation_sigm": 1,
    "activation_leaky_relu": 1,
}
SYMMETRIC = frozenset({"linear", "elementwise_sum", "elementwise_prod"})
_H_PREV = re.compile(r"h_prev_(\d+)")
_H_NEW = re.compile(r"h_new_(\d+)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NODE_TEXT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=([a-z_]+)\(([^()]*)\)")


@dataclass(frozen=True)
class Node:
    op: str
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Recepie:
    """A validated recurrent cell: nodes by name (leaves ``x`` and ``h_prev_i`` are implicit)."""

    nodes: dict[str, Node]

    def __post_init__(self) -> None:
        _validate(self.nodes)

    def __hash__(self) -> int:
        return hash(str(self))

    @property
    def hidden_tuple_size(self) -> int:
        """Number of hidden states carried between steps (``h_new_0 .. h_new_{k-1}``)."""
        return 1 + max(int(m.group(1)) for name in self.nodes if (m := _H_NEW.fullmatch(name)))

    def topological_order(self) -> list[str]:
        """Node names so that every node comes after its inputs (ties: canonical order)."""
        return list(self._canonical_names)

    def linear_input_widths(self, input_size: int, hidden_size: int) -> dict[str, list[int]]:
        """For each linear node, the width of each of its inputs (``x`` → input size, else hidden)."""
        return {
            name: [input_size if i == "x" else hidden_size for i in node.inputs]
            for name, node in self.nodes.items()
            if node.op == "linear"
        }

    def to_json(self) -> str:
        """The recepie in the official JSON form (node names as in this object)."""
        return json.dumps({k: {"op": v.op, "input": list(v.inputs)} for k, v in self.nodes.items()})

    @cached_property
    def _canonical_names(self) -> dict[str, str]:
        """Original name → canonical name, in canonical (topological) order."""
        depth: dict[str, int] = {}
        signature: dict[str, str] = {}

        def visit(name: str) -> tuple[int, str]:
            if name not in self.nodes:
                return 0, name  # x / h_prev_i
            if name not in signature:
                node = self.nodes[name]
                parts = [visit(i) for i in node.inputs]
                sigs = [s for _, s in parts]
                if node.op in SYMMETRIC:
                    sigs.sort()
                depth[name] = 1 + max(d for d, _ in parts)
                signature[name] = f"{node.op}({','.join(sigs)})"
            return depth[name], signature[name]

        for name in self.nodes:
            visit(name)
        consumers: dict[str, list[tuple[str, str]]] = {n: [] for n in self.nodes}
        for name, node in self.nodes.items():
            for pos, i in enumerate(node.inputs):
                if i in consumers:
                    consumers[i].append((name, "*" if node.op in SYMMETRIC else str(pos)))
        context: dict[str, str] = {}

        def uses(name: str) -> str:
            # how a node is used (consumers' expressions and their uses): separates nodes
            # that compute the same expression but feed different places
            if name not in context:
                own = [name] if _H_NEW.fullmatch(name) else []
                used = [f"{p}:{signature[c]}:{uses(c)}" for c, p in consumers[name]]
                context[name] = "|".join(sorted(own + used))
            return context[name]

        inner = sorted(
            (n for n in self.nodes if not _H_NEW.fullmatch(n)),
            key=lambda n: (depth[n], signature[n], uses(n), _natural(n)),
        )
        outputs = sorted((n for n in self.nodes if _H_NEW.fullmatch(n)), key=lambda n: int(n.rsplit("_", 1)[1]))
        names = {n: f"n{i}" for i, n in enumerate(inner)}
        names.update({n: n for n in outputs})
        # written order must be topological: h_new nodes may feed each other or inner nodes
        ordered: dict[str, str] = {}

        def place(name: str) -> None:
            if name in ordered or name not in self.nodes:
                return
            for i in self.nodes[name].inputs:
                place(i)
            ordered[name] = names[name]

        for name in [*inner, *outputs]:
            place(name)
        return ordered

    def __str__(self) -> str:
        names = self._canonical_names
        rank = {n: i for i, n in enumerate(names)}

        def key(i: str) -> tuple[int, str]:
            return (rank[i], "") if i in rank else (-1, i)

        parts = []
        for name, new in names.items():
            node = self.nodes[name]
            inputs = sorted(node.inputs, key=key) if node.op in SYMMETRIC else list(node.inputs)
            parts.append(f"{new}={node.op}({','.join(names.get(i, i) for i in inputs)})")
        return ";".join(parts)

    @classmethod
    def parse(cls, text: str) -> Recepie:
        """Read a canonical string or an official JSON recepie; ``ValueError`` names the problem."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("empty recepie; expected 'name=op(inputs);...' or the official JSON")
        text = text.strip()
        if text.startswith("{"):
            return cls.from_json(text)
        nodes: dict[str, Node] = {}
        for part in text.split(";"):
            match = _NODE_TEXT.fullmatch(part.strip())
            if match is None:
                raise ValueError(f"malformed node {part.strip()!r}; expected name=op(input1,input2)")
            name, op, inputs = match.groups()
            if name in nodes:
                raise ValueError(f"node {name!r} is defined twice")
            nodes[name] = Node(op, tuple(i.strip() for i in inputs.split(",")) if inputs.strip() else ())
        return cls(nodes)

    @classmethod
    def from_json(cls, text: str | dict) -> Recepie:
        """Read the official recepie (a JSON string or the decoded dict)."""
        try:
            raw = json.loads(text) if isinstance(text, str) else text
        except json.JSONDecodeError as exc:
            raise ValueError(f"recepie is not valid JSON ({exc.msg} at char {exc.pos})") from None
        if not isinstance(raw, dict) or not raw:
            raise ValueError("recepie must be a non-empty JSON object of nodes")
        nodes = {}
        for name, spec in raw.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("op"), str) or not isinstance(spec.get("input"), list):
                raise ValueError(f"node {name!r} must be {{'op': str, 'input': [names]}}")
            if not all(isinstance(i, str) for i in spec["input"]):
                raise ValueError(f"node {name!r} has non-string inputs {spec['input']!r}")
            nodes[str(name)] = Node(spec["op"], tuple(spec["input"]))
        return cls(nodes)


def _natural(name: str) -> tuple[str, int]:
    """Sort key that puts node_9 before node_10 (ties between identical nodes keep their order)."""
    stem, _, number = name.rpartition("_") if "_" in name else (name.rstrip("0123456789"), "", name[len(name.rstrip("0123456789")):])
    return (stem, int(number)) if number.isdigit() else (name, -1)


def _validate(nodes: dict[str, Node]) -> None:
    if "h_new_0" not in nodes:
        raise ValueError("recepie has no output node h_new_0")
    hidden = 1 + max(int(m.group(1)) for name in nodes if (m := _H_NEW.fullmatch(name)))
    for name, node in nodes.items():
        if not _NAME.fullmatch(name):
            raise ValueError(f"bad node name {name!r}")
        if name == "x" or _H_PREV.fullmatch(name):
            raise ValueError(f"node name {name!r} is reserved for a cell input")
        if node.op not in ARITY:
            raise ValueError(f"node {name!r}: unknown op {node.op!r}; choose one of {', '.join(ARITY)}")
        arity = ARITY[node.op]
        if (arity is None and not node.inputs) or (arity is not None and len(node.inputs) != arity):
            want = "at least 1" if arity is None else str(arity)
            raise ValueError(f"node {name!r}: {node.op} takes {want} inputs, got {len(node.inputs)}")
        for i in node.inputs:
            prev = _H_PREV.fullmatch(i)
            if i == "x":
                if node.op != "linear":
                    raise ValueError(f"node {name!r}: only linear nodes may read x, not {node.op}")
            elif prev:
                if int(prev.group(1)) >= hidden:
                    raise ValueError(f"node {name!r} reads {i} but the cell has only {hidden} hidden states (h_new_0..)")
            elif i not in nodes:
                raise ValueError(f"node {name!r} reads undefined node {i!r}")
    missing = [f"h_new_{i}" for i in range(hidden) if f"h_new_{i}" not in nodes]
    if missing:
        raise ValueError(f"hidden outputs must be h_new_0..h_new_{hidden - 1}; missing {', '.join(missing)}")
    _check_acyclic(nodes)
    if not any(_reaches(nodes, f"h_new_{i}", "x") for i in range(hidden)):
        raise ValueError("no hidden output depends on the input x")


def _check_acyclic(nodes: dict[str, Node]) -> None:
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for root in nodes:
        stack = [(root, iter(nodes[root].inputs))]
        state[root] = state.get(root, 0) or 1
        if state[root] == 2:
            continue
        while stack:
            name, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[name] = 2
                stack.pop()
            elif child in nodes:
                if state.get(child) == 1:
                    raise ValueError(f"recepie has a cycle through {child!r} (use h_prev_i for recurrence)")
                if state.get(child) is None:
                    state[child] = 1
                    stack.append((child, iter(nodes[child].inputs)))


def _reaches(nodes: dict[str, Node], start: str, target: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name == target:
            return True
        if name in nodes and name not in seen:
            seen.add(name)
            todo.extend(nodes[name].inputs)
    return False


__all__ = ["Recepie", "Node", "ARITY"]
