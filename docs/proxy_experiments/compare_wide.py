"""One wide markdown table from ``nasproxy-bench compare --out CSV``: proxies as rows, datasets as columns.

Usage: python docs/proxy_experiments/compare_wide.py COMPARE.csv

Each cell is ``rank agreement / our SPR / reference SPR`` on the common architectures (``–``
where undefined, e.g. a proxy with no finite score); the header gives each dataset's n.
"""
import sys

import pandas as pd


def cell(row: pd.Series) -> str:
    parts = [row["rank_agreement"], row["ours_spr"], row["reference_spr"]]
    return " / ".join("–" if pd.isna(v) else f"{v:.2f}" for v in parts)


def main() -> None:
    table = pd.read_csv(sys.argv[1])
    datasets = sorted(table["dataset"].unique())
    sizes = table.groupby("dataset")["n_common"].max()
    print("| proxy | " + " | ".join(f"{d} ({sizes[d]})" for d in datasets) + " |")
    print("|---" * (len(datasets) + 1) + "|")
    for proxy, rows in table.groupby("proxy"):
        by_dataset = {r["dataset"]: cell(r) for _, r in rows.iterrows()}
        print(f"| {proxy} | " + " | ".join(by_dataset.get(d, "") for d in datasets) + " |")


if __name__ == "__main__":
    main()
