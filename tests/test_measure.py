"""The energy helper works with and without a readable RAPL counter (the path is patched either way)."""

from __future__ import annotations

import time

import pytest

from edgeagents import measure
from edgeagents.measure import EnergyMeter, Power, rapl_energy_uj


class _Counter:
    """A fake energy_uj file whose value moves by ``step`` µJ at every read."""

    def __init__(self, directory, start: int, step: int, wrap: int | None = None):
        self.path = directory / "energy_uj"
        self.value, self.step, self.wrap = start, step, wrap
        self.path.write_text(f"{start}\n")
        if wrap is not None:
            (directory / "max_energy_range_uj").write_text(f"{wrap}\n")

    def tick(self):
        self.value += self.step
        if self.wrap is not None:
            self.value %= self.wrap
        self.path.write_text(f"{self.value}\n")


def test_missing_counter_falls_back_to_the_labelled_assumption(tmp_path, monkeypatch):
    monkeypatch.setattr(measure, "RAPL_ENERGY", tmp_path / "no-such-dir" / "energy_uj")
    assert rapl_energy_uj() is None
    with EnergyMeter() as m:
        time.sleep(0.01)
    assert m.joules is None and not m.measured and m.seconds > 0
    p = m.power(assumed_watts=30)
    assert p == Power(30.0, False, p.source) and "ASSUMED" in p.source and "30.0 W" in str(p)


def test_unreadable_counter_counts_as_missing(tmp_path, monkeypatch):
    bad = tmp_path / "energy_uj"
    bad.write_text("not a number\n")
    monkeypatch.setattr(measure, "RAPL_ENERGY", bad)
    assert rapl_energy_uj() is None
    with EnergyMeter() as m:
        pass
    assert not m.power(15).measured


def test_readable_counter_gives_measured_watts(tmp_path, monkeypatch):
    counter = _Counter(tmp_path, start=1_000_000, step=2_000_000)   # 2 J during the block
    monkeypatch.setattr(measure, "RAPL_ENERGY", counter.path)
    with EnergyMeter() as m:
        time.sleep(0.01)
        counter.tick()
    assert m.joules == pytest.approx(2.0)
    p = m.power(assumed_watts=999)
    assert p.measured and p.watts == pytest.approx(2.0 / m.seconds) and "RAPL" in p.source


def test_counter_wrap_around_is_handled(tmp_path):
    counter = _Counter(tmp_path, start=9_000_000, step=3_000_000, wrap=10_000_000)   # wraps to 2,000,000
    with EnergyMeter(path=counter.path) as m:
        counter.tick()
    assert m.joules == pytest.approx(3.0)


def test_wrap_without_range_file_is_not_a_measurement(tmp_path):
    counter = _Counter(tmp_path, start=9_000_000, step=0)
    with EnergyMeter(path=counter.path) as m:
        counter.path.write_text("100\n")
    assert m.joules is None and not m.power(20).measured


def test_the_real_machine_either_way():
    """On this machine RAPL may or may not exist: the meter must answer in both cases."""
    with EnergyMeter() as m:
        sum(range(10_000))
    p = m.power(assumed_watts=30)
    assert p.watts > 0 or p.measured   # a measured 0 W is possible on a coarse counter
    assert p.measured == (m.joules is not None)
