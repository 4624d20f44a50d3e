"""The guide's performance report and autoscaling recommendations, computed from a collector's figures.

The guide's ``generate_performance_report`` gives, per instance: availability, average and maximum latency,
requests per second and the queue; its ``auto_scaling_recommendations`` turn latency, GPU utilisation and idle
capacity into scale-up / scale-out / scale-down advice. Here both read :class:`~edgeagents.monitoring.Stats`
(seconds, not milliseconds) and the health checks you ran.

>>> from edgeagents.monitoring import report
>>> table = report.performance_report(collector.stats(), health={"llama.cpp": [True, True]})
>>> report.write_html(table, "report.html")
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from edgeagents.monitoring.alerts import GUIDE_IDLE_GPU_PERCENT, GUIDE_IDLE_REQUESTS_PER_S, Thresholds
from edgeagents.monitoring.collector import Stats


def performance_report(stats: Sequence[Stats], health: Mapping[str, Sequence[bool]] | None = None) -> Any:
    """One row per runtime and model: availability (share of health checks that passed, when given), success
    rate, mean / p95 / max latency, requests per second, in flight (the queue a client sees), tokens/s."""
    import pandas as pd

    rows = []
    for s in stats:
        checks = list((health or {}).get(s.runtime, []))
        rows.append({
            "runtime": s.runtime, "model": s.model, "requests": s.requests,
            "availability": sum(checks) / len(checks) if checks else None,
            "success_rate": 1 - s.error_rate if s.window_requests else None,
            "latency_mean_s": s.latency_mean_s, "latency_p95_s": s.latency_p95_s, "latency_max_s": s.latency_max_s,
            "requests_per_s": s.requests_per_s, "in_flight": s.in_flight,
            "output_tokens_per_s": s.output_tokens_per_s, "errors_by_type": s.errors_by_type,
        })
    return pd.DataFrame(rows)


def scaling_recommendations(stats: Sequence[Stats], thresholds: Thresholds, *,
                            gpu_utilization_percent: float | None = None,
                            idle_requests_per_s: float = GUIDE_IDLE_REQUESTS_PER_S,
                            idle_gpu_percent: float = GUIDE_IDLE_GPU_PERCENT) -> list[dict[str, str]]:
    """The guide's rules: latency over the limit -> scale up; GPU over its limit -> scale out; little traffic
    (and, where a GPU is measured, little GPU use) -> scale down."""
    out = []
    for s in stats:
        name = f"{s.runtime}/{s.model}"
        if t := thresholds.latency_p95_s:
            if s.latency_p95_s is not None and s.latency_p95_s > t:
                out.append({"instance": name, "type": "scale_up",
                            "reason": f"p95 latency {s.latency_p95_s:.2f} s > {t:.2f} s",
                            "suggestion": "a faster device, a smaller quantization, or fewer concurrent requests"})
        gpu_limit = thresholds.gpu_utilization_percent
        if gpu_utilization_percent is not None and gpu_limit is not None and gpu_utilization_percent > gpu_limit:
            out.append({"instance": name, "type": "scale_out",
                        "reason": f"GPU utilisation {gpu_utilization_percent:.0f} % > {gpu_limit:.0f} %",
                        "suggestion": "another instance behind the same router"})
        idle_gpu = gpu_utilization_percent is None or gpu_utilization_percent < idle_gpu_percent
        if s.requests_per_s < idle_requests_per_s and idle_gpu:
            out.append({"instance": name, "type": "scale_down",
                        "reason": f"{s.requests_per_s:.2f} requests/s < {idle_requests_per_s:g}",
                        "suggestion": "unload the model when idle, or share the device with another one"})
    return out


def write_html(table: Any, path: str | Path, title: str = "Performance report") -> Path:
    """``table`` (a DataFrame) as a standalone HTML page; returns the path."""
    path = Path(path)
    path.write_text(f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>"
                    f"<h1>{html.escape(title)}</h1>{table.to_html(index=False, float_format=lambda v: f'{v:.3g}')}")
    return path
