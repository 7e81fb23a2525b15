import numpy as np
import pandas as pd
import pytest

from nasproxy_bench.compare import compare_with_reference
from nasproxy_bench.errors import NasproxyError
from nasproxy_bench.store import Record, ResultStore, RunKey


def test_rank_agreement_with_a_reference_table(fake_root, tmp_path):
    truth = pd.read_csv(fake_root / "benchmarks/nb201/nb201.csv").set_index("arch")["cifar10/test_acc"]
    archs = truth.index[:50].tolist()
    store_path = tmp_path / "s.h5"
    key = RunKey("nb201", "cifar10", "jacob_cov", "1", 0, 64, 0)
    rng = np.random.default_rng(0)
    ours = {a: float(truth[a] + rng.normal()) for a in archs}
    with ResultStore(store_path) as store:
        for a, v in ours.items():
            store.add(key, a, Record(v, 0.1), {})
    # NASLib naming (jacov) and a monotone transform of our scores: perfect rank agreement
    reference = pd.DataFrame({"dataset": "cifar10", "arch_str": archs[::-1], "jacov": [np.exp(ours[a] / 10) for a in archs[::-1]]})
    reference.to_csv(tmp_path / "ref.csv", index=False)
    table = compare_with_reference(store_path, tmp_path / "ref.csv", fake_root)
    row = table.iloc[0]
    assert row["proxy"] == "jacob_cov" and row["n_common"] == 50
    assert row["rank_agreement"] == pytest.approx(1.0)
    assert row["ours_spr"] == pytest.approx(row["reference_spr"])
    reference.assign(dataset="cifar100").to_csv(tmp_path / "other.csv", index=False)
    with pytest.raises(NasproxyError, match="no proxy/dataset"):
        compare_with_reference(store_path, tmp_path / "other.csv", fake_root)
