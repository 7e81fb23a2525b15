"""Penn Treebank minibatches for NAS-Bench-NLP proxies: real text, fixed per seed.

Vocabulary as the official ``data.Corpus``: words of ``ptb.train.txt``, ``ptb.valid.txt`` and
``ptb.test.txt`` in that order, each line followed by ``<eos>``, ids by first appearance
(10,000 words on PTB). A batch is ``batch_size`` windows of the training stream, each
``BPTT`` + 1 tokens long at a seeded start (SHA-256 of seed and window index): inputs are the
first ``BPTT`` tokens, targets the next-token shift, as the official ``get_batch``.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import torch

from nasproxy_bench.adapters.nbnlp.network import BPTT, VOCAB
from nasproxy_bench.errors import DataError
from nasproxy_bench.inputs import Batch

PTB_DIR = "inputs/ptb"
SPLITS = ("train", "valid", "test")


def build_vocabulary(lines_per_split: list[list[str]]) -> dict[str, int]:
    """Word → id by first appearance over the splits in order, ``<eos>`` ending every line."""
    vocab: dict[str, int] = {}
    for lines in lines_per_split:
        for line in lines:
            for word in [*line.split(), "<eos>"]:
                vocab.setdefault(word, len(vocab))
    return vocab


def tokenize(lines: list[str], vocab: dict[str, int]) -> torch.Tensor:
    return torch.tensor([vocab[w] for line in lines for w in [*line.split(), "<eos>"]], dtype=torch.long)


@lru_cache(maxsize=2)
def load_ptb(data_root: Path) -> tuple[dict[str, int], torch.Tensor]:
    """The official vocabulary and the tokenized training stream."""
    folder = Path(data_root) / PTB_DIR
    texts = []
    for split in SPLITS:
        path = folder / f"ptb.{split}.txt"
        if not path.is_file():
            raise DataError(f"missing {path}; put Mikolov's PTB (ptb.train/valid/test.txt) under {folder}")
        try:
            texts.append(path.read_text(encoding="utf-8").splitlines())
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: unreadable ({exc}); replace it with the published file") from None
    vocab = build_vocabulary(texts)
    if len(vocab) != VOCAB["ptb"]:
        raise DataError(f"{folder}: PTB vocabulary has {len(vocab)} words, expected {VOCAB['ptb']:,} (truncated or altered files?)")
    return vocab, tokenize(texts[0], vocab)


def window_starts(stream_length: int, seed: int, count: int, length: int) -> list[int]:
    """``count`` seeded window starts; the first k depend only on (seed, k)."""
    room = stream_length - length
    return [
        int.from_bytes(hashlib.sha256(f"ptb-window:{seed}:{i}".encode()).digest()[:8], "little") % room
        for i in range(count)
    ]


def ptb_batches(data_root: Path, dataset: str, seed: int, batch_size: int, count: int = 1) -> list[Batch]:
    """``count`` batches of (batch_size, BPTT) token ids and their next-token targets."""
    if dataset != "ptb":
        raise DataError(f"no text inputs for NAS-Bench-NLP dataset {dataset!r} here (only ptb)")
    _, stream = load_ptb(Path(data_root))
    starts = window_starts(len(stream), seed, batch_size * count, BPTT + 1)
    windows = torch.stack([stream[s : s + BPTT + 1] for s in starts])
    return [
        Batch(part[:, :-1].contiguous(), part[:, 1:].contiguous(), "ptb.train (Penn Treebank)", False, seed)
        for part in windows.split(batch_size)
    ]


__all__ = ["ptb_batches", "load_ptb", "build_vocabulary", "window_starts"]
