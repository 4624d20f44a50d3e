"""Small measuring tools: memory of this process, and a timer."""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass, field

import psutil


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    return psutil.Process().memory_info().rss / 1e6


def peak_rss_mb() -> float:
    """Highest resident memory this process has reached, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


@dataclass
class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    seconds: float = 0.0
    _start: float = field(default=0.0, repr=False)

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start
