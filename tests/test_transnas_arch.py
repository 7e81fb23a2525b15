"""TransNAS-Bench-101 architecture strings: parsing, rejection, enumeration, mutation."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from nasproxy_bench.adapters.transnas.arch import MacroArch, MicroArch
from nasproxy_bench.adapters.transnas.benchmark import TNB101MacroBenchmark, TNB101MicroBenchmark
from nasproxy_bench.adapters.transnas.verify import naslib_to_arch


def test_micro_round_trip_and_cell_code():
    arch = MicroArch.parse("64-41414-3_13_213")
    assert str(arch) == "64-41414-3_13_213"
    assert arch.node_inputs() == ["3", "13", "213"]


def test_macro_round_trip():
    assert str(MacroArch.parse("64-1242-basic")) == "64-1242-basic"


@pytest.mark.parametrize("bad", [
    "", "64-41414-3_13_21", "64-41414-3_13_2134", "64-41414-4_13_213", "32-41414-3_13_213",
    "64-41413-3_13_213", "64-41414-313213", "64-41414-3_13_213-x",
])
def test_micro_rejects_malformed(bad):
    with pytest.raises(ValueError):
        MicroArch.parse(bad)


@pytest.mark.parametrize("bad", [
    "64-111-basic",        # 3 modules
    "64-1111111-basic",    # 7 modules
    "64-1111-basic",       # no downsampling
    "64-3333-basic",       # no doubling
    "64-33333-basic",      # 5 downsamplings, no doubling
    "64-42224-basic",      # 4 doublings
    "64-1245-basic",       # digit 5
    "64-1242-micro",
])
def test_macro_rejects_out_of_space(bad):
    with pytest.raises(ValueError):
        MacroArch.parse(bad)


def test_enumeration_sizes_and_uniqueness():
    micro, macro = MicroArch.enumerate(), MacroArch.enumerate()
    assert len(micro) == 4096 and len(set(micro)) == 4096
    assert len(macro) == 3256 and len(set(macro)) == 3256


def test_mutation_is_one_edit_inside_the_space():
    rng = random.Random(0)
    arch = MicroArch.parse("64-41414-3_13_213")
    for _ in range(50):
        child = arch.mutate(rng)
        assert sum(a != b for a, b in zip(arch.ops, child.ops, strict=True)) == 1
    macro = MacroArch.parse("64-1242-basic")
    for _ in range(50):
        child = macro.mutate(rng)
        assert child != macro and MacroArch.parse(str(child)) == child


def test_naslib_keys_map_to_official_strings():
    assert naslib_to_arch("(1, 0, 0, 2, 1, 0)", micro=True) == "64-41414-1_00_210"
    assert naslib_to_arch("(1, 2, 4, 2, 0, 0)", micro=False) == "64-1242-basic"
    with pytest.raises(ValueError):
        naslib_to_arch("(1, 0, 0)", micro=True)


def test_enumeration_equals_the_official_tables(shared):
    for cls in (TNB101MicroBenchmark, TNB101MacroBenchmark):
        bench = cls(shared)
        table = pd.read_csv(shared / bench.table_path, usecols=["arch"])["arch"].tolist()
        assert bench.enumerate() == sorted(table)
        assert list(bench.archs()) == table


def test_verify_against_naslib_param_counts(shared):
    for cls in (TNB101MicroBenchmark, TNB101MacroBenchmark):
        result = cls(shared).verify(stride=700)
        assert result.checked >= 7 and result.mismatches == [], result.mismatches[:3]
        assert result.max_errors["params"] == 0


def test_reference_scores_map_onto_our_archs(shared):
    from nasproxy_bench.adapters.transnas.reference import reference_frame

    frame = reference_frame("macro", shared)
    assert set(frame["dataset"]) == set(TNB101MacroBenchmark.datasets)
    assert set(frame["arch_str"]) <= set(TNB101MacroBenchmark(shared).archs())
    assert {"params", "nwot", "jacov", "snip"} <= set(frame.columns)
