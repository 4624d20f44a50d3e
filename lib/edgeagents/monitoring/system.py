"""The machine under the runtimes: this process's memory and CPU, the machine's CPU and RAM, the GPU through NVML.

A runtime's latency means little without the machine beside it: a p95 that doubles while the CPU sits at 100 %
is a capacity problem, one that doubles at 20 % is not. :func:`snapshot` reads everything once;
:class:`SystemSampler` reads it every ``interval_s`` in a background thread into a bounded series, and
:func:`edgeagents.monitoring.prometheus.exposition` exposes its latest sample next to the request metrics.

>>> from edgeagents.monitoring.system import SystemSampler, gpu_status
>>> gpu_status()                             # one line: the GPU NVML sees, or why there is none
>>> with SystemSampler(interval_s=0.5) as sampler:
...     run_load(...)
>>> sampler.frame()                          # one row per sample
>>> sampler.peak_rss_bytes

psutil is used when it is installed (it is a dependency of the course), else ``/proc`` (Linux). GPU figures come
from NVML (``nvidia-ml-py``, imported as ``pynvml``) and are None without an NVIDIA GPU, driver or that package.
Process CPU is a percentage of one core, as ``top`` shows it (two busy threads: 200 %); machine CPU and RAM are
percentages of the whole machine.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from edgeagents.errors import InvalidRequestError

try:
    import psutil
except ImportError:  # pragma: no cover - psutil is a course dependency; /proc keeps this working without it
    psutil = None

MAX_SAMPLES = 100_000


@dataclass(frozen=True)
class GPUReading:
    name: str
    utilization_percent: float
    memory_used_bytes: int
    memory_total_bytes: int


class _NVML:
    """NVML, initialised once per process; :meth:`read` is None where there is no GPU (``reason`` says why)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handle: Any = None
        self._pynvml: Any = None
        self.reason: str | None = None
        self._tried = False

    def _init(self) -> None:
        self._tried = True
        try:
            import pynvml
        except ImportError:
            self.reason = "no NVML bindings (pip install nvidia-ml-py)"
            return
        try:
            pynvml.nvmlInit()
            if pynvml.nvmlDeviceGetCount() < 1:
                self.reason = "NVML sees no GPU"
                return
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(0)
            self._pynvml = pynvml
        except Exception as exc:  # NVMLError_LibraryNotFound, _DriverNotLoaded...: no usable GPU, said in one line
            self.reason = f"NVML unavailable: {exc}"

    def read(self) -> GPUReading | None:
        with self._lock:
            if not self._tried:
                self._init()
            if self._handle is None:
                return None
            nv = self._pynvml
            try:
                name = nv.nvmlDeviceGetName(self._handle)
                util = nv.nvmlDeviceGetUtilizationRates(self._handle).gpu
                mem = nv.nvmlDeviceGetMemoryInfo(self._handle)
            except Exception as exc:  # the GPU fell off the bus, the driver went away
                self.reason = f"NVML read failed: {exc}"
                return None
            return GPUReading(name.decode() if isinstance(name, bytes) else str(name), float(util),
                              int(mem.used), int(mem.total))


_nvml = _NVML()


def gpu_reading() -> GPUReading | None:
    """The first GPU's utilisation and memory now, or None (see :func:`gpu_status`)."""
    return _nvml.read()


def gpu_status() -> str:
    """One line: the GPU NVML reads, or why GPU figures are None here."""
    g = gpu_reading()
    if g is None:
        return f"No GPU figures: {_nvml.reason}; GPU values are None."
    return (f"GPU: {g.name}, {g.utilization_percent:.0f} % busy, "
            f"{g.memory_used_bytes / 2**30:.1f} of {g.memory_total_bytes / 2**30:.1f} GiB used.")


@dataclass(frozen=True)
class SystemSample:
    wall_time: float
    rss_bytes: int
    process_cpu_percent: float | None  # of one core since the previous sample; None on the first
    machine_cpu_percent: float | None  # of all cores since the previous sample; None on the first
    memory_percent: float | None  # of the machine's RAM in use
    gpu_utilization_percent: float | None
    gpu_memory_used_bytes: int | None
    gpu_memory_total_bytes: int | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _CPU:
    """CPU percentages between two reads, from psutil or ``/proc``; the first read has no interval, so None."""

    def __init__(self) -> None:
        self._last: tuple[float, float, float, float] | None = None  # wall, process s, machine busy s, machine all s
        self._process = psutil.Process() if psutil is not None else None

    def read(self) -> tuple[float | None, float | None]:
        now = time.monotonic()
        proc_s, busy_s, all_s = _cpu_times(self._process)
        last, self._last = self._last, (now, proc_s, busy_s, all_s)
        if last is None or now <= last[0] or all_s <= last[3]:
            return None, None
        process = 100 * (proc_s - last[1]) / (now - last[0])
        machine = 100 * (busy_s - last[2]) / (all_s - last[3])
        return max(0.0, process), min(100.0, max(0.0, machine))


