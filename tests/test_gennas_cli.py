"""The ``gennas`` command group and ``--proxies gennas:<file>`` on the command line."""

from __future__ import annotations

import json

import pytest

from nasproxy_bench.cli import main
from nasproxy_bench.errors import NasproxyError
from nasproxy_bench.gennas.task import load_task


@pytest.mark.parametrize(("args", "message"), [
    (["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", "gennas:missing.json"], "cannot read gennas task file"),
    (["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", "gennas:nothing"], "give a shipped task"),
    (["gennas", "search-task", "--benchmark", "nb201", "--dataset", "cifar10", "--archs", "2"], "need --archs >= 3"),
    (["gennas", "search-task", "--benchmark", "nb201", "--dataset", "mnist"], "unknown dataset of nb201 'mnist'"),
])
def test_bad_gennas_input_is_one_line(fake_root, tmp_path, capsys, args, message):
    code = main([*args, "--data-root", str(fake_root), "--store", str(tmp_path / "s.h5")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1


def test_bad_task_file_names_the_field(fake_root, tmp_path, capsys):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"schema": "gennas-task", "version": 1, "stages": [{"tensors": []}] * 2}))
    code = main(["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", f"gennas:{path}",
                 "--data-root", str(fake_root), "--store", str(tmp_path / "s.h5")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: gennas task: t.json.stages:")


def test_write_tasks_and_empty_tables(fake_root, tmp_path, capsys):
    assert main(["gennas", "write-tasks", "--out", str(tmp_path / "tasks")]) == 0
    files = sorted((tmp_path / "tasks").glob("*.json"))
    assert len(files) == 5 + 36
    hashes = {f.stem: load_task(f).hash for f in files}
    # the Table 1 cell Dot100 at S3 is GenNAS-single at the public code's 16 channels itself
    assert len(set(hashes.values())) == 40
    assert hashes["table1_Dot100_S3"] == hashes["gennas_single_w16"] != hashes["gennas_single"]
    assert all(load_task(f).network_channels == 16 for f in files if f.stem.startswith("table1_"))
    out = tmp_path / "tables.md"
    assert main(["gennas", "tables", "--benchmark", "nb201", "--data-root", str(fake_root), "--store", str(tmp_path / "s.h5"),
                 "--out", str(out)]) == 0
    text = out.read_text()
    assert "| nb201 | cifar10 | not run | 0.77 | not run | 0.87 |" in text
    assert f"no result store at {tmp_path / 's.h5'}" in capsys.readouterr().err


def test_run_with_a_task_file_scores_and_stores_it(fake_root, tmp_path, capsys):
    # the run's chunks re-resolve proxies by their store name (gennas:<16 hex>): a task file must resolve again
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"schema": "gennas-task", "version": 1, "training": {"iterations": 2},
                                "stages": [{"tensors": []}, {"tensors": []},
                                           {"tensors": [[{"base": "dot", "channels": 4, "fraction": 0.5}]]}]}))
    store = tmp_path / "s.h5"
    assert main(["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", f"gennas:{path}", "--n", "2",
                 "--batch-size", "16", "--data-root", str(fake_root), "--store", str(store)]) == 0
    from nasproxy_bench.gennas.proxies import task_proxy_name
    from nasproxy_bench.store import ResultStore

    name = task_proxy_name(load_task(path))
    groups = [g for g in ResultStore(store).groups.values() if g.key.proxy == name]
    assert len(groups) == 1 and len(groups[0].records) == 2
    assert all(r.status == "ok" and r.score > 0 for r in groups[0].records.values())
    capsys.readouterr()
    code = main(["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", "gennas:0123456789abcdef", "--n", "1",
                 "--data-root", str(fake_root), "--store", str(tmp_path / "t.h5")])
    assert code == 2 and "give the task file itself" in capsys.readouterr().err


@pytest.mark.slow
def test_task_file_with_two_workers_stores_what_a_sequential_run_stores(fake_root, tmp_path, one_thread):
    """Worker processes never read the file: the task document travels with each chunk."""
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"schema": "gennas-task", "version": 1, "training": {"iterations": 2},
                                "stages": [{"tensors": []}, {"tensors": []},
                                           {"tensors": [[{"base": "dot", "channels": 4, "fraction": 0.5}]]}]}))
    from nasproxy_bench.gennas.proxies import task_proxy_name
    from nasproxy_bench.store import ResultStore

    name = task_proxy_name(load_task(path))
    scores = {}
    for workers in (1, 2):
        store = tmp_path / f"w{workers}.h5"
        assert main(["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", f"gennas:{path}", "--n", "4",
                     "--batch-size", "16", "--data-root", str(fake_root), "--store", str(store),
                     "--workers", str(workers), "--no-progress"]) == 0
        (group,) = [g for g in ResultStore(store).groups.values() if g.key.proxy == name]
        scores[workers] = {arch: (r.status, r.score) for arch, r in group.records.items()}
    assert len(scores[1]) == 4 and all(status == "ok" for status, _ in scores[1].values())
    assert scores[2] == scores[1]


def test_task_documents_resolve_in_a_process_that_never_read_the_file(tmp_path, monkeypatch):
    from nasproxy_bench.gennas import proxies as gp

    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"schema": "gennas-task", "version": 1, "training": {"iterations": 2},
                                "stages": [{"tensors": []}, {"tensors": []},
                                           {"tensors": [[{"base": "dot", "channels": 4, "fraction": 0.5}]]}]}))
    spec = gp.spec_for(f"gennas:{path}")
    documents = gp.task_documents([spec.name, "synflow"])
    assert [name for name, _ in documents] == [spec.name]
    monkeypatch.setattr(gp, "_FILE_TASKS", {})  # as in a fresh worker process
    monkeypatch.setattr(gp, "_FILE_DOCS", {})
    with pytest.raises(NasproxyError, match="give the task file itself"):
        gp.spec_for(spec.name)
    gp.register_task_documents(documents)
    assert gp.spec_for(spec.name).name == spec.name
    tampered = [(spec.name, documents[0][1].replace('"fraction": 0.5', '"fraction": 0.25'))]
    monkeypatch.setattr(gp, "_FILE_TASKS", {})
    with pytest.raises(NasproxyError, match="hashes to"):
        gp.register_task_documents(tampered)
