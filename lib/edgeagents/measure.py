"""Small measuring tools: memory of this process, a timer, and energy (RAPL where it can be read)."""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

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


# --- energy -----------------------------------------------------------------------------------------------
#: Linux powercap (RAPL) energy counter of CPU package 0, in microjoules. Many kernels make it readable
#: by root only, and virtual machines, ARM and macOS have none: then the labs fall back to an assumed wattage.
RAPL_ENERGY = Path("/sys/class/powercap/intel-rapl:0/energy_uj")


def rapl_energy_uj(path: Path | None = None) -> int | None:
    """The RAPL package energy counter now, in µJ, or ``None`` where it is missing or unreadable."""
    try:
        return int((path or RAPL_ENERGY).read_text().strip())
    except (OSError, ValueError):
        return None


def _rapl_range_uj(path: Path) -> int | None:
    """The counter's wrap-around value (``max_energy_range_uj`` beside it), if readable."""
    return rapl_energy_uj(path.with_name("max_energy_range_uj"))


@dataclass(frozen=True)
class Power:
    """A power figure and where it came from: measured by RAPL, or an assumption you set."""

    watts: float
    measured: bool
    source: str

    def __str__(self) -> str:
        return f"{self.watts:.1f} W ({self.source})"


@dataclass
class EnergyMeter:
    """``with EnergyMeter() as m: ...`` then ``m.seconds``, ``m.joules`` (``None`` without RAPL) and
    ``m.power(assumed_watts)``.

    RAPL counts the whole CPU package: idle draw and every other program running meanwhile are included,
    so the watts are an upper bound for the work inside the block.
    """

    path: Path | None = None
    seconds: float = 0.0
    joules: float | None = None
    _start_s: float = field(default=0.0, repr=False)
    _start_uj: int | None = field(default=None, repr=False)

    def __enter__(self) -> EnergyMeter:
        self.path = self.path or RAPL_ENERGY
        self._start_uj = rapl_energy_uj(self.path)
        self._start_s = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start_s
        end = rapl_energy_uj(self.path)
        if self._start_uj is None or end is None:
            self.joules = None
            return
        delta = end - self._start_uj
        if delta < 0:  # the counter wrapped around during the block
            wrap = _rapl_range_uj(self.path or RAPL_ENERGY)
            if wrap is None:
                self.joules = None
                return
            delta += wrap
        self.joules = delta / 1e6

    @property
    def measured(self) -> bool:
        return self.joules is not None and self.seconds > 0

    def power(self, assumed_watts: float) -> Power:
        """Mean watts over the block from RAPL; where RAPL cannot be read, ``assumed_watts``, labelled so."""
        if self.measured and self.joules is not None:
            return Power(self.joules / self.seconds, True,
                         f"measured by RAPL over {self.seconds:.1f} s: whole CPU package, other programs included")
        return Power(float(assumed_watts), False,
                     f"ASSUMED: RAPL energy counter not readable here ({self.path or RAPL_ENERGY})")
