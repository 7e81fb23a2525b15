"""The NB101 TFRecord importer on records written here in the official framing."""

from __future__ import annotations

import base64
import json
import struct

import pandas as pd
import pytest

from nasproxy_bench.adapters.nb101.importer import import_nb101
from nasproxy_bench.adapters.nb101.spec import NB101Spec
from nasproxy_bench.adapters.nb101.tfrecord import crc32c, frame_record, masked_crc32c, parse_model_metrics
from nasproxy_bench.cli import main
from nasproxy_bench.errors import DataError
from tests.nb101_fixtures import OFFICIAL_ROWS


# -- a minimal protobuf writer for nasbench's ModelMetrics (field numbers of model_metrics.proto)
def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def double_field(number: int, value: float) -> bytes:
    return varint(number << 3 | 1) + struct.pack("<d", value)


def message_field(number: int, body: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(body)) + body


def evaluation(epoch: float, seconds: float, train: float, valid: float, test: float) -> bytes:
    body = b"".join(double_field(n, v) for n, v in enumerate((epoch, seconds, train, valid, test), start=1))
    return body + message_field(6, b"/ckpt/model.ckpt-1")


def model_metrics(params: int, final: tuple[float, float, float]) -> bytes:
    valid, test, seconds = final
    evals = [evaluation(0, 0, 0.1, 0.1, 0.1), evaluation(54, seconds / 2, 0.5, 0.5, 0.5), evaluation(108, seconds, 0.99, valid, test)]
    return b"".join(message_field(1, e) for e in evals) + varint(2 << 3) + varint(params) + double_field(3, seconds + 60)


def payload(row: int, epochs: int, final: tuple[float, float, float]) -> bytes:
    digest, matrix, ops, params = OFFICIAL_ROWS[row]
    adjacency = "".join(str(v) for r in matrix for v in r)
    metrics = base64.b64encode(model_metrics(params, final)).decode()
    return json.dumps([digest, epochs, adjacency, ",".join(ops), metrics]).encode()


def write_tfrecord(path, payloads) -> None:
    path.write_bytes(b"".join(frame_record(p) for p in payloads))


RUNS = {0: [(0.90, 0.89, 1000.0), (0.92, 0.91, 1100.0), (0.94, 0.93, 1200.0)],
        1: [(0.80, 0.79, 2000.0), (0.82, 0.81, 2100.0), (0.84, 0.83, 2200.0)]}


@pytest.fixture()
def only108(tmp_path):
    path = tmp_path / "nasbench_only108.tfrecord"
    write_tfrecord(path, [payload(row, 108, run) for row, runs in RUNS.items() for run in runs])
    return path


def test_crc32c_check_value():
    assert crc32c(b"123456789") == 0xE3069283  # the standard CRC-32C check value
    assert crc32c(b"") == 0
    # masking: rotate right 15, add 0xa282ead8
    crc = crc32c(b"abc")
    assert masked_crc32c(b"abc") == ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def test_protobuf_decoding():
    decoded = parse_model_metrics(model_metrics(1756298, (0.9, 0.8, 100.0)))
    assert decoded["trainable_parameters"] == 1756298
    assert decoded["total_time"] == 160.0
    assert len(decoded["evaluation_data"]) == 3
    assert decoded["evaluation_data"][2] == {"current_epoch": 108.0, "training_time": 100.0, "train_accuracy": 0.99,
                                             "validation_accuracy": 0.9, "test_accuracy": 0.8}


def test_only108_gives_three_run_means(only108):
    frame = import_nb101(only108).set_index("arch")
    assert len(frame) == 2
    first = frame.loc[OFFICIAL_ROWS[0][0]]
    assert first["cifar10/valid_acc"] == pytest.approx(92.0)
    assert first["cifar10/test_acc"] == pytest.approx(91.0)
    assert first["cifar10/runs"] == 3
    assert first["cifar10/train_time_s_ep108"] == pytest.approx(1100.0)
    assert first["cifar10/params"] == OFFICIAL_ROWS[0][3]
    spec = NB101Spec.from_json(first["spec"])
    assert spec.hash() == OFFICIAL_ROWS[0][0]
    assert frame.loc[OFFICIAL_ROWS[1][0], "cifar10/test_acc"] == pytest.approx(81.0)


def test_full_file_keeps_every_budget(tmp_path):
    path = tmp_path / "nasbench_full.tfrecord"
    runs = [payload(0, e, (0.5 + e / 1000, 0.4 + e / 1000, float(e))) for e in (4, 12, 36, 108) for _ in range(3)]
    write_tfrecord(path, runs)
    row = import_nb101(path).iloc[0]
    assert row["cifar10/valid_acc_ep4"] == pytest.approx(50.4)
    assert row["cifar10/test_acc_ep36"] == pytest.approx(43.6)
    assert row["cifar10/valid_acc"] == row["cifar10/valid_acc_ep108"] == pytest.approx(60.8)


def test_cli_import_then_benchmark_reads_it(only108, tmp_path, capsys):
    root = tmp_path / "root"
    assert main(["import", "nb101", "--source", str(only108), "--data-root", str(root)]) == 0
    assert "wrote 2 architectures" in capsys.readouterr().out
    from nasproxy_bench.adapters.nb101.benchmark import NB101Benchmark

    bench = NB101Benchmark(root)
    assert "imported official table" in bench.ground_truth_source
    assert "mean over the training runs" in bench.dataset("cifar10").metric().description
    assert bench.ground_truth("cifar10", "test_acc").loc[OFFICIAL_ROWS[1][0]] == pytest.approx(81.0)
    assert main(["verify", "nb101", "--data-root", str(root)]) == 0


def test_bad_checksum_stops_the_import_and_writes_nothing(only108, tmp_path, capsys):
    data = bytearray(only108.read_bytes())
    first_len = struct.unpack("<Q", data[:8])[0]
    data[12 + first_len + 4 + 20] ^= 0x01  # one bit inside the second record's payload
    only108.write_bytes(bytes(data))
    with pytest.raises(DataError, match="bad data checksum of record 1"):
        import_nb101(only108)
    root = tmp_path / "root"
    assert main(["import", "nb101", "--source", str(only108), "--data-root", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "download it again" in err
    assert not (root / "benchmarks/nb101/nb101.csv").exists()


def test_truncated_file_is_a_clear_error(only108):
    only108.write_bytes(only108.read_bytes()[:-10])
    with pytest.raises(DataError, match="truncated record 5"):
        import_nb101(only108)


def test_record_that_is_not_nb101_is_a_clear_error(tmp_path):
    path = tmp_path / "x.tfrecord"
    write_tfrecord(path, [b'["abc", 108, "01", "input", ""]'])
    with pytest.raises(DataError, match="record 0 is not an NB101 record"):
        import_nb101(path)


def test_hash_mismatch_is_a_clear_error(tmp_path):
    path = tmp_path / "x.tfrecord"
    record = json.loads(payload(0, 108, RUNS[0][0]))
    record[0] = "f" * 32
    write_tfrecord(path, [json.dumps(record).encode()])
    with pytest.raises(DataError, match="record says ffff"):
        import_nb101(path)


def test_imported_table_round_trips_through_csv(only108, tmp_path):
    frame = import_nb101(only108)
    frame.to_csv(tmp_path / "t.csv", index=False)
    again = pd.read_csv(tmp_path / "t.csv")
    assert list(again["arch"]) == list(frame["arch"])
