"""Regularized evolution (Real et al., 2019) and random search over any candidate type.

Both are generic: a candidate is whatever ``sample``/``mutate`` produce (an architecture
string, a GenNAS task document, ...) and ``fitness`` maps it to a number, higher is better.
All randomness comes from the ``random.Random`` passed in, so a search is reproducible from
its seed.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


@dataclass
class SearchTrace(Generic[T]):
    """Every evaluation in order; ``best`` is the fittest candidate seen (first on ties)."""

    history: list[tuple[T, float]] = field(default_factory=list)

    def add(self, candidate: T, value: float) -> None:
        self.history.append((candidate, value))

    @property
    def best(self) -> tuple[T, float]:
        if not self.history:
            raise ValueError("empty search trace")
        return max(self.history, key=lambda item: item[1])

    @property
    def evaluations(self) -> int:
        return len(self.history)


def regularized_evolution(
    sample: Callable[[random.Random], T],
    mutate: Callable[[T, random.Random], T],
    fitness: Callable[[T], float],
    rng: random.Random,
    *,
    population: int = 50,
    tournament: int = 10,
    cycles: int = 400,
) -> SearchTrace[T]:
    """Aging evolution: ``population`` random candidates, then ``cycles`` mutations.

    Each cycle draws ``tournament`` members of the current population at random, mutates the
    fittest, adds the child and removes the oldest member. ``cycles`` counts mutations only,
    so the search evaluates ``population + cycles`` candidates.
    """
    if population < 1 or not 1 <= tournament <= population or cycles < 0:
        raise ValueError(f"need population >= 1, 1 <= tournament <= population, cycles >= 0; "
                         f"got {population}, {tournament}, {cycles}")
    trace: SearchTrace[T] = SearchTrace()
    alive: deque[tuple[T, float]] = deque()
    for _ in range(population):
        candidate = sample(rng)
        value = fitness(candidate)
        trace.add(candidate, value)
        alive.append((candidate, value))
    for _ in range(cycles):
        contenders = rng.sample(list(alive), tournament)
        parent = max(contenders, key=lambda item: item[1])[0]
        child = mutate(parent, rng)
        value = fitness(child)
        trace.add(child, value)
        alive.append((child, value))
        alive.popleft()
    return trace


def random_search(
    sample: Callable[[random.Random], T], fitness: Callable[[T], float], rng: random.Random, *, evaluations: int
) -> SearchTrace[T]:
    """``evaluations`` independent random candidates (the baseline RE is compared with)."""
    trace: SearchTrace[T] = SearchTrace()
    for _ in range(evaluations):
        candidate = sample(rng)
        trace.add(candidate, fitness(candidate))
    return trace
