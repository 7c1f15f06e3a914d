"""Timing and query counting shared by the benchmark sections."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


@dataclass(frozen=True)
class Result:
    """The per-call time of one contender, in microseconds, over all rounds."""

    name: str
    per_call_us: list[float]
    queries_per_call: float

    @property
    def median(self) -> float:
        return statistics.median(self.per_call_us)

    @property
    def fastest(self) -> float:
        return min(self.per_call_us)

    @property
    def slowest(self) -> float:
        return max(self.per_call_us)


def time_batch(call: Callable[[], Any], calls: int) -> float:
    """Return the mean time of one ``call()`` over ``calls`` calls, in µs."""
    gc.collect()
    # Like timeit, keep the collector out of the measured loop.
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for _ in range(calls):
            call()
        elapsed = time.perf_counter_ns() - start
    finally:
        gc.enable()
    return elapsed / calls / 1000


def count_queries(call: Callable[[], Any], calls: int = 100) -> float:
    """Return the mean number of database queries one ``call()`` makes."""
    with CaptureQueriesContext(connection) as context:
        for _ in range(calls):
            call()
    return len(context.captured_queries) / calls


def compare(
    contenders: dict[str, Callable[[], Any]], *, rounds: int, calls: int
) -> list[Result]:
    """Time each contender for ``rounds`` rounds of ``calls`` calls.

    The contenders take turns within every round, and the order rotates from
    one round to the next, so that a slow patch of the machine falls on all
    of them alike instead of on whichever ran last.
    """
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(time_batch(contenders[name], calls))

    return [
        Result(name, samples[name], count_queries(contenders[name])) for name in names
    ]


def print_table(title: str, results: Iterable[Result]) -> None:
    """Print one row per contender: median, range and queries per call."""
    results = list(results)
    width = max(len(result.name) for result in results)
    print(title)
    print(
        f"  {'contender':<{width}}  {'median µs':>10}  {'fastest':>8}  "
        f"{'slowest':>8}  {'queries':>7}"
    )
    for result in results:
        print(
            f"  {result.name:<{width}}  {result.median:>10.2f}  "
            f"{result.fastest:>8.2f}  {result.slowest:>8.2f}  "
            f"{result.queries_per_call:>7.2f}"
        )


def print_ratio(label: str, ratio: float, target: float) -> None:
    """Print a ratio of medians against the largest ratio it should reach."""
    verdict = "PASS" if ratio <= target else "MISS"
    print(f"  {label:<28} {ratio:>6.3f}  (target <= {target:g})  {verdict}")
