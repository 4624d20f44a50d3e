"""Reading vLLM's Prometheus ``/metrics`` page: what the scheduler is doing right now.

The numbers the lab watches:

| metric                                   | kind      | meaning                                            |
|------------------------------------------|-----------|----------------------------------------------------|
| ``vllm:num_requests_running``            | gauge     | sequences in the running batch                     |
| ``vllm:num_requests_waiting``            | gauge     | requests queued behind ``--max-num-seqs``          |
| ``vllm:kv_cache_usage_perc``             | gauge     | share of the KV-cache blocks in use (0..1)         |
| ``vllm:prompt_tokens_total``             | counter   | prompt tokens processed since start                |
| ``vllm:generation_tokens_total``         | counter   | tokens generated since start                       |
| ``vllm:request_success_total``           | counter   | finished requests                                  |
| ``vllm:time_to_first_token_seconds``     | histogram | ``_sum`` / ``_count`` = mean TTFT                  |
| ``vllm:e2e_request_latency_seconds``     | histogram | ``_sum`` / ``_count`` = mean request latency       |
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+([^\s]+)(\s+\d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

RUNNING = "vllm:num_requests_running"
WAITING = "vllm:num_requests_waiting"
KV_USAGE = "vllm:kv_cache_usage_perc"
PROMPT_TOKENS = "vllm:prompt_tokens_total"
GENERATION_TOKENS = "vllm:generation_tokens_total"
SUCCESS = "vllm:request_success_total"
TTFT = "vllm:time_to_first_token_seconds"
E2E = "vllm:e2e_request_latency_seconds"


def parse_prometheus(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus text format -> ``{name: [(labels, value), ...]}`` (comments skipped)."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            continue
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        try:
            number = float(value)
        except ValueError:
            continue
        out.setdefault(name, []).append((dict(_LABEL.findall(labels)), number))
    return out


def flatten(parsed: dict[str, list[tuple[dict[str, str], float]]]) -> dict[str, float]:
    """One number per metric name: the sum over its label sets (histogram buckets are skipped)."""
    return {name: sum(v for _, v in rows) for name, rows in parsed.items() if not name.endswith("_bucket")}


def histogram_mean(flat: dict[str, float], name: str) -> float:
    """Mean of a histogram from its ``_sum`` and ``_count`` (0 when nothing was observed)."""
    count = flat.get(f"{name}_count", 0.0)
    return flat.get(f"{name}_sum", 0.0) / count if count else 0.0


@dataclass(frozen=True)
class SchedulerSample:
    t: float
    running: float
    waiting: float
    kv_cache_usage: float
    generation_tokens: float


def sample(flat: dict[str, float], t: float) -> SchedulerSample:
    return SchedulerSample(
        t=t,
        running=flat.get(RUNNING, 0.0),
        waiting=flat.get(WAITING, 0.0),
        kv_cache_usage=flat.get(KV_USAGE, 0.0),
        generation_tokens=flat.get(GENERATION_TOKENS, 0.0),
    )


@dataclass
class MetricsSampler:
    """Polls a metrics function in a background thread: ``with MetricsSampler(server.metrics) as s: ...``."""

    read: Callable[[], dict[str, float]]
    interval_s: float = 0.25
    samples: list[SchedulerSample] = field(default_factory=list)
    errors: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(sample(self.read(), time.perf_counter() - self._t0))
            except Exception:
                self.errors += 1
            self._stop.wait(self.interval_s)

    def __enter__(self) -> MetricsSampler:
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    @property
    def max_running(self) -> float:
        return max((s.running for s in self.samples), default=0.0)

    @property
    def max_waiting(self) -> float:
        return max((s.waiting for s in self.samples), default=0.0)

    def frame(self):  # noqa: ANN201 - a pandas DataFrame
        import pandas as pd

        return pd.DataFrame([s.__dict__ for s in self.samples])
