"""NB101Benchmark on a toy table: parse, ground truth, costs, cell graph, mutation, verify."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest
import torch

from nasproxy_bench.adapters.nb101.benchmark import NB101Benchmark
from nasproxy_bench.adapters.nb101.spec import NB101Spec
from nasproxy_bench.cli import main
from nasproxy_bench.errors import DataError
from nasproxy_bench.proxies.topology import cell_depth, long_range_density
from tests.nb101_fixtures import OFFICIAL_ROWS, small_cells, write_sample_table


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> NB101Benchmark:
    root = tmp_path_factory.mktemp("nb101")
    write_sample_table(root, small_cells(4))
    return NB101Benchmark(root)


@pytest.fixture()
def official_root(tmp_path):
    specs = [NB101Spec.create(m, o) for _, m, o, _ in OFFICIAL_ROWS]
    write_sample_table(tmp_path, specs, {d: p for d, _, _, p in OFFICIAL_ROWS})
    return tmp_path


def test_table_is_normalized(toy):
    assert len(toy) == 91  # distinct pruned cells with at most 4 vertices
    truth = toy.ground_truth("cifar10")
    assert truth.between(80, 90).all()  # percent, not fraction
    assert (toy.ground_truth("cifar10", "valid_acc_ep4") * 4 - truth).abs().max() < 1e-9
    assert "ONE training run" in toy.ground_truth_source
    assert "ONE training run" in toy.dataset("cifar10").metric().description  # printed in reports
    with pytest.raises(DataError, match="import the official TFRecord"):
        toy.ground_truth("cifar10", "test_acc")


def test_parse_hash_and_json_agree(toy):
    arch = toy.archs()[5]
    spec = toy.parse(arch)
    assert toy.canonical(spec) == arch
    assert toy.canonical(toy.parse(spec.to_json())) == arch
    with pytest.raises(ValueError, match="not in"):
        toy.parse("0" * 32)
    with pytest.raises(ValueError, match="unknown NB101 operation"):
        toy.parse(json.dumps({"matrix": [[0, 1, 0], [0, 0, 1], [0, 0, 0]], "ops": ["input", "sep5x5", "output"]}))


def test_costs_have_closed_form_flops(toy):
    costs = toy.costs("cifar10")
    assert list(costs.columns) == ["params_M", "flops_M"]
    # input -> output only: three 1x1 projections per stack ... plus stem and classifier
    only_io = NB101Spec.create([[0, 1], [0, 0]], ["input", "output"]).hash()
    expected = (27 * 128 * 1024 + 3 * 128 * 128 * 1024 + (128 * 256 + 2 * 256 * 256) * 256
                + (256 * 512 + 2 * 512 * 512) * 64 + 5120 + 10) / 1e6
    assert costs.loc[only_io, "flops_M"] == pytest.approx(expected)


def test_cell_graph(toy):
    # input -> conv3x3 -> output plus input -> output: one long-range link out of one possible
    spec = NB101Spec.create([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    graph = toy.cell_graph(spec.hash())
    assert graph.num_nodes == 3
    assert graph.edges == {(0, 1): "conv3x3-bn-relu", (0, 2): "output", (1, 2): "output"}
    assert long_range_density(graph) == (1, 1.0)
    assert cell_depth(graph) == 2
    assert graph.cell_widths == (128,) * 3 + (256,) * 3 + (512,) * 3


def test_mutate_gives_valid_neighbours_in_the_table(toy):
    rng = random.Random(0)
    known = set(toy.archs())
    for arch in toy.sample(20, seed=1):
        child = toy.mutate(arch, rng)
        assert child in known and child != arch
        a, b = toy.parse(arch), toy.parse(child)
        assert abs(a.num_vertices - b.num_vertices) <= 1 or a.ops != b.ops
    assert toy.random_arch(random.Random(3)) in known


def test_verify_official_rows(official_root, capsys):
    assert main(["verify", "nb101", "--data-root", str(official_root), "--flops"]) == 0
    assert "checked 3 NB101 cells" in capsys.readouterr().out


def test_verify_reports_a_wrong_count(official_root, capsys):
    path = official_root / "benchmarks/nb101/nb101_sample30k.csv.gz"
    frame = pd.read_csv(path)
    frame.loc[1, "cifar10/params"] += 1
    frame.loc[2, "hash"] = "f" * 32
    frame.to_csv(path, index=False)
    assert main(["verify", "nb101", "--data-root", str(official_root)]) != 0
    captured = capsys.readouterr()
    assert "2 mismatches" in captured.out + captured.err


def test_missing_table_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="import nb101"):
        NB101Benchmark(tmp_path).archs()


def test_verify_real_sample_every_300th_row(shared):
    result = NB101Benchmark(shared).verify(stride=300)
    assert result.checked == 101
    assert result.mismatches == []


@pytest.mark.slow
def test_verify_real_sample_all_rows(shared):
    result = NB101Benchmark(shared).verify()
    assert result.checked == 30001
    assert result.mismatches == []


def _naslib_key(spec: NB101Spec) -> str:
    """NASLib's key: the cell padded to 7x7 (dangling vertices before the output), NASLib op codes."""
    from nasproxy_bench.adapters.nb101.benchmark import padded
    from nasproxy_bench.adapters.nb101.naslib import NASLIB_OPS

    matrix, ops = padded(spec, random.Random(0))
    return str(tuple(v for row in matrix for v in row) + tuple(NASLIB_OPS.index(op) for op in ops))


