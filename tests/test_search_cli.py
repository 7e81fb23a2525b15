import argparse

import pytest

from nasproxy_bench.argtypes import seed_list
from nasproxy_bench.cli import main

from .test_search_endtoend import FastNB201, fake_proxies  # noqa: F401 - fixture


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    return err


def test_seed_lists():
    assert seed_list("0-9") == list(range(10))
    assert seed_list("0-2,7,2") == [0, 1, 2, 7]
    assert seed_list("") == [] and seed_list(" , ") == []  # the command reports it in one line
    for bad in ("5-3", "a", "1-"):
        with pytest.raises(argparse.ArgumentTypeError):
            seed_list(bad)


@pytest.mark.parametrize("argv, message", [
    (["--fitness", "no_such_proxy"], "unknown proxy 'no_such_proxy'"),
    (["--fitness", "vote"], "not one per-network proxy"),
    (["--fitness", "naswot", "--benchmark", "nb999"], "unknown benchmark 'nb999'"),
    (["--fitness", "naswot", "--dataset", "mnist"], "unknown dataset of nb201 'mnist'"),
    (["--fitness", "naswot", "--tournament", "60"], "1 <= tournament <= population"),
    (["--fitness", "naswot", "--batch-size", "0"], "--batch-size must be positive"),
    ([], "search needs --fitness"),
    (["--fitness", "naswot", "--seeds", ""], "--seeds is empty"),
])
def test_bad_input_is_one_line_and_touches_no_store(tmp_path, capsys, argv, message):
    store = tmp_path / "s.h5"
    assert main(["search", "--store", str(store), *argv]) == 2
    assert message in one_line_error(capsys)
    assert not store.exists() and not store.with_name("s.h5.lock").exists()


def test_table_without_outcomes_is_a_one_line_error(tmp_path, capsys):
    assert main(["search", "--table", "--store", str(tmp_path / "none.h5"), "--out", str(tmp_path / "t.md")]) == 2
    assert "no recorded search outcomes" in one_line_error(capsys)


def test_search_prints_seeds_and_summary_then_the_table(fake_root, tmp_path, capsys, fake_proxies):  # noqa: F811
    store = tmp_path / "s.h5"
    argv = ["search", "--data-root", str(fake_root), "--store", str(store), "--benchmark", FastNB201.name,
            "--fitness", "test_distance", "--seeds", "0-2", "--population", "20", "--tournament", "5", "--cycles", "150"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("seed ") == 3
    assert "fitness test_distance (re, 3 seeds): test_acc " in out and "oracle" in out
    assert main(argv) == 0  # recorded searches are not rerun
    assert capsys.readouterr().out.count("recorded earlier; not rerun") == 3
    out_md = tmp_path / "t.md"
    assert main(["search", "--table", "--store", str(store), "--out", str(out_md)]) == 0
    text = out_md.read_text()
    assert "| test_distance [P20 S5 C150 bs64] |" in text
    assert out_md.with_suffix(".csv").is_file()
