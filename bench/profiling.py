"""Where the time of a call goes: cProfile over a loop of calls."""

from __future__ import annotations

import cProfile
import io
import pstats
from collections.abc import Callable
from typing import Any


def print_profile(
    title: str, call: Callable[[], Any], *, calls: int, limit: int = 20
) -> None:
    """Profile ``calls`` calls of ``call``; print the costliest functions.

    They are listed by time including what they call, then by their own
    time. The profiler inflates every figure: read them as shares of the
    whole, not as times.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        call()
    profiler.disable()

    print(title)
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats(order).print_stats(limit)
        print(out.getvalue().rstrip())
