"""`import tnb101 --source <official .pth>` on a small fixture in the official database format."""

from __future__ import annotations

import fractions
from pathlib import Path

import pandas as pd
import pytest
import torch

from nasproxy_bench.adapters.transnas.importer import TASK_COLUMNS
from nasproxy_bench.cli import main
from nasproxy_bench.errors import DataError
from nasproxy_bench.registry import get_benchmark

METRICS = {
    "class_scene": ["train_top1", "valid_top1", "valid_loss"], "class_object": ["valid_top1", "valid_top5"],
    "jigsaw": ["valid_top1"], "room_layout": ["valid_loss", "valid_neg_loss"],
    "segmentsemantic": ["valid_acc", "valid_mIoU"], "normal": ["valid_ssim", "valid_l1_loss"],
    "autoencoder": ["valid_ssim", "valid_l1_loss"],
}
INFO = ["inference_time", "encoder_params", "model_params", "model_FLOPs", "encoder_FLOPs"]


def _task_record(offset: float, task: str) -> dict:
    # three epochs: the best value sits in the middle, so final != best
    metrics = {m: [offset + 1.0, offset + 3.0, offset + 2.0] for m in METRICS[task]}
    info = {"inference_time": 0.01, "encoder_params": 1000 + offset, "model_params": 2000 + offset,
            "model_FLOPs": 3e6, "encoder_FLOPs": 2e6}
    return {"total_epochs": 3, "model_info": info, "metrics": metrics}


def _database(micro: list[str], macro: list[str]) -> dict:
    def space(archs: list[str]) -> dict:
        return {a: {t: _task_record(10.0 * i, t) for t in METRICS} for i, a in enumerate(archs)}

    return {"metrics_dict": METRICS, "info_names": INFO, "task_list": list(METRICS),
            "data": {"macro": space(macro), "micro": space(micro)}}


@pytest.fixture()
def official_pth(tmp_path: Path) -> Path:
    path = tmp_path / "transnas-bench_v10141024.pth"
    torch.save(_database(["64-41414-3_33_212", "64-41414-0_00_000"], ["64-43243-basic"]), path)
    return path


def test_import_writes_final_and_best_epoch_per_task_for_both_spaces(official_pth, tmp_path, capsys):
    root = tmp_path / "root"
    assert main(["import", "tnb101", "--source", str(official_pth), "--data-root", str(root)]) in (0, None)
    assert "wrote 2 architectures" in capsys.readouterr().out
    micro = pd.read_csv(root / "benchmarks/transnas/tnb101_micro.csv")
    macro = pd.read_csv(root / "benchmarks/transnas/tnb101_macro.csv")
    assert micro["arch"].tolist() == ["64-41414-3_33_212", "64-41414-0_00_000"]
    assert macro["arch"].tolist() == ["64-43243-basic"]
    # final epoch = last value (offset + 2), best epoch = max (offset + 3); second arch has offset 10
    assert micro["class_scene/valid_top1"].tolist() == [2.0, 12.0]
    assert micro["class_scene/best_valid_top1"].tolist() == [3.0, 13.0]
    assert micro["room_layout/valid_neg_loss"].tolist() == [2.0, 12.0]
    assert micro["segmentsemantic/valid_acc"].tolist() == [2.0, 12.0]
    assert micro["segmentsemantic/best_miou"].tolist() == [3.0, 13.0]
    assert micro["normal/best_valid_ssim"].tolist() == [3.0, 13.0]
    assert micro["jigsaw/model_params"].tolist() == [2000.0, 2010.0]
    expected = {f"{t}/{c}" for t, (_, c, _, b) in TASK_COLUMNS.items() for c in (c, b)}
    assert expected <= set(micro.columns)


def test_import_of_one_space_and_refusal_to_overwrite(official_pth, tmp_path, capsys):
    bench = get_benchmark("tnb101_macro")(tmp_path)
    frame, out = bench.import_table(official_pth)
    assert out == tmp_path / "benchmarks/transnas/tnb101_macro.csv" and len(frame) == 1
    assert main(["import", "tnb101_macro", "--source", str(official_pth), "--data-root", str(tmp_path)]) in (0, None)
    assert main(["import", "tnb101_macro", "--source", str(official_pth), "--data-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already holds a table of 1 rows" in err[0]


def test_malformed_official_files_give_one_line_errors(tmp_path):
    bench = get_benchmark("tnb101")(tmp_path)
    bad_arch = tmp_path / "bad_arch.pth"
    database = _database(["64-41414-3_33_2x2"], ["64-43243-basic"])
    torch.save(database, bad_arch)
    with pytest.raises(DataError, match="64-41414-3_33_2x2"):
        bench.import_tables(bad_arch)
    no_metric = _database(["64-41414-3_33_212"], ["64-43243-basic"])
    del no_metric["data"]["micro"]["64-41414-3_33_212"]["jigsaw"]["metrics"]["valid_top1"]
    torch.save(no_metric, tmp_path / "no_metric.pth")
    with pytest.raises(DataError, match="jigsaw: no per-epoch 'valid_top1'"):
        bench.import_tables(tmp_path / "no_metric.pth")
    torch.save({"something": 1}, tmp_path / "other.pth")
    with pytest.raises(DataError, match="not the official TransNAS-Bench-101"):
        bench.import_tables(tmp_path / "other.pth")
    truncated = tmp_path / "truncated.pth"
    torch.save(database, truncated)
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(DataError, match="truncated or corrupt"):
        bench.import_tables(truncated)
    torch.save({"data": {"micro": {"64-41414-3_33_212": fractions.Fraction(1, 3)}}}, tmp_path / "code.pth")
    with pytest.raises(DataError, match="refused to unpickle"):
        bench.import_tables(tmp_path / "code.pth")


def test_verify_compares_imported_model_info_and_tells_which_heads_match(tmp_path):
    from nasproxy_bench.adapters.transnas.verify import check_model_info, encoder_count, naslib_params
    from nasproxy_bench.benchmark import VerifyResult

    bench = get_benchmark("tnb101_micro")(tmp_path)
    archs = ["64-41414-3_33_212", "64-41414-1_02_310", "64-41414-0_00_000"]
    cache: dict = {}
    official = [naslib_params(a, "class_scene", bench, cache, classes=None) for a in archs]
    naslib = [naslib_params(a, "class_scene", bench, cache) for a in archs]
    assert official[0] != naslib[0]  # 47 vs 63 scene classes
    encoders = [encoder_count(a, bench, cache)[0] for a in archs]
    bench.__dict__["table"] = pd.DataFrame({
        "arch": archs,
        "class_scene/model_params": [official[0], naslib[1], official[2] + 1],  # third: matches neither
        "class_scene/encoder_params": [encoders[0], encoders[1], encoders[2] + 5],
    })
    result = VerifyResult()
    tally = check_model_info(bench, result, cache)
    assert tally == {"official heads": 1, "NASLib heads": 1} and result.checked == 3
    assert len(result.mismatches) == 2 and all(archs[2] in m for m in result.mismatches)
    assert result.max_errors == {"encoder_params": 5, "model_params": 1}
