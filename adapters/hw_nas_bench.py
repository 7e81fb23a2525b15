"""Hardware costs of NB201 architectures (HW-NAS-Bench, HELP, HW-NAS-Bench-360).

Two sources, both joined to NB201 architectures by official index *and* checked by arch string:

- the official ``HW-NAS-Bench-v1_0.pickle`` (``data[space][dataset][metric][arch_index]``, with
  metrics ``edgegpu_latency``, ``edgegpu_energy``, ``raspi4_latency``, ``edgetpu_latency``,
  ``pixel3_latency``, ``eyeriss_latency``, ``eyeriss_energy``, ``fpga_latency``,
  ``fpga_energy``, ...), read through the restricted unpickler, placed at
  ``benchmarks/hw_nas_bench/HW-NAS-Bench-v1_0.pickle`` under the data root;
- normalized CSV tables under ``benchmarks/hw_nas_bench/`` (see ``HW_TABLES``).

Columns are named ``<device>/<quantity>_<unit>``, e.g. ``fpga/latency_ms``, ``pi5-litert/energy_mj``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nasproxy_bench.errors import DataError
from nasproxy_bench.safe_pickle import safe_load

HW_DIR = "benchmarks/hw_nas_bench"
OFFICIAL_PICKLE = "HW-NAS-Bench-v1_0.pickle"
# table file -> dataset it was measured for
HW_TABLES = {
    "nb201_cifar10_latency.csv": "cifar10",
    "nb201_help_device_latency.csv": "cifar10",
}
HWNB360 = ("nb201_cifar100_pi5_pixel_hwnasbench360.csv.gz", "cifar100")
OFFICIAL_UNITS = {"latency": "latency_ms", "energy": "energy_mj"}


def official_costs(path: Path, dataset: str, *, trust_pickles: bool = False) -> pd.DataFrame:
    """Per-index hardware metrics of one dataset from the official HW-NAS-Bench pickle."""
    data = safe_load(path, allow_unsafe=trust_pickles)
    try:
        per_metric = data["nasbench201"][dataset]
    except (KeyError, TypeError):
        raise DataError(f"{path}: no 'nasbench201'/{dataset!r} entry; not the HW-NAS-Bench pickle") from None
    columns = {}
    for metric, values in per_metric.items():
        device, _, quantity = metric.partition("_")
        if quantity not in OFFICIAL_UNITS:
            continue  # 'config', arithmetic intensity, ...
        columns[f"{device}/{OFFICIAL_UNITS[quantity]}"] = [float(v) for v in values]
    frame = pd.DataFrame(columns)
    frame.index.name = "index"
    return frame


def _table_costs(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    if "index" not in frame.columns:
        raise DataError(f"{path}: no 'index' column")
    return frame.set_index("index")


def _hwnb360_costs(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    frame = frame[frame["status"] == "ok"]
    wide = {}
    for (device, framework), part in frame.groupby(["device", "framework"]):
        part = part.set_index("arch_idx")
        wide[f"{device}-{framework}/latency_ms"] = part["lat_ms_median"]
        if part["energy_mj"].notna().any():
            wide[f"{device}-{framework}/energy_mj"] = part["energy_mj"]
    out = pd.DataFrame(wide)
    out.index.name = "index"
    return out


def hardware_costs(data_root: Path, dataset: str, index_to_arch: pd.Series, *, trust_pickles: bool = False) -> pd.DataFrame | None:
    """All hardware columns available for ``dataset``, indexed by canonical arch string.

    ``index_to_arch`` maps official NB201 index to arch string; tables that carry an ``arch``
    column must agree with it (a mismatch means a different index convention: refused).
    """
    folder = Path(data_root) / HW_DIR
    parts = []
    official = folder / OFFICIAL_PICKLE
    if official.is_file():
        parts.append(official_costs(official, dataset, trust_pickles=trust_pickles))
    for name, table_dataset in HW_TABLES.items():
        if table_dataset == dataset and (folder / name).is_file():
            parts.append(_table_costs(folder / name))
    if HWNB360[1] == dataset and (folder / HWNB360[0]).is_file():
        parts.append(_hwnb360_costs(folder / HWNB360[0]))
    if not parts:
        return None
    for part in parts:
        if "arch" in part.columns:
            expected = index_to_arch.reindex(part.index)
            bad = part["arch"] != expected
            if bad.any():
                first = part.index[bad.to_numpy()][0]
                raise DataError(f"hardware table disagrees with NB201 on the arch of index {first}; check its index convention")
    merged = pd.concat([p.drop(columns=["arch"], errors="ignore") for p in parts], axis=1)
    merged = merged.loc[:, ~merged.columns.duplicated()]
    merged = merged.reindex(index_to_arch.index)
    merged.index = index_to_arch.to_numpy()
    merged.index.name = "arch"
    return merged
