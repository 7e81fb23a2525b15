"""NDS net parsing, canonical strings and one-line errors on malformed nets."""

from __future__ import annotations

import json

import pytest

from nasproxy_bench.adapters.nds.arch import AnyNetArch, CellArch, arch_from_entry, parse_arch
from nasproxy_bench.adapters.nds.entries import duplicates, entries_frame
from nasproxy_bench.errors import DataError
from tests.nds_fixtures import OPTIM, TINY_BASIC_NET, TINY_BOTTLENECK_NET, TINY_CELL_NET, entry


def test_cell_net_round_trips_through_its_canonical_string():
    arch = arch_from_entry(TINY_CELL_NET, None)
    assert isinstance(arch.net, CellArch)
    assert arch.net.normal == (("sep_conv_3x3", 0), ("skip_connect", 1))
    text = str(arch)
    assert json.loads(text) == TINY_CELL_NET
    assert str(parse_arch(text, with_optim=False)) == text


def test_key_order_and_spacing_do_not_change_the_id():
    shuffled = json.dumps(dict(reversed(list(TINY_BASIC_NET.items()))), indent=2)
    assert str(parse_arch(shuffled, with_optim=False)) == str(arch_from_entry(TINY_BASIC_NET, None))


def test_lr_wd_ids_carry_the_recipe():
    a = arch_from_entry(TINY_BASIC_NET, OPTIM)
    b = arch_from_entry(TINY_BASIC_NET, {**OPTIM, "base_lr": 0.2})
    assert str(a) != str(b)
    assert json.loads(str(a)) == {"net": TINY_BASIC_NET, "optim": OPTIM}
    assert str(parse_arch(str(a), with_optim=True)) == str(a)
    with pytest.raises(ValueError, match="lr-wd"):
        parse_arch(str(arch_from_entry(TINY_BASIC_NET, None)), with_optim=True)


def _genotype(**changes):
    genotype = {**TINY_CELL_NET["genotype"], **changes}
    return {**TINY_CELL_NET, "genotype": genotype}


@pytest.mark.parametrize(
    ("net", "message"),
    [
        (_genotype(normal=[["sep_conv_9x9", 0], ["skip_connect", 1]]), "unknown NDS operation 'sep_conv_9x9'"),
        (_genotype(normal=[["sep_conv_3x3", 2], ["skip_connect", 1]]), "reads state 2"),
        (_genotype(normal=[["sep_conv_3x3", 0]]), "two per node"),
        (_genotype(normal_concat=[5]), "outside 0..2"),
        ({**TINY_CELL_NET, "width": 0}, "positive even"),
        ({**TINY_BASIC_NET, "ws": [4, 8, 16]}, "ds has 2 entries, ws 3"),
        ({**TINY_BASIC_NET, "ws": [4, 0]}, "must be positive"),
        ({**TINY_BOTTLENECK_NET, "num_gs": [1, 3]}, "3 groups do not divide the bottleneck width 4"),
        ({**TINY_BOTTLENECK_NET, "bot_muls": [1.0]}, "bot_muls 1"),
        ({**TINY_BASIC_NET, "block_type": "mystery_block"}, "unknown AnyNet block_type"),
        ({**TINY_BASIC_NET, "num_gs": [1, 2]}, "takes no bot_muls/num_gs"),
        ("not a dict", "JSON object"),
    ],
)
def test_malformed_nets_raise_one_line_value_errors(net, message):
    with pytest.raises(ValueError, match=message) as info:
        arch_from_entry(net, None)
    assert "\n" not in str(info.value)


def test_bottleneck_net_keeps_groups_as_a_number_of_groups():
    net = arch_from_entry(TINY_BOTTLENECK_NET, None).net
    assert isinstance(net, AnyNetArch)
    assert net.num_gs == (1, 2) and net.bot_muls == (1.0, 0.5)


def test_parse_rejects_non_json_with_a_position():
    with pytest.raises(ValueError, match="must be JSON"):
        parse_arch("{'genotype': 1}", with_optim=False)


def test_entries_give_best_and_final_accuracy_and_mark_divergence():
    frame = entries_frame(
        [("", entry(TINY_BASIC_NET, [40.0, 30.0, 35.0])), ("", entry({**TINY_BASIC_NET, "ws": [4, 16]}, [99.5, 99.9]))],
        "fixture", with_optim=False, classes=1000,
    )
    assert frame["test_acc"].tolist() == [70.0, 0.5]
    assert frame["final_acc"].tolist() == pytest.approx([65.0, 0.1])
    assert frame["diverged"].tolist() == [False, True]


def test_cifar_divergence_threshold_is_near_chance_error():
    frame = entries_frame([("", entry(TINY_BASIC_NET, [89.5]))], "fixture", with_optim=False, classes=10)
    assert frame["diverged"].tolist() == [True]


def test_malformed_entry_names_file_and_index_on_one_line():
    bad = entry(TINY_BASIC_NET, [50.0])
    del bad["flops"]
    with pytest.raises(DataError, match=r"fixture: entry 1: entry lacks \['flops'\]") as info:
        entries_frame([("", entry(TINY_BASIC_NET, [50.0])), ("", bad)], "fixture", with_optim=False, classes=10)
    assert "\n" not in str(info.value)


def test_duplicates_are_reported_with_counts():
    items = [("", entry(TINY_BASIC_NET, [50.0])), ("", entry(TINY_BASIC_NET, [52.0], seed=2)),
             ("", entry(TINY_BOTTLENECK_NET, [50.0]))]
    frame = entries_frame(items, "fixture", with_optim=False, classes=10)
    assert duplicates(frame) == {str(arch_from_entry(TINY_BASIC_NET, None)): 2}
    assert duplicates(frame, repeats_expected=True) == {}