def test_compare_reads_the_naslib_nb101_json(toy, tmp_path):
    from nasproxy_bench.adapters.nb101.naslib import decode_key
    from nasproxy_bench.compare import compare_with_reference
    from nasproxy_bench.store import Record, ResultStore, RunKey

    archs = toy.archs()[:20]
    truth = toy.ground_truth("cifar10")
    key = RunKey("nb101", "cifar10", "jacob_cov", "1", 0, 64, 0)
    with ResultStore(tmp_path / "s.h5") as store:
        for a in archs:
            store.add(key, a, Record(float(truth[a]), 0.1), {})
    entries = {_naslib_key(toy.parse(a)): {"jacov": float(truth[a]) ** 2, "val_accuracy": 1.0} for a in archs}
    assert {decode_key(k).hash() for k in entries} == set(archs)
    (tmp_path / "ref.json").write_text(json.dumps({"nasbench101": {"cifar10": entries}}))
    table = compare_with_reference(tmp_path / "s.h5", tmp_path / "ref.json", toy.data_root)
    row = table.iloc[0]
    assert row["proxy"] == "jacob_cov" and row["n_common"] == 20
    assert row["rank_agreement"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="7 op codes"):
        decode_key("(0, 1)")


def test_build_with_width_narrows_the_stem_and_keeps_the_skeleton(toy):
    # input -> conv3x3 -> output: per stack a 1x1 projection c_in -> c and a 3x3 conv c -> c (no BN affine counted here)
    cell = NB101Spec.create([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"]).hash()
    wide, narrow = toy.build(cell, "cifar10"), toy.build_with_width(cell, "cifar10", channels=16)
    assert [o.shape[1] for o in narrow.stage_outputs(torch.zeros(1, 3, 32, 32))] == [16, 32, 64]
    assert len(narrow.stacks) == len(wide.stacks) == 3 and all(len(s) == len(w) for s, w in zip(narrow.stacks, wide.stacks, strict=True))

    def convs(c: int) -> int:  # conv weights of the network with stem width c, by hand
        total = 27 * c  # stem 3x3 conv
        for stack in range(3):
            w = c * 2**stack
            c_in = w // 2 if stack else c
            for k in range(3):
                total += (c_in if k == 0 else w) * w + 9 * w * w  # projection, conv3x3
        return total + 4 * c * 10 + 10  # classifier

    def conv_params(net) -> int:
        return sum(p.numel() for n, p in net.named_parameters() if p.dim() > 1 or n.startswith("classifier"))

    assert conv_params(narrow) == convs(16) and conv_params(wide) == convs(128)
    assert sum(p.numel() for p in toy.build_with_width(cell, "cifar10", channels=128).parameters()) == \
        sum(p.numel() for p in wide.parameters())