def _cpu_times(process: Any) -> tuple[float, float, float]:
    """(this process's CPU seconds, the machine's busy CPU seconds, all its CPU seconds)."""
    if process is not None:
        p = process.cpu_times()
        m = psutil.cpu_times()
        total = sum(m)
        idle = m.idle + getattr(m, "iowait", 0.0)
        return p.user + p.system, total - idle, total
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    proc_s = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    with open("/proc/stat") as f:
        cpu = [int(v) for v in f.readline().split()[1:]]
    total = sum(cpu[:8]) / tick  # guest time is already in user
    idle = (cpu[3] + cpu[4]) / tick
    return proc_s, total - idle, total


def _memory() -> tuple[int, float | None]:
    """(this process's resident set in bytes, % of the machine's RAM in use)."""
    if psutil is not None:
        return psutil.Process().memory_info().rss, float(psutil.virtual_memory().percent)
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    info = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, value = line.split(":", 1)
            info[key] = int(value.split()[0])
    total, available = info.get("MemTotal"), info.get("MemAvailable")
    return rss, (100 * (total - available) / total if total and available is not None else None)


_default_cpu = _CPU()


def snapshot(cpu: _CPU | None = None) -> SystemSample:
    """Everything once. CPU percentages are since the previous call on the same counter (None on the first)."""
    process_cpu, machine_cpu = (cpu or _default_cpu).read()
    rss, mem_percent = _memory()
    g = gpu_reading()
    return SystemSample(time.time(), rss, process_cpu, machine_cpu, mem_percent,
                        g.utilization_percent if g else None, g.memory_used_bytes if g else None,
                        g.memory_total_bytes if g else None)


class SystemSampler:
    """:func:`snapshot` every ``interval_s`` in a daemon thread, keeping the last ``max_samples``.

    ``with SystemSampler() as s:`` starts and stops it; so do :meth:`start` and :meth:`stop`. It takes one sample
    when it starts and one when it stops, so even a short run has a first and a last.
    """

    def __init__(self, interval_s: float = 1.0, max_samples: int = 3_600) -> None:
        if not interval_s > 0 or not 1 <= max_samples <= MAX_SAMPLES:
            raise InvalidRequestError(f"interval_s={interval_s} must be > 0 and max_samples={max_samples} in "
                                      f"1..{MAX_SAMPLES}.", hint="An hour at one sample a second: "
                                                                 "SystemSampler(interval_s=1, max_samples=3600).")
        self.interval_s = float(interval_s)
        self._samples: deque[SystemSample] = deque(maxlen=int(max_samples))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cpu = _CPU()
        self._cpu.read()  # prime the counters: the first sample then has an interval to measure over

    def _take(self) -> None:
        s = snapshot(self._cpu)
        with self._lock:
            self._samples.append(s)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self._take()
            except OSError:  # /proc raced with something; the next sample tries again
                pass

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> SystemSampler:
        if not self.running:
            self._stop.clear()
            self._take()
            self._thread = threading.Thread(target=self._loop, name="edgeagents-system", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self.running:
            self._stop.set()
            self._thread.join(timeout=max(5.0, 2 * self.interval_s))
            self._take()
        self._thread = None

    def __enter__(self) -> SystemSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def samples(self) -> list[SystemSample]:
        with self._lock:
            return list(self._samples)

    def latest(self) -> SystemSample | None:
        with self._lock:
            return self._samples[-1] if self._samples else None

    @property
    def peak_rss_bytes(self) -> int:
        return max((s.rss_bytes for s in self.samples), default=0)

    def frame(self) -> Any:
        """The samples as a pandas DataFrame, ``t_s`` counted from the first."""
        import pandas as pd

        rows = [s.as_dict() for s in self.samples]
        df = pd.DataFrame(rows)
        if rows:
            df.insert(0, "t_s", df["wall_time"] - rows[0]["wall_time"])
        return df
