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


def official_pth(tmp_path, extra=None):
    """A file in the official NAS-Bench-201 .pth layout: meta_archs, arch2infos {index: {'less', 'full'}}, evaluated_indexes."""
    less = {i: _record(i, arch, 10.0 * (i + 1)) for i, arch in enumerate(["x", "y"])}
    for record in less.values():
        for result in record["all_results"].values():
            result["epochs"] = 12
            result["eval_acc1es"] = {f"{k.split('@')[0]}@11": v for k, v in result["eval_acc1es"].items() if k.endswith("@199")}
    data = {"meta_archs": ["x", "y"], "evaluated_indexes": [0, 1],
            "arch2infos": {i: {"less": less[i], "full": _record(i, arch, 70.0 + 10 * i)} for i, arch in enumerate(["x", "y"])}}
    if extra is not None:
        data["arch2infos"][0]["full"]["dataset_seed"] = extra
    path = tmp_path / "NAS-Bench-201-v1_0-fake.pth"
    torch.save(data, path)
    return path


@pytest.mark.parametrize(("hp", "expected"), [("200", [71.0, 81.0]), ("12", [11.0, 21.0])])
def test_cli_imports_the_official_pth_for_either_schedule(tmp_path, capsys, hp, expected):
    from nasproxy_bench.cli import main

    path = official_pth(tmp_path)
    assert main(["import", "nb201", "--source", str(path), "--hp", hp, "--data-root", str(tmp_path / "root")]) == 0
    table = pd.read_csv(tmp_path / "root/benchmarks/nb201/nb201.csv")
    assert table["arch"].tolist() == ["x", "y"] and table["cifar10/test_acc"].tolist() == expected


def test_pth_needing_other_globals_needs_the_explicit_opt_in(tmp_path, capsys):
    from argparse import Namespace

    from nasproxy_bench.cli import main

    path = official_pth(tmp_path, extra=Namespace(seed=777))
    root = ["--data-root", str(tmp_path / "root")]
    assert main(["import", "nb201", "--source", str(path), *root]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "argparse.Namespace" in err and "--trust-pickles" in err
    assert not (tmp_path / "root/benchmarks/nb201/nb201.csv").exists()
    assert main(["import", "nb201", "--source", str(path), "--trust-pickles", *root]) == 0
    assert pd.read_csv(tmp_path / "root/benchmarks/nb201/nb201.csv")["cifar10/test_acc"].tolist() == [71.0, 81.0]


def test_pth_whose_records_disagree_with_meta_archs_is_refused(tmp_path):
    data = {"meta_archs": ["x", "y"], "arch2infos": {0: {"full": _record(0, "y", 70.0)}}}
    torch.save(data, tmp_path / "bad.pth")
    with pytest.raises(DataError, match="not in meta_archs"):
        import_nb201(tmp_path / "bad.pth")
    with pytest.raises(DataError, match="--hp 90 is neither"):
        import_nb201(tmp_path / "bad.pth", hp="90")
