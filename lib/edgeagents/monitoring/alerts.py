"""Alert rules: one :class:`Thresholds` type, the guide's thresholds as presets, and :func:`check`.

The guide sets thresholds in two monitors: its Ollama monitoring service (2 s response time, 5 % errors, 85 %
memory) and its vLLM monitor (3 s latency, 10 % errors, a queue of 50, 95 % GPU utilisation, 10 GB of GPU memory).
Here they are presets of one type, checked against a collector's :class:`~edgeagents.monitoring.collector.Stats`.

>>> from edgeagents.monitoring import alerts
>>> alerts.check(collector.stats()[0], alerts.OLLAMA_GUIDE, memory_percent=91.0)
[Alert(kind='memory', severity='warning', ...)]
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from edgeagents.errors import InvalidRequestError
from edgeagents.monitoring.collector import Stats


@dataclass(frozen=True)
class Thresholds:
    """Limits an alert fires beyond. ``None``: that rule is off. Seconds and fractions (0..1), as the collector."""

    latency_p95_s: float | None = None
    error_rate: float | None = None  # fraction of the window's requests that failed
    memory_percent: float | None = None  # of the machine's RAM in use
    queue_length: int | None = None  # requests waiting (a server's own metric, e.g. vLLM's num_requests_waiting)
    gpu_utilization_percent: float | None = None
    gpu_memory_gb: float | None = None
    min_requests: int = 1  # no latency or error-rate verdict on fewer requests than this

    def __post_init__(self) -> None:
        for name in ("latency_p95_s", "error_rate", "memory_percent", "queue_length", "gpu_utilization_percent",
                     "gpu_memory_gb"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise InvalidRequestError(f"Thresholds.{name}={value!r} must be a number >= 0 or None.",
                                          hint="Leave a rule out with None; error_rate is a fraction, e.g. 0.05.")
        if self.error_rate is not None and self.error_rate > 1:
            raise InvalidRequestError(f"Thresholds.error_rate={self.error_rate} is a fraction: 0.05 means 5 %.")

    def with_(self, **changes: float | int | None) -> Thresholds:
        return replace(self, **changes)


def require_thresholds(value: object, example: str) -> Thresholds:
    """``value`` when it is a :class:`Thresholds`; else the typed error every preset gives, with ``example`` as a
    starting point (a dict of the guide's field names is the usual mistake)."""
    if not isinstance(value, Thresholds):
        raise InvalidRequestError(f"thresholds must be a Thresholds, not {type(value).__name__}.",
                                  hint=f"Start from the guide's and change one rule: {example} "
                                       "(seconds and fractions: latency_p95_s=2.0, error_rate=0.05).")
    return value


#: The guide's Ollama monitoring service: response time 2000 ms, 5 % errors, 85 % memory.
OLLAMA_GUIDE = Thresholds(latency_p95_s=2.0, error_rate=0.05, memory_percent=85.0)
#: The guide's vLLM monitor: latency 3000 ms, 10 % errors, 50 waiting, 95 % GPU utilisation, 10 GB GPU memory.
VLLM_GUIDE = Thresholds(latency_p95_s=3.0, error_rate=0.10, queue_length=50, gpu_utilization_percent=95.0,
                        gpu_memory_gb=10.0)


#: The guide's scale-down rule (its vLLM monitor): GPU under 20 % and under 1 request/s means idle capacity.
GUIDE_IDLE_GPU_PERCENT = 20.0
GUIDE_IDLE_REQUESTS_PER_S = 1.0


@dataclass(frozen=True)
class Alert:
    kind: str  # availability, performance, errors, memory, queue, gpu
    severity: str  # warning, critical
    message: str
    value: float
    threshold: float


def check(stats: Stats, thresholds: Thresholds, *, healthy: bool | None = None, memory_percent: float | None = None,
          queue_length: int | None = None, gpu_utilization_percent: float | None = None,
          gpu_memory_gb: float | None = None) -> list[Alert]:
    """The alerts ``stats`` (and the health check and machine figures given) raise under ``thresholds``; empty when
    all is well.

    A failed health check (``healthy=False``) and an error rate of twice the limit or more are critical; everything
    else a warning.
    """
    t, out = thresholds, []
    name = f"{stats.runtime}/{stats.model}"
    if healthy is False:
        out.append(Alert("availability", "critical", f"{name}: the health check failed", 0.0, 1.0))
    enough = stats.window_requests >= t.min_requests
    if enough and t.latency_p95_s is not None and stats.latency_p95_s is not None \
            and stats.latency_p95_s > t.latency_p95_s:
        out.append(Alert("performance", "warning",
                         f"{name}: p95 latency {stats.latency_p95_s:.2f} s > {t.latency_p95_s:.2f} s",
                         stats.latency_p95_s, t.latency_p95_s))
    if enough and t.error_rate is not None and stats.error_rate > t.error_rate:
        severity = "critical" if stats.error_rate >= 2 * t.error_rate else "warning"
        out.append(Alert("errors", severity,
                         f"{name}: {stats.error_rate:.0%} of {stats.window_requests} requests failed "
                         f"(limit {t.error_rate:.0%}; by type: {stats.errors_by_type})",
                         stats.error_rate, t.error_rate))
    for kind, value, limit, unit in (("memory", memory_percent, t.memory_percent, "% RAM"),
                                     ("queue", queue_length, t.queue_length, " waiting"),
                                     ("gpu", gpu_utilization_percent, t.gpu_utilization_percent, "% GPU"),
                                     ("gpu", gpu_memory_gb, t.gpu_memory_gb, " GB GPU memory")):
        if value is not None and limit is not None and value > limit:
            out.append(Alert(kind, "warning", f"{name}: {value:g}{unit} > {limit:g}{unit}", float(value), float(limit)))
    return out
