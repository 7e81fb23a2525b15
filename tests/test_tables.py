import pandas as pd
import pytest

from nasproxy_bench.cli import main
from nasproxy_bench.errors import NasproxyError
from nasproxy_bench.tables import write_table


def test_write_table_refuses_to_replace_without_force(tmp_path):
    path = tmp_path / "t.csv"
    write_table(pd.DataFrame({"arch": ["a", "b", "c"]}), path)
    with pytest.raises(NasproxyError, match="already holds a table of 3 rows.*--force"):
        write_table(pd.DataFrame({"arch": ["x"]}), path)
    assert pd.read_csv(path)["arch"].tolist() == ["a", "b", "c"]
    write_table(pd.DataFrame({"arch": ["x"]}), path, force=True)
    assert pd.read_csv(path)["arch"].tolist() == ["x"]
    assert not list(tmp_path.glob("*.tmp"))


def test_failed_write_leaves_the_old_table(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    write_table(pd.DataFrame({"arch": ["a", "b"]}), path)

    def fail(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    with pytest.raises(NasproxyError, match="previous table is unchanged"):
        write_table(pd.DataFrame({"arch": ["x"]}), path, force=True)
    monkeypatch.undo()
    assert pd.read_csv(path)["arch"].tolist() == ["a", "b"]


def test_import_of_a_fixture_over_a_complete_table_is_refused(shared, tmp_path, capsys):
    """Reliability #2: a 3-record import must not replace a 15,625-row nb201.csv."""
    table = tmp_path / "benchmarks/nb201/nb201.csv"
    table.parent.mkdir(parents=True)
    table.write_bytes((shared / "benchmarks/nb201/nb201.csv").read_bytes())
    before = table.read_bytes()
    fixture = shared / "benchmarks/nb201/nats_tss_official_fixture"
    code = main(["import", "nb201", "--source", str(fixture), "--data-root", str(tmp_path)])
    assert code == 2
    assert "15625 rows" in capsys.readouterr().err
    assert table.read_bytes() == before
    assert main(["import", "nb201", "--source", str(fixture), "--data-root", str(tmp_path), "--force"]) == 0
    assert len(pd.read_csv(table)) == 3


def test_import_and_verify_of_unknown_benchmark_is_one_line_error(tmp_path, capsys):
    assert main(["verify", "nb999", "--data-root", str(tmp_path)]) == 2
    assert "unknown benchmark 'nb999'" in capsys.readouterr().err
