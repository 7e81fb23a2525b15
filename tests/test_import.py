import bz2
import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from nasproxy_bench.adapters.nb201.importer import import_nb201, record_to_row
from nasproxy_bench.errors import DataError
from nasproxy_bench.safe_pickle import safe_load


def test_nats_fixture_reproduces_normalized_table(shared):
    frame = import_nb201(shared / "benchmarks/nb201/nats_tss_official_fixture")
    reference = pd.read_csv(shared / "benchmarks/nb201/nb201.csv").set_index("index")
    assert frame["index"].tolist() == [0, 11, 284]
    for _, row in frame.iterrows():
        ref = reference.loc[row["index"]]
        assert row["arch"] == ref["arch"]
        for column in frame.columns.drop(["index", "arch"]):
            assert row[column] == pytest.approx(ref[column], abs=1e-9), column


def _record(index, arch, acc):
    results = {}
    for ds, split in (("cifar10", "ori-test"), ("cifar100", "x-test"), ("ImageNet16-120", "x-test"), ("cifar10-valid", "x-valid")):
        for seed, delta in ((777, 0.0), (888, 1.0)):
            results[(ds, seed)] = {
                "epochs": 200, "params": 0.5, "flop": 10.0,
                "eval_acc1es": {f"{split}@199": acc + delta, f"{split}@198": 0.0, "ori-test@199": acc + 2 * delta},
            }
    return {"arch_index": index, "arch_str": arch, "all_results": results}


def test_record_means_final_epoch_over_seeds():
    row = record_to_row(_record(3, "a", 90.0))
    assert row["cifar10/test_acc"] == 91.0  # ori-test@199 of seeds: 90 and 92
    assert row["cifar100/test_acc"] == 90.5
    assert row["cifar10-valid/valid_acc"] == 90.5
    assert row["cifar10-valid/test_acc"] == 91.0
    assert row["cifar100/params_M"] == 0.5


def test_pth_is_loaded_without_unsafe_unpickling(tmp_path):
    data = {"meta_archs": ["x", "y"], "arch2infos": {1: {"full": _record(1, "y", 80.0)}, 0: {"full": _record(0, "x", 70.0)}}}
    path = tmp_path / "NAS-Bench-201-v1_0-fake.pth"
    torch.save(data, path)
    frame = import_nb201(path)
    assert frame["arch"].tolist() == ["x", "y"]
    assert frame["cifar10/test_acc"].tolist() == [71.0, 81.0]


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_pickle_with_code_is_refused_and_names_the_flag(tmp_path):
    path = tmp_path / "000001.pickle.pbz2"
    path.write_bytes(bz2.compress(pickle.dumps({"200": _Evil()})))
    with pytest.raises(DataError, match="--trust-pickles"):
        import_nb201(tmp_path)


def test_truncated_pickle_is_a_clear_error(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": np.zeros((4, 3072), np.uint8), "labels": [0, 1, 2, 3]})[:-40])
    with pytest.raises(DataError, match="truncated or corrupt"):
        safe_load(path)


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        import_nb201(tmp_path / "nope.pth")
