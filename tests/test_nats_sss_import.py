"""Importer of the official NATS-sss 'simple' folder: real fixture records and broken files."""

import bz2
import pathlib
import pickle

import numpy as np
import pandas as pd
import pytest

from nasproxy_bench.adapters.nats_sss.arch import enumerate_archs
from nasproxy_bench.adapters.nats_sss.importer import import_nats_sss
from nasproxy_bench.cli import main
from nasproxy_bench.errors import DataError
from nasproxy_bench.safe_pickle import safe_load

FIXTURE = "benchmarks/nats_sss/official_fixture"
SPLITS = {"cifar10-valid": ("x-valid", "ori-test"), "cifar10": ("ori-test",),
          "cifar100": ("x-valid", "x-test", "ori-test"), "ImageNet16-120": ("x-valid", "x-test", "ori-test")}


def results(dataset: str, epochs: int, acc: float, params: float = 0.5, latency: float = 0.02) -> dict:
    """One official ``ResultsCount``-like dict: accuracy ``acc`` on every split at every epoch."""
    evals = {f"{split}@{e}": acc + i for i, split in enumerate(SPLITS[dataset]) for e in range(epochs)}
    return {"name": dataset, "params": params, "flop": 10 * params, "epochs": epochs, "latency": [latency],
            "eval_acc1es": evals, "seed": "0777"}


def arch_file(index: int, arch: str, schedules=("01", "12", "90"), base: float = 50.0) -> dict:
    out = {}
    for hp in schedules:
        seeds = (777, 888, 999) if hp == "12" else (777,)
        epochs = int(hp)
        out[hp] = {"arch_index": index, "arch_str": arch, "all_results": {
            (ds, seed): results(ds, epochs, base + 2 * k, latency=0.01 * (k + 1))
            for ds in SPLITS for k, seed in enumerate(seeds)}}
    return out


def write(path: pathlib.Path, obj, *, raw: bytes | None = None) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bz2.compress(pickle.dumps(obj, protocol=4) if raw is None else raw))
    return path


@pytest.fixture
def folder(tmp_path):
    archive = tmp_path / "NATS-sss-v1_0-50262-simple"
    write(archive / "000011.pickle.pbz2", arch_file(11, "8:8:8:16:32"))
    write(archive / "000767.pickle.pbz2", arch_file(767, "8:16:32:64:64", base=60.0))
    write(archive / "meta.pickle.pbz2", {"meta_archs": enumerate_archs(), "total_archs": 32768})
    return archive


def test_synthetic_records_become_one_row_each(folder):
    frame = import_nats_sss(folder)  # 90 epochs by default, one seed
    assert frame["index"].tolist() == [11, 767] and frame["arch"].tolist() == ["8:8:8:16:32", "8:16:32:64:64"]
    row = frame.iloc[1]
    assert row["cifar10/test_acc"] == 60.0  # cifar10 only has ori-test
    assert row["cifar100/valid_acc"] == 60.0 and row["cifar100/test_acc"] == 61.0  # x-valid, x-test
    assert row["cifar10-valid/valid_acc"] == 60.0 and row["cifar10-valid/test_acc"] == 61.0
    assert row["ImageNet16-120/params_M"] == 0.5 and row["ImageNet16-120/flops_M"] == 5.0
    assert row["cifar10/latency_s"] == pytest.approx(0.01)


def test_twelve_epoch_schedule_averages_the_three_seeds(folder):
    frame = import_nats_sss(folder, hp="12")
    # seeds give base, base+2, base+4 -> mean base+2; latencies 0.01, 0.02, 0.03 -> 0.02
    assert frame.iloc[0]["cifar100/test_acc"] == 50.0 + 1 + 2
    assert frame.iloc[0]["cifar10/latency_s"] == pytest.approx(0.02)
    assert import_nats_sss(folder, hp="1").iloc[0]["cifar10/test_acc"] == 50.0


def _raw_final(record: dict, dataset: str, split: str) -> float:
    values = [res["eval_acc1es"][f"{split}@{res['epochs'] - 1}"]
              for (name, _), res in record["all_results"].items() if name == dataset]
    return float(np.mean(values))


@pytest.mark.parametrize("hp", ["90", "12", "01"])
def test_official_fixture_values_equal_the_raw_records(shared, hp):
    folder = shared / FIXTURE
    frame = import_nats_sss(folder, hp=hp).set_index("arch")
    assert frame["index"].tolist() == [0, 11, 284]
    for index, arch in ((0, "8:8:8:8:8"), (11, "8:8:8:16:32"), (284, "8:8:40:32:40")):
        record = safe_load(folder / f"{index:06d}.pickle.pbz2")[hp]
        row = frame.loc[arch]
        assert row["cifar10/test_acc"] == _raw_final(record, "cifar10", "ori-test")
        assert row["cifar100/test_acc"] == _raw_final(record, "cifar100", "x-test")
        assert row["ImageNet16-120/valid_acc"] == _raw_final(record, "ImageNet16-120", "x-valid")
        c100 = record["all_results"][("cifar100", 777)]
        assert row["cifar100/params_M"] == c100["params"] and row["cifar100/flops_M"] == c100["flop"]
        assert row["cifar100/latency_s"] == pytest.approx(float(np.mean(c100["latency"])))
    assert frame.loc["8:8:8:16:32", "cifar10/params_M"] == 0.049202  # as printed by the official record


