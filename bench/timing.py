"""Timing: medians of fresh calls, interleaved medians for a ratio, percentiles, progress."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any


def median_ms(call: Callable[[Any], object], inputs: Sequence[Any], *, warmup: int = 3) -> float:
    """Median wall time of `call(input)` over `inputs`, after `warmup` untimed calls."""
    for value in inputs[:warmup]:
        call(value)
    times = []
    for value in inputs[warmup:]:
        start = time.perf_counter()
        call(value)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def interleaved_medians_ms(
    floor: Callable[[Any], object],
    floor_input: Any,
    call: Callable[[Any], object],
    inputs: Sequence[Any],
    *,
    floor_reps: int,
    blocks: int = 10,
    warmup: int = 3,
) -> tuple[float, float]:
    """Median wall times of `floor(floor_input)`, `floor_reps` times, and of `call(input)` over
    `inputs` (after `warmup` untimed calls of each), timed in alternating blocks: the two
    medians, and so their ratio, span the same stretch of a machine whose speed drifts, while
    each block runs warm, as a worker serving one kind of request does."""
    for value in inputs[:warmup]:
        floor(floor_input)
        call(value)
    inputs = inputs[warmup:]
    floor_times, call_times = [], []
    for block in range(blocks):
        for _ in range(floor_reps // blocks):
            start = time.perf_counter()
            floor(floor_input)
            floor_times.append(time.perf_counter() - start)
        for value in inputs[block::blocks]:
            start = time.perf_counter()
            call(value)
            call_times.append(time.perf_counter() - start)
    return statistics.median(floor_times) * 1000, statistics.median(call_times) * 1000


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


class Clock:
    """Progress on stderr; the table alone goes to stdout."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def say(self, message: str) -> None:
        print(f"[{time.monotonic() - self.start:5.0f}s] {message}", file=sys.stderr, flush=True)
