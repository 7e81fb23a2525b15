"""NAS-Bench-NLP importer and benchmark on a tiny tarball written in the official format."""

from __future__ import annotations

import io
import json
import math
import random
import tarfile
from pathlib import Path

import pytest

from nasproxy_bench.adapters.nbnlp.benchmark import NBNLPBenchmark
from nasproxy_bench.adapters.nbnlp.logs import read_logs
from nasproxy_bench.errors import DataError

ELMAN = {"f": {"op": "linear", "input": ["x", "h_prev_0"]}, "h_new_0": {"op": "activation_tanh", "input": ["f"]}}
ELMAN_RENAMED = {"h_new_0": {"op": "activation_tanh", "input": ["g"]}, "g": {"op": "linear", "input": ["h_prev_0", "x"]}}
GATED = {
    "a": {"op": "linear", "input": ["x", "h_prev_0"]},
    "s": {"op": "activation_sigm", "input": ["a"]},
    "b": {"op": "linear", "input": ["x", "h_prev_0"]},
    "t": {"op": "activation_tanh", "input": ["b"]},
    "h_new_0": {"op": "blend", "input": ["s", "t", "h_prev_0"]},
}


def official_log(recepie_id: int, recepie: dict, num_params: int, test: list[float], status: str = "OK") -> dict:
    """A log with the official keys (losses shortened to what the test needs, padded to 50 epochs)."""
    pad = (test + [test[-1]] * 50)[:50] if status == "OK" else test
    return {
        "recepie_id": recepie_id, "recepie": json.dumps(recepie), "num_params": num_params, "status": status,
        "train_losses": pad, "val_losses": [v + 0.1 for v in pad], "test_losses": pad,
        "experiment_id": 999000000 + recepie_id, "emsize": 400, "nhid": 600, "nlayers": 3, "tied": True,
    }


