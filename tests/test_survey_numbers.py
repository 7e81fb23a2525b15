"""The survey's printed Table IV/V numbers beside ours: confirmed values, a reader's transcription, portable paths."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasproxy_bench.best_found import compare_with_survey
from nasproxy_bench.config import RunConfig
from nasproxy_bench.errors import DataError
from nasproxy_bench.literature import SURVEY_BEST_FOUND, SURVEY_TRANSCRIPTION, PublishedValue, survey_best_found
from nasproxy_bench.runner import run
from nasproxy_bench.survey import _best_found_markdown, display_path, write_survey
from nasproxy_bench.survey_plan import nats_note

HEADER = "benchmark,dataset,proxy,value,source\n"


def _transcribe(root: Path, text: str) -> Path:
    path = root / SURVEY_TRANSCRIPTION
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _table() -> pd.DataFrame:
    """Two hand-built best-found rows of Table IV (NB201 CIFAR-10) and one of Table V (segmentation mIoU)."""
    return pd.DataFrame({
        "survey_table": ["Table IV", "Table IV", "Table V"], "benchmark": ["nb201", "nb201", "tnb101_micro"],
        "dataset": ["cifar10", "cifar10", "segmentsemantic"], "ground_truth": ["cifar10 test_acc"] * 2 + ["segmentsemantic best_miou"],
        "proxy": ["zico", "params", "zico"], "n": [100, 100, 20], "seeds": [5, 5, 1],
        "best_found_mean": [93.33, 92.89, 24.21], "best_found_std": [0.0, 0.1, 0.0], "sample_best": [93.87, 93.87, 24.74],
        "space_best": [94.37, 94.37, 26.27], "space_size": [15625, 15625, 4096]})


def test_no_survey_number_is_claimed_without_its_printed_place():
    # nothing could be checked against the paper's text (literature.py says why): no value in code
    assert SURVEY_BEST_FOUND == {}
    assert all(v.source for v in SURVEY_BEST_FOUND.values())


def test_transcribed_numbers_appear_beside_ours_with_difference_and_source(tmp_path):
    _transcribe(tmp_path, HEADER + "nb201,cifar10,zico,93.83,TPAMI Table IV row ZiCo col CIFAR-10\n"
                "tnb101_micro,segmentsemantic,zico,25.01,TPAMI Table V row ZiCo col mIoU\n")
    printed = survey_best_found(tmp_path)
    assert printed[("nb201", "cifar10", "zico")] == PublishedValue(93.83, "transcribed: TPAMI Table IV row ZiCo col CIFAR-10")
    out = compare_with_survey(_table(), printed, "unconfirmed")
    assert out["survey"].tolist() == ["93.83", "unconfirmed", "25.01"]
    assert out["ours_minus_survey"].iloc[0] == pytest.approx(-0.50)  # 93.33 - 93.83
    assert out["ours_minus_survey"].iloc[2] == pytest.approx(-0.80)  # 24.21 - 25.01
    assert np.isnan(out["ours_minus_survey"].iloc[1]) and out["survey_source"].iloc[1] == ""
    page = _best_found_markdown(out)
    assert "| zico | 100 | 5 | 93.33 ± 0.00 | 93.87 | 94.37 | 93.83 | -0.50 |" in page
    assert "| params | 100 | 5 | 92.89 ± 0.10 | 93.87 | 94.37 | unconfirmed | – |" in page
    assert "| zico | 20 | 1 | 24.21 ± 0.00 | 24.74 | 26.27 | 25.01 | -0.80 |" in page
    assert "Survey values printed at: zico: transcribed: TPAMI Table V row ZiCo col mIoU." in page
    assert "Every survey cell below is unconfirmed" not in page


def test_without_a_transcription_every_cell_says_unconfirmed_and_why(tmp_path):
    assert survey_best_found(None) == {} and survey_best_found(tmp_path) == {}
    page = _best_found_markdown(compare_with_survey(_table(), survey_best_found(tmp_path), "unconfirmed"))
    assert "Every survey cell below is unconfirmed." in page and "Survey values printed at" not in page
    assert "$NASPROXY_DATA/literature/survey_best_found.csv" in page


@pytest.mark.parametrize("text, problem", [
    ("benchmark,dataset,proxy,value\nnb201,cifar10,zico,93.8\n", "lacks the column(s) source"),
    (HEADER + "nb201,cifar10,zico,93.8%,Table IV\n", "line 2: value '93.8%' is not a number"),
    (HEADER + "nb201,cifar10,zico,nan,Table IV\n", "line 2: value 'nan' is not a number"),
    (HEADER + "nb201,cifar10,zico,93.8,Table IV\nnb-201,cifar10,zico,93.8,Table IV\n", "line 3: benchmark 'nb-201' has no survey table"),
    (HEADER + "nb201,cifar-10,zico,93.8,Table IV\n", "line 2: nb201 has no survey column 'cifar-10'"),
    (HEADER + "nb201,cifar10,zico,93.8,\n", "line 2: empty proxy or source"),
    (HEADER + "nb201,cifar10,zico,93.8,Table IV\nnb201,cifar10,zico,93.9,Table IV\n", "line 3: nb201/cifar10/zico is given twice"),
    ("\n", "is not a readable CSV"),
])
def test_a_malformed_transcription_is_refused_in_one_line(tmp_path, text, problem):
    path = _transcribe(tmp_path, text)
    with pytest.raises(DataError) as err:
        survey_best_found(tmp_path)
    message = str(err.value)
    assert problem in message and str(path) in message and "\n" not in message


def test_display_path_never_prints_a_local_absolute_path(tmp_path, monkeypatch):
    root, work = tmp_path / "data", tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert display_path(root / "benchmarks/nb201/nb201.csv", root) == "$NASPROXY_DATA/benchmarks/nb201/nb201.csv"
    assert display_path(work / "results/survey.h5", root) == "results/survey.h5"
    assert display_path(Path("results/survey.h5"), root) == "results/survey.h5"
    assert display_path(tmp_path / "bg/survey.h5", root) == "survey.h5"


def test_nats_note_names_the_file_relative_to_the_data_root(fake_root):
    note = nats_note(fake_root)
    assert "benchmarks/nats_sss/nats_sss.csv is missing from the data root" in note and str(fake_root) not in note


@pytest.mark.slow
def test_gallery_shows_transcribed_numbers_and_no_local_paths(fake_root, tmp_path):
    root = tmp_path / "data"
    (root / "benchmarks").mkdir(parents=True)
    (root / "benchmarks/nb201").symlink_to(fake_root / "benchmarks/nb201")
    (root / "inputs").symlink_to(fake_root / "inputs")
    _transcribe(root, HEADER + "nb201,cifar10,params,85.00,Table IV row #Params col CIFAR-10\n")
    store = tmp_path / "elsewhere/s.h5"
    run(RunConfig("nb201", "cifar10", ["params", "flops"], n=20, seeds=[0], batch_size=8, data_root=root, store=store),
        progress=False)
    out = tmp_path / "survey"
    index = write_survey(store, root, out).read_text()
    best = pd.read_csv(out / "best_found.csv", dtype={"survey": str}).set_index("proxy")
    assert best.loc["params", "survey"] == "85.00" and best.loc["flops", "survey"] == "unconfirmed"
    assert best.loc["params", "ours_minus_survey"] == pytest.approx(best.loc["params", "best_found_mean"] - 85.0)
    assert np.isnan(best.loc["flops", "ours_minus_survey"])
    assert "Survey values printed at: params: transcribed: Table IV row #Params col CIFAR-10." in (out / "best_found.md").read_text()
    assert "from the result store `s.h5`" in index
    for page in out.glob("*.md"):
        assert str(tmp_path) not in page.read_text(), page.name
