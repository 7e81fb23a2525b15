"""NDS benchmarks on fixture files in the official format: tables, ground truth, import, CLI."""

from __future__ import annotations

import random
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nasproxy_bench.adapters.nds.anynet import AnyNetwork
from nasproxy_bench.adapters.nds.arch import arch_from_entry
from nasproxy_bench.adapters.nds.benchmark import SPACE_CLASSES, NDSFamily
from nasproxy_bench.adapters.nds.cells import CellNetwork
from nasproxy_bench.adapters.nds.flops import ANYNET, CELL, nds_flops
from nasproxy_bench.adapters.nds.neighbours import distance, nearest
from nasproxy_bench.complexity import count_params
from nasproxy_bench.errors import DataError
from nasproxy_bench.registry import get_benchmark
from tests.nds_fixtures import OPTIM, TINY_BASIC_NET, TINY_BOTTLENECK_NET, TINY_CELL_NET, entry, with_width, write


def _true_counts(net: dict, imagenet: bool) -> tuple[int, int]:
    parsed = arch_from_entry(net, None).net
    if "genotype" in net:
        model = CellNetwork(parsed, 1000 if imagenet else 10, imagenet=imagenet)
        return count_params(model), nds_flops(model, (3, 224, 224) if imagenet else (3, 32, 32), CELL)
    model = AnyNetwork(parsed, 10)
    return count_params(model), nds_flops(model, (3, 32, 32), ANYNET)


@pytest.fixture(scope="module")
def nds_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nds")
    nets = [with_width(TINY_CELL_NET, w) for w in (2, 4, 6)]
    entries = []
    for k, (net, errors) in enumerate(zip(nets, ([40.0, 30.0], [50.0, 45.0, 46.0], [99.95, 99.9]), strict=True)):
        params, flops = _true_counts(net, imagenet=True)
        entries.append(entry(net, errors, params=params, flops=flops, seed=k))
    write(root / "benchmarks/nds/DARTS_in.json", entries)
    params, flops = _true_counts(TINY_BASIC_NET, imagenet=False)
    runs = {
        "top": [entry(TINY_BASIC_NET, [10.0 + s, 9.0 + s], params=params, flops=flops, seed=s) for s in range(3)],
        "mid": [entry(TINY_BOTTLENECK_NET, [20.0], params=5, flops=7, seed=s) for s in range(2)],
    }
    write(root / "benchmarks/nds/ResNet_reruns.json", runs)
    return root


def test_every_space_file_has_a_registered_benchmark():
    names = set(SPACE_CLASSES)
    for expected in ("nds_amoeba", "nds_darts", "nds_darts_fix-w-d", "nds_darts_lr-wd", "nds_enas", "nds_nasnet",
                     "nds_pnas", "nds_resnext-a", "nds_resnext-b", "nds_resnet_lr-wd", "nds_vanilla_lr-wd",
                     "nds_resnet_reruns", "nds_vanilla_reruns"):
        assert expected in names
        assert get_benchmark(expected) is SPACE_CLASSES[expected]
    assert get_benchmark("nds") is NDSFamily


def test_ground_truth_best_and_final_epoch_with_diverged_excluded(nds_root):
    bench = get_benchmark("nds_darts")(nds_root)
    archs = bench.archs()
    assert len(archs) == 3
    gt = bench.ground_truth("imagenet")
    assert gt.tolist()[:2] == [70.0, 55.0] and gt.isna().tolist() == [False, False, True]
    assert bench.ground_truth("imagenet", "final_acc").tolist()[:2] == [70.0, 54.0]
    assert bench.ground_truth("imagenet-64").equals(gt)
    assert bench.exclusions("imagenet").index.tolist() == [archs[2]]
    assert bench.table("imagenet")["diverged_runs"].tolist() == [0, 0, 1]


def test_costs_are_the_official_counts_in_millions(nds_root):
    bench = get_benchmark("nds_darts")(nds_root)
    frame = bench.entries("imagenet")
    assert bench.costs("imagenet")["params_M"].tolist() == (frame["params"] / 1e6).tolist()


def test_verify_passes_on_matching_counts_and_names_a_mismatch(nds_root, tmp_path):
    checked = get_benchmark("nds_darts")(nds_root).verify(stride=2)
    assert checked.checked == 2 and checked.mismatches == []
    reruns = get_benchmark("nds_resnet_reruns")(nds_root).verify()
    assert reruns.checked == 5 and len(reruns.mismatches) == 2  # the 'mid' entries carry made-up counts
    assert "params" in reruns.mismatches[0]


def test_reruns_noise_floor_is_the_spread_over_seeds(nds_root):
    bench = get_benchmark("nds_resnet_reruns")(nds_root)
    floor = bench.noise_floor()
    top = floor[floor["group"] == "top"].iloc[0]
    assert top["test_acc_mean"] == pytest.approx(90.0)  # errors 9, 10, 11 at the best epoch
    assert top["test_acc_std"] == pytest.approx(1.0)
    assert top["test_acc_count"] == 3
    assert len(bench.archs()) == 2
    assert bench.duplicates("cifar10") == {}


