import pickle

import pandas as pd
import pytest

from nasproxy_bench.adapters.hw_nas_bench import hardware_costs, official_costs
from nasproxy_bench.adapters.nb201 import NB201Benchmark
from nasproxy_bench.errors import DataError


def _official_pickle(path, n):
    data = {"nasbench201": {ds: {
        "edgegpu_latency": [float(i) for i in range(n)],
        "edgegpu_energy": [2.0 * i for i in range(n)],
        "fpga_latency": [0.5 * i for i in range(n)],
        "eyeriss_arithmetic_intensity": [1.0] * n,
        "config": [{"arch_str": "x"}] * n,
    } for ds in ("cifar10", "cifar100", "ImageNet16-120")}}
    path.write_bytes(pickle.dumps(data))


def test_official_layout_is_read_safely(tmp_path):
    path = tmp_path / "HW-NAS-Bench-v1_0.pickle"
    _official_pickle(path, 5)
    frame = official_costs(path, "cifar100")
    assert sorted(frame.columns) == ["edgegpu/energy_mj", "edgegpu/latency_ms", "fpga/latency_ms"]
    assert frame.loc[3, "edgegpu/energy_mj"] == 6.0


class _Evil:
    def __reduce__(self):
        return (eval, ("1+1",))


def test_official_pickle_with_code_needs_explicit_opt_in(tmp_path):
    path = tmp_path / "HW-NAS-Bench-v1_0.pickle"
    path.write_bytes(pickle.dumps({"nasbench201": _Evil()}))
    with pytest.raises(DataError, match="--trust-pickles"):
        official_costs(path, "cifar10")


def test_costs_join_by_index_and_check_arch(fake_root, tmp_path):
    index_to_arch = pd.Series(["a", "b", "c"], index=[0, 1, 2])
    folder = tmp_path / "benchmarks/hw_nas_bench"
    folder.mkdir(parents=True)
    pd.DataFrame({"index": [2, 0, 1], "arch": ["c", "a", "b"], "fpga/latency_ms": [3.0, 1.0, 2.0]}).to_csv(
        folder / "nb201_cifar10_latency.csv", index=False)
    costs = hardware_costs(tmp_path, "cifar10", index_to_arch)
    assert costs.loc["c", "fpga/latency_ms"] == 3.0
    assert hardware_costs(tmp_path, "ImageNet16-120", index_to_arch) is None
    pd.DataFrame({"index": [0], "arch": ["WRONG"], "fpga/latency_ms": [1.0]}).to_csv(folder / "nb201_cifar10_latency.csv", index=False)
    with pytest.raises(DataError, match="disagrees"):
        hardware_costs(tmp_path, "cifar10", index_to_arch)


def test_real_tables_join_nb201(shared):
    bench = NB201Benchmark(shared)
    c10 = bench.hardware_costs("cifar10")
    assert {"fpga/latency_ms", "eyeriss/latency_ms", "pixel3/latency_ms", "raspi4/latency_ms", "titanxp_1/latency_ms"} <= set(c10.columns)
    assert len(c10) == 15625 and c10["fpga/latency_ms"].notna().all()
    c100 = bench.hardware_costs("cifar100")
    assert {"pi5-litert/latency_ms", "pi5-litert/energy_mj", "pixel-litert/latency_ms"} & set(c100.columns)
    assert bench.hardware_costs("ImageNet16-120") is None
