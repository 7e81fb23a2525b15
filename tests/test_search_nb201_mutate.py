import random
from collections import Counter

import pytest

from nasproxy_bench.adapters.nb201 import NB201Arch
from nasproxy_bench.adapters.nb201.benchmark import NB201Benchmark
from nasproxy_bench.adapters.nb201.network import EDGES, OPS

from .conftest import all_nb201_archs

PARENT = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|"


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return NB201Benchmark(tmp_path_factory.mktemp("empty"))  # mutation and sampling need no table


def test_mutate_changes_exactly_one_edge_to_another_valid_op(bench):
    parent_ops = NB201Arch.parse(PARENT).ops
    rng = random.Random(0)
    edges_hit, new_ops = Counter(), Counter()
    for _ in range(2000):
        child = bench.mutate(PARENT, rng)
        child_ops = NB201Arch.parse(child).ops  # parses: a valid cell
        assert bench.canonical(bench.parse(child)) == child
        changed = [i for i, (a, b) in enumerate(zip(parent_ops, child_ops, strict=True)) if a != b]
        assert len(changed) == 1
        edges_hit[changed[0]] += 1
        new_ops[(changed[0], child_ops[changed[0]])] += 1
    assert set(edges_hit) == set(range(len(EDGES)))  # every edge can mutate ...
    assert len(new_ops) == len(EDGES) * (len(OPS) - 1)  # ... to each of the 4 other ops
    assert min(edges_hit.values()) > 2000 / 6 * 0.8


def test_mutate_is_reproducible_and_reaches_all_30_neighbours(bench):
    children = [bench.mutate(PARENT, random.Random(s)) for s in range(400)]
    assert children == [bench.mutate(PARENT, random.Random(s)) for s in range(400)]
    assert len(set(children)) == 6 * 4


def test_mutate_rejects_a_malformed_arch(bench):
    with pytest.raises(ValueError, match="unknown NB201 operation"):
        bench.mutate(PARENT.replace("none", "conv_9x9"), random.Random(0))


def test_random_arch_is_valid_and_covers_every_op_on_every_edge(bench):
    rng = random.Random(1)
    known = set(all_nb201_archs())
    drawn = [bench.random_arch(rng) for _ in range(500)]
    assert set(drawn) <= known
    for edge in range(len(EDGES)):
        assert {NB201Arch.parse(a).ops[edge] for a in drawn} == set(OPS)
    assert len(set(drawn)) >= 480  # 15,625 cells: ~8 repeats expected in 500 uniform draws
