"""One wide markdown table from ``nasproxy-bench compare --out CSV``: proxies as rows, datasets as columns.

Usage: python docs/proxy_experiments/compare_wide.py COMPARE.csv [SEED]

Each cell is ``rank agreement / our SPR / reference SPR`` on the common architectures (``–``
where undefined, e.g. a proxy with no finite score) for one init/batch seed (default 0: a store
with seed experiments holds several rows per proxy and task); the header gives each dataset's
largest n, and a cell on fewer architectures gives its own n in brackets.
"""
import sys

import pandas as pd


def cell(row: pd.Series, column_n: int) -> str:
    parts = [row["rank_agreement"], row["ours_spr"], row["reference_spr"]]
    text = " / ".join("–" if pd.isna(v) else f"{v:.2f}" for v in parts)
    return text if row["n_common"] == column_n else f"{text} (n {row['n_common']})"


def main() -> None:
    table = pd.read_csv(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    table = table[table["seed"] == seed]
    datasets = sorted(table["dataset"].unique())
    sizes = table.groupby("dataset")["n_common"].max()
    print("| proxy | " + " | ".join(f"{d} ({sizes[d]})" for d in datasets) + " |")
    print("|---" * (len(datasets) + 1) + "|")
    for proxy, rows in table.groupby("proxy"):
        by_dataset = {r["dataset"]: cell(r, sizes[r["dataset"]]) for _, r in rows.iterrows()}
        print(f"| {proxy} | " + " | ".join(by_dataset.get(d, "") for d in datasets) + " |")


if __name__ == "__main__":
    main()