def write_tar(path: Path, logs: dict[str, dict]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, log in logs.items():
            data = json.dumps(log).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture()
def tiny_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "data"
    (root / "benchmarks/nbnlp").mkdir(parents=True)
    logs = {
        "train_logs_single_run/log_stats_model_1_a.json": official_log(1, ELMAN, 5_731_600, [5.0, 4.9, 4.8]),
        "train_logs_single_run/log_stats_model_2_a.json": official_log(2, ELMAN_RENAMED, 5_731_600, [5.2, 5.0, 4.6]),
        "train_logs_single_run/log_stats_model_3_a.json": official_log(3, GATED, 1, [6.0, math.nan], "loss is nan!"),
        "train_logs_single_run/log_stats_model_4_a.json": official_log(4, GATED, 1, [4.5, 4.4]),
        "train_logs_wikitext-2/log_stats_model_1_b.json": official_log(1, ELMAN, 19_000_000, [6.0]),
    }
    write_tar(root / "benchmarks/nbnlp/train_logs.tar.gz", logs)
    return root


def test_reader_normalises_every_log(tiny_root: Path):
    frame = read_logs(tiny_root / "benchmarks/nbnlp/train_logs.tar.gz")
    assert list(frame["recepie_id"]) == [1, 2, 3, 4, 1]
    assert list(frame["dataset"]) == ["ptb"] * 4 + ["wikitext2"]
    assert list(frame["ok"]) == [True, True, False, True, True]
    assert frame["arch"][0] == frame["arch"][1]  # renamed copy of the same cell
    assert frame["test_logppl"][0] == pytest.approx(4.8)
    assert frame["valid_logppl_ep1"][1] == pytest.approx(5.3)
    assert frame["valid_logppl_ep3"][1] == pytest.approx(4.7)
    assert math.isnan(frame["test_logppl"][2])


def test_benchmark_ground_truth_failures_and_mapping(tiny_root: Path):
    bench = NBNLPBenchmark(tiny_root)
    elman = bench.arch_of(1)
    gated = bench.arch_of(4)
    assert bench.archs() == [elman, gated]
    truth = bench.ground_truth("ptb")
    assert truth[elman] == pytest.approx((4.8 + 4.6) / 2)  # mean over the cell's two OK runs
    assert truth[gated] == pytest.approx(4.4)  # the failed run of the same cell is excluded
    assert bench.table.loc[gated, "ptb/runs"] == 2 and bench.table.loc[gated, "ptb/ok_runs"] == 1
    assert bench.failed_runs().to_dict() == {"loss is nan!": 1}
    assert bench.recepie_ids(elman) == [1, 2]
    assert bench.ground_truth("wikitext2")[elman] == pytest.approx(6.0)
    assert bench.mutate(elman, random.Random(0)) == gated


def test_verify_compares_every_log(tiny_root: Path):
    result = NBNLPBenchmark(tiny_root).verify()
    assert result.checked == 5
    # the gated cell's logs carry a wrong count (1) and WikiText-2's 19,000,000 is not 33,278-word's count
    assert len(result.mismatches) == 3
    assert any("ptb recepie 3" in m for m in result.mismatches)


def test_import_from_a_folder_of_logs(tmp_path: Path):
    folder = tmp_path / "train_logs_single_run"
    folder.mkdir()
    (folder / "log_1.json").write_text(json.dumps(official_log(1, ELMAN, 5_731_600, [5.0])))
    bench = NBNLPBenchmark(tmp_path / "root")
    frame, out = bench.import_table(folder)
    assert out == tmp_path / "root/benchmarks/nbnlp/nbnlp_logs.csv"
    assert list(frame["dataset"]) == ["ptb"] and frame["test_logppl"][0] == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"recepie": "{}"}).encode(), "not a NAS-Bench-NLP log"),
        (json.dumps(official_log(9, {"h_new_0": {"op": "conv", "input": ["x"]}}, 1, [5.0])).encode(), "unknown op 'conv'"),
    ],
)
def test_bad_logs_are_one_line_errors(tmp_path: Path, content: bytes, message: str):
    folder = tmp_path / "train_logs_single_run"
    folder.mkdir()
    (folder / "log.json").write_bytes(content)
    with pytest.raises(DataError) as info:
        read_logs(folder)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_truncated_tar_and_missing_source(tiny_root: Path, tmp_path: Path):
    data = (tiny_root / "benchmarks/nbnlp/train_logs.tar.gz").read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated"):
        read_logs(cut)
    with pytest.raises(DataError, match="no such file"):
        read_logs(tmp_path / "absent.tar.gz")
    with pytest.raises(DataError, match="missing .*train_logs.tar.gz"):
        NBNLPBenchmark(tmp_path / "empty").archs()


@pytest.mark.slow
def test_shared_logs_counts_and_params(shared: Path):
    bench = NBNLPBenchmark(shared)
    ptb = bench.logs[bench.logs["dataset"] == "ptb"]
    assert len(ptb) == 14_322 and int(ptb["ok"].sum()) == 11_598
    assert bench.failed_runs().sum() == 14_322 - 11_598
    assert bench.ground_truth("ptb").min() == pytest.approx(4.368, abs=1e-3)  # the LSTM cell (GenNAS's L* = 4.36)
    result = bench.verify(stride=700)
    assert result.checked == len(bench.logs[::700]) and not result.mismatches


@pytest.mark.slow
def test_shared_ptb_batches(shared: Path):
    from nasproxy_bench.adapters.nbnlp.inputs import load_ptb, ptb_batches

    vocab, stream = load_ptb(shared)
    assert len(vocab) == 10_000 and len(stream) == 929_589  # official PTB train tokens incl. <eos>
    first = ptb_batches(shared, "ptb", 0, 4, 1)[0]
    assert first.x.shape == (4, 70) and torch_equal(first.x[:, 1:], first.y[:, :-1])
    assert torch_equal(ptb_batches(shared, "ptb", 0, 4, 2)[0].x, first.x)


def torch_equal(a, b) -> bool:
    return bool((a == b).all())
