"""NATS-Bench size space: channel strings, official index, enumeration, search operators."""

import random

import pandas as pd
import pytest

from nasproxy_bench.adapters.nats_sss import NATSSizeArch, NATSSizeBenchmark
from nasproxy_bench.adapters.nats_sss.arch import CHANNELS, enumerate_archs
from nasproxy_bench.errors import DataError


def test_official_index_is_the_string_read_in_base_8():
    # digits (c/8 - 1): 8:16:32:64:64 -> 0,1,3,7,7 -> 0*4096 + 1*512 + 3*64 + 7*8 + 7
    assert NATSSizeArch.parse("8:16:32:64:64").index == 512 + 192 + 56 + 7 == 767
    assert NATSSizeArch.parse("8:8:40:32:40").index == 284  # file 000284 of the official archive
    assert NATSSizeArch.parse("64:64:64:64:64").index == 32767
    assert str(NATSSizeArch.from_index(11)) == "8:8:8:16:32"


def test_enumeration_is_in_index_order_and_round_trips():
    archs = enumerate_archs()
    assert len(archs) == len(set(archs)) == 32768
    for index in (0, 1, 7, 8, 4095, 20000, 32767):
        assert NATSSizeArch.parse(archs[index]).index == index
        assert str(NATSSizeArch.from_index(index)) == archs[index]


def test_enumeration_equals_the_shared_index_csv(shared):
    frame = pd.read_csv(shared / "benchmarks/nats_sss/nats_sss_index.csv")
    assert frame["index"].tolist() == list(range(32768))
    assert frame["arch"].tolist() == enumerate_archs()
    assert NATSSizeBenchmark(shared).all_archs == enumerate_archs()


def test_meta_file_lists_the_same_order(shared):
    from nasproxy_bench.adapters.nats_sss.importer import check_meta

    check_meta(shared / "benchmarks/nats_sss/official_fixture/meta.pickle.pbz2")  # raises on any difference


@pytest.mark.parametrize(
    "text, message",
    [
        ("8:16:32:64", "'8:16:32:64' has 4 channel counts separated by ':', expected 5 (e.g. 8:16:32:64:64)"),
        ("8:16:32:64:64:8", "has 6 channel counts"),
        ("8:16:12:64:64", "channel count 12 at position 2 is not one of 8, 16, 24, 32, 40, 48, 56, 64"),
        ("8:16:72:64:64", "channel count 72 at position 2"),
        ("8:x:32:64:64", "channel count 'x' at position 1 of '8:x:32:64:64' is not a whole number"),
        ("8:16.0:32:64:64", "'16.0' at position 1"),
        ("8:-16:32:64:64", "'-16' at position 1"),
        ("", "empty NATS-Bench size-space architecture string"),
    ],
)
def test_malformed_strings_raise_one_line_value_errors(text, message):
    with pytest.raises(ValueError) as info:
        NATSSizeArch.parse(text)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_canonical_form_normalises_spacing_and_leading_zeros(tmp_path):
    bench = NATSSizeBenchmark(tmp_path)
    assert bench.canonical(bench.parse(" 08:16: 32:64:64 ")) == "8:16:32:64:64"


def test_without_index_or_table_every_architecture_is_enumerated(tmp_path):
    bench = NATSSizeBenchmark(tmp_path)
    assert not bench.has_table
    assert list(bench.archs()) == enumerate_archs()
    assert bench.sample(3, 0) == bench.sample(5, 0)[:3]


def test_a_reordered_index_csv_is_refused(tmp_path):
    path = tmp_path / "benchmarks/nats_sss/nats_sss_index.csv"
    path.parent.mkdir(parents=True)
    archs = enumerate_archs()
    archs[0], archs[1] = archs[1], archs[0]
    pd.DataFrame({"index": range(32768), "arch": archs}).to_csv(path, index=False)
    with pytest.raises(DataError, match="official index order"):
        NATSSizeBenchmark(tmp_path).archs()


def test_mutate_changes_exactly_one_position_and_random_arch_is_valid(tmp_path):
    bench = NATSSizeBenchmark(tmp_path)
    rng = random.Random(3)
    seen_positions = set()
    for _ in range(200):
        parent = bench.random_arch(rng)
        child = bench.mutate(parent, rng)
        a, b = bench.parse(parent).channels, bench.parse(child).channels
        changed = [i for i in range(5) if a[i] != b[i]]
        assert len(changed) == 1 and b[changed[0]] in CHANNELS
        seen_positions.update(changed)
    assert seen_positions == set(range(5))
    assert len(NATSSizeArch.parse("8:8:8:8:8").neighbours()) == 5 * 7


def test_cell_graph_is_the_fixed_cell_at_the_three_stage_widths(tmp_path):
    graph = NATSSizeBenchmark(tmp_path).cell_graph("8:16:32:48:64")
    assert graph.cell_widths == (8, 32, 64)
    assert graph.edges[(0, 3)] == "skip_connect" and graph.edges[(2, 3)] == "nor_conv_3x3"
    assert sorted(graph.edges.values()).count("nor_conv_3x3") == 5
