"""The command line end to end, on the fake data root and (where present) the real one."""

import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nasproxy_bench.cli import main


def run_cli(*args, env_root=None):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if env_root is not None:
        env["NASPROXY_DATA"] = str(env_root)
    return subprocess.run(
        [sys.executable, "-m", "nasproxy_bench.cli", *args], capture_output=True, text=True, env=env, timeout=600
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--benchmark", "nb999", "--dataset", "cifar10"], "unknown benchmark 'nb999'; choose one of: "),
        (["run", "--benchmark", "nb201", "--dataset", "mnist"], "unknown dataset of nb201 'mnist'"),
        (["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", "magic"], "unknown proxy 'magic'"),
        (["run", "--benchmark", "nb201"], "run needs --benchmark and --dataset"),
    ],
)
def test_bad_names_exit_nonzero_with_one_line(fake_root, tmp_path, capsys, args, message):
    code = main([*args, "--data-root", str(fake_root), "--store", str(tmp_path / "s.h5")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and len(err.splitlines()) == 1


def test_malformed_architecture_string_is_one_line(fake_root, capsys):
    code = main(["score", "--arch", "|nor_conv_3x3~0|+|bogus~0|none~1|+|none~0|none~1|none~2|", "--proxies", "params",
                 "--data-root", str(fake_root)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == (
        "error: malformed nb201 architecture: unknown NB201 operation 'bogus'; "
        "expected one of none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3"
    )


def test_score_one_architecture(fake_root, capsys):
    arch = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
    assert main(["score", "--arch", arch, "--proxies", "params,nn_mass", "--data-root", str(fake_root)]) == 0
    out = capsys.readouterr().out
    assert "params       0.073306" in out and "nn_mass" in out


def test_missing_and_truncated_data_files(tmp_path, fake_root, capsys):
    code = main(["run", "--benchmark", "nb201", "--dataset", "cifar10", "--data-root", str(tmp_path), "--store", str(tmp_path / "s.h5")])
    assert code == 2
    assert "missing benchmark table" in capsys.readouterr().err
    table = tmp_path / "benchmarks/nb201/nb201.csv"
    table.parent.mkdir(parents=True)
    table.write_text((fake_root / "benchmarks/nb201/nb201.csv").read_text()[:5000])
    code = main(["run", "--benchmark", "nb201", "--dataset", "cifar10", "--data-root", str(tmp_path), "--store", str(tmp_path / "s.h5")])
    err = capsys.readouterr().err
    assert code == 2 and "truncated?" in err


def test_list_shows_benchmarks_datasets_and_proxies(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "nb201" in out and "ImageNet16-120" in out and "params" in out
    assert "ntk_cond_full" in out and "[opt-in" in out.split("ntk_cond_full", 1)[1].splitlines()[0]


def test_shards_merged_equal_one_run(fake_root, tmp_path, capsys):
    from nasproxy_bench.store import ResultStore

    common = ["--benchmark", "nb201", "--proxies", "params,synflow", "--n", "4", "--no-progress", "--data-root", str(fake_root),
              "--reports", str(tmp_path / "r")]
    for name, dataset in (("a.h5", "cifar10"), ("b.h5", "cifar100"), ("one.h5", "cifar10"), ("one.h5", "cifar100")):
        assert main(["run", *common, "--dataset", dataset, "--store", str(tmp_path / name)]) == 0
    capsys.readouterr()
    assert main(["merge", str(tmp_path / "b.h5"), "--store", str(tmp_path / "a.h5")]) == 0
    assert "8 records added" in capsys.readouterr().out
    merged, one = ResultStore(tmp_path / "a.h5"), ResultStore(tmp_path / "one.h5")
    assert {k: {a: r.score for a, r in g.records.items()} for k, g in merged.groups.items()} == {
        k: {a: r.score for a, r in g.records.items()} for k, g in one.groups.items()
    }
    assert main(["merge", str(tmp_path / "nope.h5"), "--store", str(tmp_path / "a.h5")]) == 2
    assert main(["merge", str(tmp_path / "a.h5"), "--store", str(tmp_path / "a.h5")]) == 2
    assert "destination --store itself" in capsys.readouterr().err


def test_run_and_report_on_fake_benchmark(fake_root, tmp_path):
    store, reports = tmp_path / "s.h5", tmp_path / "reports"
    code = main([
        "run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", "params,flops", "--n", "60",
        "--seeds", "0,1", "--data-root", str(fake_root), "--store", str(store), "--reports", str(reports), "--no-progress",
    ])
    assert code == 0
    table = pd.read_csv(reports / "correlations.csv").set_index("proxy")
    # cross-check SPR@All against scipy on the stored scores
    with h5py.File(store) as h5:
        group = h5["nb201/cifar10/params/v1/sample0/bs64-seed0"]
        archs = group["arch"].asstr()[()]
        scores = group["score"][()]
    truth = pd.read_csv(fake_root / "benchmarks/nb201/nb201.csv").set_index("arch").loc[archs, "cifar10/test_acc"]
    assert table.loc["params", "spearman_mean"] == pytest.approx(stats.spearmanr(scores, truth).statistic)
    assert table.loc["params", "seeds"] == "0,1" and table.loc["params", "n"] == 60
    assert table.loc["params", "spearman_std"] == 0.0  # structural: identical across seeds
    assert "| params (v1) | 60 | 0,1 |" in (reports / "correlations.md").read_text()
    again = tmp_path / "again"
    assert main(["report", "--data-root", str(fake_root), "--store", str(store), "--reports", str(again)]) == 0
    assert "with `nasproxy-bench report`." in (again / "index.md").read_text()  # names what wrote it


def test_kill_9_midway_then_resume_gives_identical_scores(fake_root, tmp_path):
    args = ["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", "l2_norm,params", "--n", "150",
            "--no-progress", "--checkpoint-every", "0.2", "--reports", str(tmp_path / "r")]
    assert run_cli(*args, "--store", str(tmp_path / "clean.h5"), env_root=fake_root).returncode == 0

    env = {**os.environ, "NASPROXY_DATA": str(fake_root)}
    victim = subprocess.Popen([sys.executable, "-m", "nasproxy_bench.cli", *args, "--store", str(tmp_path / "killed.h5")], env=env)
    journal = tmp_path / "killed.h5.journal"
    deadline = time.time() + 120
    while time.time() < deadline and not (tmp_path / "killed.h5").exists():
        time.sleep(0.05)
    time.sleep(0.5)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert journal.exists()

    resumed = run_cli(*args, "--store", str(tmp_path / "killed.h5"), env_root=fake_root)
    assert resumed.returncode == 0, resumed.stderr
    done_before = int(resumed.stdout.split("scores computed, ")[1].split(" architectures")[0])
    assert 0 < done_before < 150  # it really resumed part-way

    def scores(path):
        with h5py.File(path) as h5:
            g = h5["nb201/cifar10/l2_norm/v1/sample0/bs64-seed0"]
            return dict(zip(g["arch"].asstr()[()], g["score"][()], strict=True))

    clean, killed = scores(tmp_path / "clean.h5"), scores(tmp_path / "killed.h5")
    assert clean.keys() == killed.keys() and len(clean) == 150
    assert all(np.float64(clean[a]) == killed[a] for a in clean)


def test_retry_errors_rescores_only_error_records_and_keeps_the_rest(fake_root, tmp_path, monkeypatch):
    """After a fix, --retry-errors replaces the stored errors; without it a rerun keeps them; ok records are not recomputed."""
    import dataclasses

    from nasproxy_bench import registry
    from nasproxy_bench.registry import open_benchmark
    from nasproxy_bench.store import STATUS_ERROR, STATUS_OK, ResultStore

    original = registry.get_proxy("l2_norm")
    calls = []
    broken_for = set()

    def flaky(ctx):
        calls.append(ctx.arch)
        if ctx.arch in broken_for:
            raise RuntimeError("bug")
        return original.fn(ctx)

    monkeypatch.setitem(registry._proxies, "l2_norm", dataclasses.replace(original, fn=flaky))
    store = tmp_path / "s.h5"
    args = ["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", "l2_norm", "--n", "6", "--no-progress",
            "--data-root", str(fake_root), "--store", str(store), "--reports", str(tmp_path / "r")]
    archs = open_benchmark("nb201", fake_root).sample(6, 0)
    broken_for.update(archs[:2])
    assert main(args) == 0

    def records():
        (group,) = ResultStore(store).groups.values()
        return group.records

    assert [records()[a].status for a in archs] == [STATUS_ERROR] * 2 + [STATUS_OK] * 4
    first_ok = {a: records()[a].score for a in archs[2:]}
    broken_for.clear()  # the fix
    calls.clear()
    assert main(args) == 0
    assert calls == [] and records()[archs[0]].status == STATUS_ERROR  # a plain rerun keeps every record
    assert main([*args, "--retry-errors"]) == 0
    assert sorted(calls) == sorted(archs[:2])  # only the two errors were scored again
    after = records()
    assert all(after[a].status == STATUS_OK and np.isfinite(after[a].score) for a in archs)
    assert {a: after[a].score for a in archs[2:]} == first_ok


def test_params_spearman_on_real_nb201_cifar10(shared, tmp_path):
    """Done-when check of the foundation issue: SPR@All of #params on 1000 NB201 archs ~0.75."""
    reports = tmp_path / "r"
    result = run_cli("run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", "params,flops", "--n", "1000",
                     "--no-progress", "--store", str(tmp_path / "s.h5"), "--reports", str(reports), env_root=shared)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(reports / "correlations.csv").set_index("proxy")
    assert 0.70 <= table.loc["params", "spearman_mean"] <= 0.78


README_PLUGIN = '''
from nasproxy_bench.registry import proxy

@proxy("weight_count_sq", family="structural", version="1", needs_data=False)
def weight_count_sq(ctx):
    return float(sum(p.numel() for p in ctx.model.parameters())) ** 2
'''


def test_user_proxy_from_a_plugin_module_lists_and_runs(fake_root, tmp_path, monkeypatch, capsys):
    (tmp_path / "myproxies.py").write_text(README_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["list", "--plugin", "myproxies"]) == 0
    assert "weight_count_sq" in capsys.readouterr().out
    code = main(["run", "--plugin", "myproxies", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", "weight_count_sq",
                 "--n", "20", "--data-root", str(fake_root), "--store", str(tmp_path / "s.h5"), "--reports", str(tmp_path / "r"),
                 "--no-progress"])
    assert code == 0
    table = pd.read_csv(tmp_path / "r/correlations.csv")
    assert table["proxy"].tolist() == ["weight_count_sq"] and table["coverage"].iloc[0] == 1.0
    assert main(["list", "--plugin", "no_such_module_xyz"]) == 2


def test_arch_list_runs_exactly_the_listed_architectures(fake_root, tmp_path, capsys):
    table = pd.read_csv(fake_root / "benchmarks/nb201/nb201.csv")
    listed = pd.DataFrame({"dataset": ["cifar10"] * 5 + ["cifar100"] * 2, "arch_str": table["arch"].iloc[:7]})
    listed.to_csv(tmp_path / "ref.csv", index=False)
    store = tmp_path / "s.h5"
    code = main(["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", "params", "--arch-list", str(tmp_path / "ref.csv"),
                 "--data-root", str(fake_root), "--store", str(store), "--reports", str(tmp_path / "r"), "--no-progress"])
    assert code == 0
    with h5py.File(store) as h5:
        assert sorted(h5["nb201/cifar10/params/v1/sample-1/bs64-seed0/arch"].asstr()[()]) == sorted(table["arch"].iloc[:5])
    (tmp_path / "bad.txt").write_text("|none~0|+|none~0|none~1|\n")
    code = main(["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", "params", "--arch-list", str(tmp_path / "bad.txt"),
                 "--data-root", str(fake_root), "--store", str(store)])
    assert code == 2 and "architecture 1 of the list is malformed" in capsys.readouterr().err
