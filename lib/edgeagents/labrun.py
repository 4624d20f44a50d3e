"""Run a notebook the way a learner does and measure it: wall time and the kernel's peak memory.

Every measured run lands in ``$EDGEAGENTS_HOME/lab_timings.json`` (one entry per notebook and section: ``labs``,
``solutions`` or ``binder``), which ``make lab-table`` turns into the README's lab table. The notebook tests
(``make test-labs``) record through :class:`PeakRSS` and :func:`record_run`; the Binder check runs each Binder lab
with this module's command line inside the Binder environment:

    python -m edgeagents.labrun --section binder --max-rss-mb 2048 labs/00_start_here.ipynb

It exits 1 when a cell raises (the error is printed) or the peak goes over ``--max-rss-mb``, and prints one JSON
line with the figures either way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import psutil

try:
    import fcntl
except ImportError:  # Windows: runs are recorded unlocked (the tests run on Linux)
    fcntl = None  # type: ignore[assignment]

from edgeagents.settings import load_settings

SECTIONS = ("labs", "solutions", "binder")


@dataclass(frozen=True)
class LabRun:
    """One measured run of one notebook."""

    notebook: str  # the file's stem, e.g. "00_start_here" or "00_start_here_solutions"
    section: str
    seconds: float
    peak_rss_mb: float  # the kernel and its child processes together, at their highest
    ok: bool
    error: str = ""


class PeakRSS:
    """Samples the summed resident memory of this process's descendants (the kernel, its servers) in a thread.

    A short spike between two samples can be missed, so :meth:`stop` also folds in ``RUSAGE_CHILDREN``, the exact
    peak of the largest child that has exited (the kernel, once it has been shut down).
    """

    def __init__(self, interval_s: float = 0.25, include_exited: bool = True) -> None:
        self._interval = interval_s
        self._include_exited = include_exited  # off where earlier, unrelated children have exited (pytest workers)
        self._peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="edgeagents-peak-rss", daemon=True)

    def start(self) -> PeakRSS:
        self._thread.start()
        return self

    def _run(self) -> None:
        me = psutil.Process()
        while not self._done.wait(self._interval):
            total = 0
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            self._peak = max(self._peak, total)

    def stop(self) -> float:
        """Stop sampling; the peak in MB."""
        self._done.set()
        self._thread.join()
        if not self._include_exited:
            return round(self._peak / 1e6, 1)
        waited = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KB on Linux, bytes on macOS
        waited_bytes = waited if sys.platform == "darwin" else waited * 1024
        return round(max(self._peak, waited_bytes) / 1e6, 1)


def timings_path() -> Path:
    return load_settings().home / "lab_timings.json"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Two notebook workers (and the Binder check's two runs) finish at the same time.
    path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def record_run(run: LabRun, path: Path | None = None) -> None:
    """Add ``run`` to the timings file, replacing that notebook's previous entry in its section."""
    if run.section not in SECTIONS:
        raise ValueError(f"section must be one of {SECTIONS}, not {run.section!r}")
    path = path or timings_path()
    with _locked(path):
        data = load_timings(path)
        entry = {k: v for k, v in asdict(run).items() if k not in ("notebook", "section", "error")}
        entry.update(measured_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     cpus=os.cpu_count(), threads=os.environ.get("EDGEAGENTS_THREADS", ""))
        data.setdefault(run.section, {})[run.notebook] = entry
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        tmp.replace(path)


def load_timings(path: Path | None = None) -> dict[str, dict[str, dict]]:
    """The recorded runs by section and notebook; empty when nothing has been measured here yet."""
    path = path or timings_path()
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def run_notebook(path: Path, section: str, timeout_s: int = 900) -> LabRun:
    """Execute every cell of ``path`` in a fresh kernel (its folder as working directory), measured."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout_s, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    peak = PeakRSS().start()
    start = time.perf_counter()
    error = ""
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc)
    seconds = round(time.perf_counter() - start, 1)
    return LabRun(path.stem, section, seconds, peak.stop(), ok=not error, error=error)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edgeagents.labrun", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--section", choices=SECTIONS, required=True)
    parser.add_argument("--max-rss-mb", type=float, default=0, help="fail when the kernel's peak goes over this")
    parser.add_argument("--timeout", type=int, default=900, help="seconds a single cell may take")
    args = parser.parse_args(argv)
    run = run_notebook(args.notebook, args.section, args.timeout)
    if run.ok:
        record_run(run)
    over = bool(args.max_rss_mb) and run.peak_rss_mb > args.max_rss_mb
    print(json.dumps({**asdict(run), "error": run.error[-4000:], "over_memory_limit": over}))
    return 0 if run.ok and not over else 1


if __name__ == "__main__":
    sys.exit(main())