def test_import_then_verify_through_the_cli(shared, tmp_path, capsys):
    root = tmp_path / "root"
    assert main(["import", "nats_sss", "--source", str(shared / FIXTURE), "--data-root", str(root)]) == 0
    table = pd.read_csv(root / "benchmarks/nats_sss/nats_sss.csv")
    assert len(table) == 3 and table.loc[1, "cifar10/test_acc"] == _raw_final(
        safe_load(shared / FIXTURE / "000011.pickle.pbz2")["90"], "cifar10", "ori-test")
    capsys.readouterr()
    assert main(["verify", "nats_sss", "--data-root", str(root)]) == 0
    assert "checked 9 (architecture, dataset) pairs" in capsys.readouterr().out
    table.loc[2, "cifar100/flops_M"] += 0.000001  # one multiply-accumulate off
    table.to_csv(root / "benchmarks/nats_sss/nats_sss.csv", index=False)
    assert main(["verify", "nats_sss", "--data-root", str(root)]) == 2
    err = capsys.readouterr().err.strip()
    assert "1 mismatches, first: 8:8:40:32:40 cifar100 (imported table): flops 21831684 != official 21.831685M" in err
    assert len(err.splitlines()) == 1


def _one_line_error(source, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        import_nats_sss(source, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_broken_files_give_one_line_errors(folder, tmp_path):
    target = folder / "000011.pickle.pbz2"
    good = target.read_bytes()
    target.write_bytes(good[: len(good) // 2])
    assert "corrupt bz2 data" in _one_line_error(folder)
    write(target, None, raw=pickle.dumps(arch_file(11, "8:8:8:16:32"))[:-40])
    assert "truncated or corrupt pickle" in _one_line_error(folder)
    write(target, {"90": pathlib.PurePosixPath("/etc")})
    assert "refused to unpickle" in _one_line_error(folder) and "--trust-pickles" in _one_line_error(folder)
    write(target, arch_file(11, "8:8:8:16:32", schedules=("12",)))
    assert "no results for the 90-epoch schedule (has ['12'])" in _one_line_error(folder)
    write(target, arch_file(11, "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"))
    assert "is this the NATS-tss folder?" in _one_line_error(folder)
    write(target, arch_file(12, "8:8:8:16:40"))
    assert "holds architecture 12, but its name says 11" in _one_line_error(folder)
    write(target, arch_file(5, "8:8:8:16:32"))
    assert "arch_index 5 does not match arch_str '8:8:8:16:32' (index 11)" in _one_line_error(folder)
    write(target, {"90": {"arch_index": 11, "arch_str": "8:8:8:16:32"}})
    assert "lacks 'all_results'" in _one_line_error(folder)
    broken = arch_file(11, "8:8:8:16:32")
    del broken["90"]["all_results"][("cifar100", 777)]["params"]
    write(target, broken)
    assert "malformed results (KeyError: 'params')" in _one_line_error(folder)


def test_bad_sources_and_meta(folder, tmp_path):
    assert "does not exist" in _one_line_error(tmp_path / "nowhere")
    assert "expected the NATS-sss-v1_0-50262-simple folder" in _one_line_error(folder / "000011.pickle.pbz2")
    (tmp_path / "empty").mkdir()
    assert "no NNNNNN.pickle.pbz2 records" in _one_line_error(tmp_path / "empty")
    assert "no '200'-epoch schedule; use --hp 01, 12 or 90" in _one_line_error(folder, hp="200")
    write(folder / "meta.pickle.pbz2", {"meta_archs": enumerate_archs()[::-1]})
    assert "order differs from the official index at position 0" in _one_line_error(folder)
    write(folder / "meta.pickle.pbz2", [1, 2, 3])
    assert "no 'meta_archs' list" in _one_line_error(folder)


def test_cli_import_error_is_one_line_and_writes_nothing(folder, tmp_path, capsys):
    (folder / "000767.pickle.pbz2").write_bytes(b"BZh9 not really")
    root = tmp_path / "root"
    assert main(["import", "nats_sss", "--source", str(folder), "--data-root", str(root)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "000767.pickle.pbz2" in err and len(err.splitlines()) == 1
    assert not (root / "benchmarks/nats_sss/nats_sss.csv").exists()