def test_duplicate_entries_are_reported(tmp_path):
    write(tmp_path / "benchmarks/nds/ENAS_in.json", [entry(TINY_CELL_NET, [50.0]), entry(TINY_CELL_NET, [48.0], seed=2)])
    bench = get_benchmark("nds_enas")(tmp_path)
    assert list(bench.duplicates("imagenet").values()) == [2]
    assert len(bench.archs()) == 1


def test_mutate_moves_to_a_nearest_other_entry(nds_root):
    bench = get_benchmark("nds_darts")(nds_root)
    archs = bench.archs()
    picks = {bench.mutate(archs[0], random.Random(seed)) for seed in range(20)}
    assert picks == {archs[1], archs[2]}  # both differ from it in one slot (the width)
    near = arch_from_entry(with_width(TINY_CELL_NET, 4), None)
    far = arch_from_entry({**with_width(TINY_CELL_NET, 4), "depth": 6}, None)
    start = arch_from_entry(TINY_CELL_NET, None)
    assert distance(start, near) == 1 and distance(start, far) == 2
    assert nearest(start, [far, near], ["far", "near"]) == ["near"]
    assert bench.random_arch(random.Random(0)) in archs


def test_missing_and_corrupt_files_are_one_line_errors(tmp_path):
    bench = get_benchmark("nds_pnas")(tmp_path)
    with pytest.raises(DataError, match="missing NDS file"):
        bench.archs()
    (tmp_path / "benchmarks/nds").mkdir(parents=True)
    (tmp_path / "benchmarks/nds/PNAS_in.json").write_text('[{"net": ')
    with pytest.raises(DataError, match="not valid JSON"):
        get_benchmark("nds_pnas")(tmp_path).archs()
    with pytest.raises(DataError, match="import nds"):
        get_benchmark("nds_resnet")(tmp_path).archs()


def _official_release(folder: Path) -> Path:
    params, flops = _true_counts(with_width(TINY_CELL_NET, 4), imagenet=False)
    write(folder / "DARTS.json", [entry(with_width(TINY_CELL_NET, 4), [12.0, 11.0], params=params, flops=flops)])
    params, flops = _true_counts(TINY_BASIC_NET, imagenet=False)
    write(folder / "ResNet_lr-wd.json", [
        entry(TINY_BASIC_NET, [15.0], params=params, flops=flops, optim=OPTIM),
        entry(TINY_BASIC_NET, [90.0], params=params, flops=flops, optim={**OPTIM, "base_lr": 3.0}),
    ])
    write(folder / "DARTS_in.json", [])  # ImageNet files in the release are not imported
    return folder


