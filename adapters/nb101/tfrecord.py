"""Just enough of TFRecord framing, CRC-32C and protobuf wire format to read the NB101 release.

A TFRecord file is a sequence of records, each: length (uint64, little endian), masked
CRC-32C of those 8 bytes (uint32), the payload, masked CRC-32C of the payload (uint32).
No TensorFlow or protobuf package is needed.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from nasproxy_bench.errors import DataError

_CASTAGNOLI_REVERSED = 0x82F63B78
_MASK_DELTA = 0xA282EAD8


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _CASTAGNOLI_REVERSED if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as used by TFRecord; ``crc32c(b"123456789") == 0xE3069283``."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotate right by 15 bits and add a constant (mod 2^32)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame_record(payload: bytes) -> bytes:
    """One record in TFRecord framing (used to write test fixtures)."""
    length = struct.pack("<Q", len(payload))
    return length + struct.pack("<I", masked_crc32c(length)) + payload + struct.pack("<I", masked_crc32c(payload))


def _read_exact(handle: BinaryIO, size: int, path: Path, index: int, offset: int) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise DataError(f"{path}: truncated record {index} at byte {offset}; download the file again")
    return data


def read_records(path: Path) -> Iterator[bytes]:
    """Payloads of every record, checking both checksums; DataError on the first bad one."""
    with open(path, "rb") as handle:
        index = 0
        while True:
            offset = handle.tell()
            header = handle.read(12)
            if not header:
                return
            if len(header) != 12:
                raise DataError(f"{path}: truncated record {index} at byte {offset}; download the file again")
            (length,) = struct.unpack("<Q", header[:8])
            (length_crc,) = struct.unpack("<I", header[8:])
            if masked_crc32c(header[:8]) != length_crc:
                raise DataError(f"{path}: bad length checksum of record {index} at byte {offset}; "
                                "not a TFRecord file or corrupt, download it again")
            payload = _read_exact(handle, length, path, index, offset)
            (payload_crc,) = struct.unpack("<I", _read_exact(handle, 4, path, index, offset))
            if masked_crc32c(payload) != payload_crc:
                raise DataError(f"{path}: bad data checksum of record {index} at byte {offset}; "
                                "the file is corrupt, download it again")
            yield payload
            index += 1


# -- protobuf wire format ---------------------------------------------------------------------
def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


def parse_fields(data: bytes) -> list[tuple[int, int | float | bytes]]:
    """(field number, value) of every field of a message: varints as int, fixed64 as double,
    fixed32 as float, length-delimited as bytes. ValueError on malformed input."""
    fields: list[tuple[int, int | float | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | float | bytes
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            if pos + 8 > len(data):
                raise ValueError("truncated fixed64")
            (value,) = struct.unpack_from("<d", data, pos)
            pos += 8
        elif wire == 2:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise ValueError("truncated length-delimited field")
            value = data[pos:pos + size]
            pos += size
        elif wire == 5:
            if pos + 4 > len(data):
                raise ValueError("truncated fixed32")
            (value,) = struct.unpack_from("<f", data, pos)
            pos += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        fields.append((number, value))
    return fields


# nasbench/lib/model_metrics.proto field numbers
EVALUATION_FIELDS = {1: "current_epoch", 2: "training_time", 3: "train_accuracy", 4: "validation_accuracy", 5: "test_accuracy"}


def parse_model_metrics(data: bytes) -> dict[str, object]:
    """``ModelMetrics``: ``evaluation_data`` (list of dicts), ``trainable_parameters``, ``total_time``."""
    evaluations: list[dict[str, float]] = []
    out: dict[str, object] = {"evaluation_data": evaluations}
    for number, value in parse_fields(data):
        if number == 1 and isinstance(value, bytes):
            evaluation = {EVALUATION_FIELDS[n]: float(v) for n, v in parse_fields(value) if n in EVALUATION_FIELDS}
            evaluations.append(evaluation)
        elif number == 2 and isinstance(value, int):
            # int32: negative values arrive as 64-bit two's complement varints
            out["trainable_parameters"] = value - (1 << 64) if value >= 1 << 63 else value
        elif number == 3 and isinstance(value, float):
            out["total_time"] = value
    return out
