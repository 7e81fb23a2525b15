# Usage: python docs/gennas_experiments/authors_labels.py STORE DATASET LABELS.json
"""SPR of every NB201 proxy group of a store against the GenNAS authors' label file (GenNAS-Zero
data/nb201/<dataset>.json: [[[op], [op, op], [op, op, op]], accuracy %] for all 15,625 cells, op codes
0 none, 1 skip, 2 conv1x1, 3 conv3x3, 4 avg_pool) and against our default metric, on the same archs.
The label file is read from the user's copy of that repository; it is not part of this project."""
import json
import sys
from pathlib import Path

import pandas as pd

from nasproxy_bench.bootstrap import correlation_ci
from nasproxy_bench.config import resolve_data_root
from nasproxy_bench.metrics import spearman
from nasproxy_bench.registry import open_benchmark
from nasproxy_bench.report import current_groups, group_scores
from nasproxy_bench.store import ResultStore

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


def nb201_string(nodes: list[list[int]]) -> str:
    return "+".join("|" + "|".join(f"{OPS[op]}~{i}" for i, op in enumerate(node)) + "|" for node in nodes)


store_path, dataset, label_path = sys.argv[1:4]
bench = open_benchmark("nb201", resolve_data_root(None))
authors = pd.Series({nb201_string(cell): acc for cell, acc in json.loads(Path(label_path).read_text())})
ours = bench.ground_truth(dataset)
common = authors.index.intersection(ours.index)
print(f"label file: {len(authors)} cells; rank agreement with our {bench.dataset(dataset).default_metric} "
      f"over all {len(common)}: {spearman(authors[common].to_numpy(), ours[common].to_numpy()):.4f}")
for group in current_groups(ResultStore(Path(store_path))):
    if (group.key.benchmark, group.key.dataset) != ("nb201", dataset):
        continue
    scores = group_scores(group).dropna()
    s = -scores.to_numpy(dtype=float)
    cells = []
    for name, labels in (("authors' labels", authors), ("our test acc", ours)):
        t = labels.reindex(scores.index).to_numpy(dtype=float)
        low, high = correlation_ci(s, t, "spearman")
        cells.append(f"{name} {spearman(s, t):.3f} [{low:.2f}, {high:.2f}]")
    print(f"{group.key.proxy}: n={len(s)} " + "; ".join(cells))
