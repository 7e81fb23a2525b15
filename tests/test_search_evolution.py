import random

import pytest

from nasproxy_bench.search.evolution import random_search, regularized_evolution

# Toy space: bit strings of length 12, fitness = number of ones (optimum 12, unique).
LENGTH = 12


def sample(rng: random.Random) -> tuple[int, ...]:
    return tuple(rng.randint(0, 1) for _ in range(LENGTH))


def mutate(bits: tuple[int, ...], rng: random.Random) -> tuple[int, ...]:
    i = rng.randrange(LENGTH)
    return bits[:i] + (1 - bits[i],) + bits[i + 1:]


def test_regularized_evolution_finds_the_known_optimum_of_onemax():
    trace = regularized_evolution(sample, mutate, lambda b: float(sum(b)), random.Random(0),
                                  population=20, tournament=5, cycles=300)
    assert trace.evaluations == 320
    assert trace.best == ((1,) * LENGTH, 12.0)


def test_regularized_evolution_beats_random_search_at_equal_budget():
    re_best = [regularized_evolution(sample, mutate, lambda b: float(sum(b)), random.Random(s),
                                     population=10, tournament=3, cycles=90).best[1] for s in range(5)]
    rs_best = [random_search(sample, lambda b: float(sum(b)), random.Random(s), evaluations=100).best[1]
               for s in range(5)]
    assert min(re_best) == 12.0
    assert max(rs_best) < 12.0  # P(hit) per draw is 1/4096


def test_search_is_reproducible_from_its_seed():
    def run(seed):
        return regularized_evolution(sample, mutate, lambda b: float(sum(b)), random.Random(seed),
                                     population=8, tournament=3, cycles=20).history
    assert run(3) == run(3)
    assert run(3) != run(4)


def test_aging_removes_the_oldest_not_the_worst():
    # Fitness = minus the creation order: the oldest member is always the best, so with aging the
    # first population must leave, and after `population` cycles no initial candidate can be a parent.
    counter = iter(range(10**6))
    seen_parents = []

    def sample_id(rng):
        return next(counter)

    def mutate_id(parent, rng):
        seen_parents.append(parent)
        return next(counter)

    regularized_evolution(sample_id, mutate_id, lambda c: -float(c), random.Random(0),
                          population=4, tournament=4, cycles=8)
    assert seen_parents[:4] == [0, 1, 2, 3]  # the best (oldest) alive each time, then aged out
    assert all(p >= 4 for p in seen_parents[4:])


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="tournament"):
        regularized_evolution(sample, mutate, sum, random.Random(0), population=5, tournament=6)