def _cli(*args: str, root: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("nasproxy-bench")
    return subprocess.run([str(exe), *args, "--data-root", str(root)], capture_output=True, text=True, timeout=300)


def test_import_nds_registers_cifar_spaces_from_a_folder_and_a_zip(tmp_path):
    release = _official_release(tmp_path / "release")
    root = tmp_path / "root"
    bench = NDSFamily(root)
    tables = bench.import_tables(release)
    assert sorted(p.name for _, p in tables) == ["DARTS.csv", "ResNet_lr-wd.csv"]
    zipped = tmp_path / "nds.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for path in release.iterdir():
            archive.write(path, f"data/{path.name}")
    assert sorted(p.name for _, p in NDSFamily(root).import_tables(zipped)) == ["DARTS.csv", "ResNet_lr-wd.csv"]


@pytest.mark.slow
def test_cli_import_then_list_verify_and_run_show_cifar(tmp_path):
    release = _official_release(tmp_path / "release")
    root = tmp_path / "root"
    done = _cli("import", "nds", "--source", str(release), root=root)
    assert done.returncode == 0, done.stderr
    assert "wrote 2 architectures" in done.stdout and "wrote 1 architectures" in done.stdout
    bench = get_benchmark("nds_resnet_lr-wd")(root)
    assert bench.present() == ["cifar10"]
    assert bench.ground_truth("cifar10").isna().tolist() == [False, True]  # 90 % error on CIFAR-10 = diverged
    verified = _cli("verify", "nds", root=root)
    assert verified.returncode == 0, verified.stderr
    assert "nds_darts 1/1 match" in verified.stdout and "nds_resnet_lr-wd 2/2 match" in verified.stdout
    listed = _cli("list", root=root)
    assert "nds_resnet_lr-wd" in listed.stdout and "cifar10" in listed.stdout
    ran = _cli("run", "--benchmark", "nds_resnet_lr-wd", "--dataset", "cifar10", "--proxies", "params,flops", "--n", "2",
               "--store", str(tmp_path / "s.h5"), "--reports", str(tmp_path / "rep"), "--no-progress", root=root)
    assert ran.returncode == 0, ran.stderr
    assert "nds_resnet_lr-wd/cifar10: 4 scores computed" in ran.stdout
    again = _cli("import", "nds", "--source", str(release), root=root)
    assert again.returncode != 0 and "--force" in again.stderr and "Traceback" not in again.stderr
    bad = _cli("import", "nds", "--source", str(tmp_path / "nowhere"), root=root)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1


def test_entry_counts_for_list_count_entries_and_distinct_nets(nds_root):
    assert get_benchmark("nds_darts")(nds_root).entry_counts() == {"imagenet": "3 entries, 3 architectures"}
    assert get_benchmark("nds_resnet_reruns")(nds_root).entry_counts() == {"cifar10": "5 entries, 2 architectures"}
    assert get_benchmark("nds_amoeba")(nds_root).entry_counts() == {}


def test_input_size_picks_the_reduced_imagenet_dataset_or_names_the_sizes(nds_root):
    from nasproxy_bench.cli import with_input_size
    from nasproxy_bench.errors import UnknownNameError

    bench = get_benchmark("nds_darts")(nds_root)
    assert with_input_size(bench, "imagenet", 32) == "imagenet-32"
    assert with_input_size(bench, "imagenet", 224) == "imagenet"
    assert bench.dataset("imagenet-32").input_shape == (3, 32, 32)
    assert bench.ground_truth("imagenet-32").equals(bench.ground_truth("imagenet"))
    with pytest.raises(UnknownNameError, match="224, 32, 64"):
        with_input_size(bench, "imagenet", 48)


def test_noise_floor_spearman_from_rerun_spread(nds_root):
    from nasproxy_bench.adapters.nds.noise import rerun_spearman, rerun_std

    # fixture reruns: 'top' best errors 9,10,11 (std 1); 'mid' the same error twice (std 0); no Vanilla file
    assert rerun_std(nds_root).to_dict() == pytest.approx({"nds_resnet_reruns/top": 1.0, "nds_resnet_reruns/mid": 0.0})
    truth = np.arange(50, dtype=float)
    assert rerun_spearman(truth, 0.0) == pytest.approx(1.0)
    assert 0.95 < rerun_spearman(truth, 1.0) < 1.0  # neighbours one unit apart swap sometimes
    assert rerun_spearman(truth, 1e6) == pytest.approx(0.0, abs=0.05)


def test_cell_graph_of_the_normal_cell_and_topology_proxies_on_it(tmp_path):
    from types import SimpleNamespace

    from nasproxy_bench.proxies.topology import cell_depth, long_range_density, nn_mass

    net = {"aux": False, "depth": 6, "drop_prob": 0.0, "width": 4, "genotype": {
        "normal": [["sep_conv_3x3", 0], ["skip_connect", 1], ["none", 0], ["conv_1x1", 2], ["none", 2], ["none", 1]],
        "normal_concat": [2, 3, 4], "reduce": [["max_pool_3x3", 0], ["conv_1x1", 1]] * 3, "reduce_concat": [2, 3, 4]}}
    bench = get_benchmark("nds_darts")(tmp_path)
    arch = str(arch_from_entry(net, None))
    graph = bench.cell_graph(arch)
    # node 0 = both inputs; both edges of node 1 read an input -> one live edge (0, 1)
    assert graph.num_nodes == 5 and graph.edges == {
        (0, 1): "sep_conv_3x3", (0, 2): "none", (1, 2): "conv_1x1", (1, 3): "none", (0, 3): "none",
        (1, 4): "concat", (2, 4): "concat", (3, 4): "concat"}
    assert graph.cell_widths == (4, 4, 8, 8, 16, 16)  # doubled at the reduction cells 2 and 4
    assert long_range_density(graph) == (2, pytest.approx(2 / 5))  # live: (1,4), (2,4) of 5 skipping edges
    assert cell_depth(graph) == 3  # 0 -> 1 -> 2 -> 4
    assert nn_mass(SimpleNamespace(benchmark=bench, arch=arch)) == pytest.approx(0.4 * 3 * 56)
    assert get_benchmark("nds_resnext-a")(tmp_path).cell_graph(str(arch_from_entry(TINY_BASIC_NET, None))) is None


def test_structure_correlations_read_depth_and_width_from_the_net_json():
    import json

    import pandas as pd

    from nasproxy_bench.adapters.nds.structure import structure_correlations

    archs = [json.dumps({"depth": d, "width": w, "genotype": {}}) for d, w in ((8, 16), (12, 32), (16, 24), (20, 48))]
    scores = pd.Series([1.0, 2.0, 3.0, 4.0], index=archs)  # follows depth exactly
    truth = pd.Series([10.0, 30.0, 20.0, 40.0], index=archs)  # follows width exactly
    stats = structure_correlations(scores, truth)
    assert stats["proxy~depth"] == pytest.approx(1.0) and stats["truth~width"] == pytest.approx(1.0)
    assert stats["proxy~width"] == pytest.approx(0.8) and stats["truth~depth"] == pytest.approx(0.8)
