import dataclasses

from nasproxy_bench.search.endtoend import SearchOutcome
from nasproxy_bench.search.published import TABLE3, paper_method, paper_value
from nasproxy_bench.search.tables import search_summary, to_markdown
from nasproxy_bench.store import ResultStore

BASE = SearchOutcome(
    benchmark="nb201", dataset="cifar10", fitness="naswot", fitness_version="1", algorithm="re", seed=0, init_seed=0,
    population=50, tournament=10, cycles=400, batch_size=64, found_arch="a", found_fitness=1.0, found_truth=93.0,
    truth_metric="test_acc", best_truth_seen=94.0, oracle_truth=94.37, evaluations=450, distinct_archs=200, computed=200,
    reused=0, nonfinite=1, wall_s=100.0, fitness_s=90.0, device="cpu", input_source="cifar10", surrogate_inputs=False,
    package_version="0", finished_at="2026-01-01T00:00:00Z",
)


def outcome(**changes) -> SearchOutcome:
    return dataclasses.replace(BASE, **changes)


def test_summary_is_mean_and_sample_std_over_seeds_with_the_paper_number():
    outcomes = [
        outcome(seed=0, found_truth=90.0),  # superseded by the later record of the same search
        outcome(seed=0, found_truth=93.0, wall_s=50.0),
        outcome(seed=1, found_truth=94.0, wall_s=100.0),
        outcome(seed=2, found_truth=95.0, wall_s=150.0),
        outcome(seed=0, fitness="synflow", found_truth=93.76),
        outcome(seed=0, algorithm="random", found_truth=92.0),
    ]
    rows = search_summary(outcomes).set_index("fitness")
    naswot = rows.loc["naswot"]
    assert (naswot.n_seeds, naswot.found_truth_mean, naswot.found_truth_std) == (3, 94.0, 1.0)
    assert (naswot.wall_s_mean, naswot.wall_s_std) == (100.0, 50.0)
    assert naswot.nonfinite == 3 and naswot.paper == "92.96±0.80" and naswot.paper_optimal == "94.37"
    assert rows.loc["synflow"].paper == ""  # the paper has no NB201 synflow search
    assert rows.loc["naswot (random search)"].paper == ""  # nor a random-search row
    text = to_markdown(search_summary(outcomes))
    assert "| naswot | 94.00 ± 1.00 | 3 | 450 | 100 ± 50 | 92.96±0.80 |" in text
    assert "| optimal (oracle) | 94.37 |  |  |  | 94.37 |" in text


def test_non_default_settings_and_init_seeds_get_their_own_rows():
    rows = search_summary([outcome(), outcome(cycles=100), outcome(seed=3, init_seed=3)])
    assert sorted(rows["fitness"]) == ["naswot", "naswot [P50 S10 C100 bs64]", "naswot [init = search seed]"]


def test_paper_numbers_are_table3_of_gennas():
    assert [paper_value("nb201", d, "GenNAS-N") for d in ("cifar10", "cifar100", "ImageNet16-120")] == [
        "94.18±0.10", "72.56±0.74", "45.59±0.54"]
    assert paper_value("nb101", "cifar10", "GenNAS-N") == "93.92±0.004"
    assert paper_value("nb101", "cifar10", "synflow") == "91.31±0.02"  # the starred (re-run) entry
    assert paper_method("gennas_combo") == paper_method("gennas:task.json") == "GenNAS-N"
    assert paper_method("snip") is None
    assert all("Optimal" in row for row in TABLE3.values())


def test_a_search_without_ground_truth_shows_a_dash():
    text = to_markdown(search_summary([outcome(found_truth=float("nan"))]))
    assert "| naswot | – | 1 |" in text


def test_table3_for_store_reads_the_outcomes_beside_the_store(tmp_path):
    import json

    from nasproxy_bench.search.tables import table3_for_store

    store = ResultStore(tmp_path / "scores.h5")
    assert "No searches recorded" in table3_for_store(store)
    (tmp_path / "scores.searches.jsonl").write_text(json.dumps(dataclasses.asdict(outcome(found_truth=93.5))) + "\n")
    assert "| naswot | 93.50 | 1 | 450 |" in table3_for_store(store)  # one seed: no ± (no spread estimate)
