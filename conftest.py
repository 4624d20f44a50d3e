"""Notebook runs under nbval (``make test-labs``): checks are strict in the solutions, and each notebook is measured.

The strictness of ``edgeagents.check`` is set per notebook, before its kernel starts, so one nbval session may hold
both: a failed check is an error in ``labs/solutions/`` (the worked answers must pass) and a ❌ in ``labs/`` (a
learner's unfinished exercise). A notebook
that ran whole is recorded in ``$EDGEAGENTS_HOME/lab_timings.json`` (time, peak memory of its kernel and the servers
it started), from which ``make lab-table`` writes the README's lab table.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

_runs: dict[str, list] = {}  # notebook's node id -> [start, PeakRSS, any cell failed]


def _notebook(item: pytest.Item) -> Path | None:
    return item.path if item.path.suffix == ".ipynb" else None


def _key(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _whole_run(config: pytest.Config) -> bool:
    return not config.getoption("keyword") and not config.getoption("markexpr") and not config.getoption("lf", default=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    path = _notebook(item)
    if path is None or _key(item.nodeid) in _runs:
        return
    # Before nbval's file-level setup starts the kernel, which inherits this environment.
    if path.parent.name == "solutions":
        os.environ["EDGEAGENTS_STRICT_CHECKS"] = "1"
    else:
        os.environ.pop("EDGEAGENTS_STRICT_CHECKS", None)
    from edgeagents.labrun import PeakRSS

    _runs[_key(item.nodeid)] = [time.perf_counter(), PeakRSS(include_exited=False).start(), False]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    run = _runs.get(_key(report.nodeid))
    if run is not None and report.failed:
        run[2] = True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    yield
    path = _notebook(item)
    if path is None or _key(item.nodeid) not in _runs or (nextitem is not None and nextitem.path == path):
        return
    start, peak, failed = _runs.pop(_key(item.nodeid))  # the kernel has been shut down by now: the peak is complete
    peak_mb = peak.stop()
    if failed or not _whole_run(item.config):
        return
    from edgeagents.labrun import LabRun, record_run

    section = "solutions" if path.parent.name == "solutions" else "labs"
    record_run(LabRun(path.stem, section, round(time.perf_counter() - start, 1), peak_mb, ok=True))
