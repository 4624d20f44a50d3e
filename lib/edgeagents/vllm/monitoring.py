"""The guide's advanced monitoring, fed by vLLM's real ``/metrics`` instead of ping requests.

The guide measured latency by sending a one-token "ping" and reported the queue length as 0
("would need to be exposed by vLLM"). vLLM does expose it: every snapshot here reads the
server's Prometheus counters and gauges, and rates come from the difference between two
snapshots. The autoscaling rules are the guide's (latency, utilisation, queue, idle), with
CPU utilisation standing in for GPU utilisation on a machine without a GPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import psutil

from edgeagents.monitoring.alerts import (
    GUIDE_IDLE_GPU_PERCENT,
    GUIDE_IDLE_REQUESTS_PER_S,
    VLLM_GUIDE,
    Thresholds,
    require_thresholds,
)
from edgeagents.monitoring.system import gpu_reading
from edgeagents.runtimes import server_metrics as m


@dataclass(frozen=True)
class PerformanceMetrics:
    timestamp: float
    requests_per_second: float
    tokens_per_second: float
    average_latency_ms: float
    average_ttft_ms: float
    utilization_percent: float  # GPU when there is one, else this machine's CPU
    utilization_source: str
    memory_used_gb: float
    queue_length: int
    active_requests: int
    kv_cache_usage_percent: float


def _gpu_utilization() -> tuple[float, float] | None:
    g = gpu_reading()
    return (g.utilization_percent, g.memory_used_bytes / 1024**3) if g else None


@dataclass
class VLLMMonitor:
    """Collect snapshots from one or more servers' metrics and turn them into reports and advice.

    ``sources`` maps an instance name to a callable that returns the server's flattened metrics
    (``server.metrics``).
    """

    sources: dict[str, Callable[[], dict[str, float]]]
    thresholds: Thresholds = VLLM_GUIDE  # the guide's limits, defined once in edgeagents.monitoring.alerts
    history: list[dict[str, PerformanceMetrics]] = field(default_factory=list)

    def __post_init__(self) -> None:
        require_thresholds(self.thresholds, "VLLM_GUIDE.with_(queue_length=4)")
        self._last: dict[str, tuple[float, dict[str, float]]] = {}
        psutil.cpu_percent(interval=None)  # prime the CPU counter

    def collect(self) -> dict[str, PerformanceMetrics]:
        """One snapshot per instance; rates are over the time since the previous snapshot."""
        snapshot: dict[str, PerformanceMetrics] = {}
        now = time.time()
        cpu = psutil.cpu_percent(interval=None)
        gpu = _gpu_utilization()
        for name, read in self.sources.items():
            try:
                flat = read()
            except Exception:
                flat = None
            if flat is None:
                snapshot[name] = PerformanceMetrics(now, 0, 0, 0, 0, 0, "unreachable", 0, 0, 0, 0)
                continue
            prev_t, prev = self._last.get(name, (now, {}))
            dt = now - prev_t

            def delta(key: str, flat: dict = flat, prev: dict = prev) -> float:
                return flat.get(key, 0.0) - prev.get(key, 0.0) if prev else 0.0

            done = delta(f"{m.E2E}_count")
            lat = delta(f"{m.E2E}_sum") / done * 1000 if done > 0 else 0.0
            first = delta(f"{m.TTFT}_count")
            ttft = delta(f"{m.TTFT}_sum") / first * 1000 if first > 0 else 0.0
            snapshot[name] = PerformanceMetrics(
                timestamp=now,
                requests_per_second=done / dt if dt > 0 else 0.0,
                tokens_per_second=delta(m.GENERATION_TOKENS) / dt if dt > 0 else 0.0,
                average_latency_ms=lat,
                average_ttft_ms=ttft,
                utilization_percent=gpu[0] if gpu else cpu,
                utilization_source="gpu" if gpu else "cpu",
                memory_used_gb=gpu[1] if gpu else psutil.virtual_memory().used / 1024**3,
                queue_length=int(flat.get(m.WAITING, 0)),
                active_requests=int(flat.get(m.RUNNING, 0)),
                kv_cache_usage_percent=100 * flat.get(m.KV_USAGE, 0.0),
            )
            self._last[name] = (now, flat)
        self.history.append(snapshot)
        self.history = self.history[-1000:]
        return snapshot

    def generate_performance_report(self, time_window_minutes: float = 60) -> dict[str, Any]:
        cutoff = time.time() - time_window_minutes * 60
        recent = [s for s in self.history if any(x.timestamp > cutoff for x in s.values())]
        if not recent:
            return {"error": "No recent metrics available"}
        report: dict[str, Any] = {"time_window_minutes": time_window_minutes, "total_samples": len(recent), "instances": {}}
        for name in self.sources:
            rows = [s[name] for s in recent if name in s and s[name].utilization_source != "unreachable"]
            if rows:
                report["instances"][name] = {
                    "avg_latency_ms": sum(r.average_latency_ms for r in rows) / len(rows),
                    "max_latency_ms": max(r.average_latency_ms for r in rows),
                    "avg_utilization": sum(r.utilization_percent for r in rows) / len(rows),
                    "avg_requests_per_second": sum(r.requests_per_second for r in rows) / len(rows),
                    "max_queue_length": max(r.queue_length for r in rows),
                    "availability_percent": 100 * len(rows) / len(recent),
                }
        return report

    def auto_scaling_recommendations(self, snapshot: dict[str, PerformanceMetrics] | None = None) -> list[dict[str, str]]:
        """The guide's rules on the latest (or a given) snapshot, plus a queue rule the guide could not apply."""
        if snapshot is None:
            if not self.history:
                return []
            snapshot = self.history[-1]
        t = self.thresholds
        out: list[dict[str, str]] = []
        for name, x in snapshot.items():
            if x.utilization_source == "unreachable":
                out.append({"instance": name, "type": "restart", "reason": "metrics unreachable",
                            "suggestion": "Check the server process and its log."})
                continue
            if t.latency_p95_s is not None and x.average_latency_ms > t.latency_p95_s * 1000:
                out.append({"instance": name, "type": "scale_up", "reason": f"High latency: {x.average_latency_ms:.0f} ms",
                            "suggestion": "More compute per replica (tensor parallelism, a faster device) or shorter outputs."})
            if t.queue_length is not None and x.queue_length > t.queue_length:
                out.append({"instance": name, "type": "scale_out", "reason": f"{x.queue_length} requests waiting",
                            "suggestion": "Add a replica, or raise --max-num-seqs if KV cache and memory allow."})
            if t.gpu_utilization_percent is not None and x.utilization_percent > t.gpu_utilization_percent:
                out.append({"instance": name, "type": "scale_out",
                            "reason": f"High {x.utilization_source.upper()} utilization: {x.utilization_percent:.1f}%",
                            "suggestion": "Add another instance on other hardware."})
            if x.utilization_percent < GUIDE_IDLE_GPU_PERCENT and x.requests_per_second < GUIDE_IDLE_REQUESTS_PER_S \
                    and x.active_requests == 0 and x.queue_length == 0:
                out.append({"instance": name, "type": "scale_down",
                            "reason": f"Low utilization: {x.utilization_percent:.1f}% {x.utilization_source.upper()}, "
                                      f"{x.requests_per_second:.1f} RPS",
                            "suggestion": "Consolidate workloads or reduce resources."})
        return out

    def frame(self):  # noqa: ANN201 - a pandas DataFrame
        import pandas as pd

        return pd.DataFrame([{"instance": n, **asdict(x)} for s in self.history for n, x in s.items()])
