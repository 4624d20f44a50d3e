"""Monitoring every runtime: a collector fed by request events, alert rules, Prometheus exposition.

- :mod:`edgeagents.monitoring.collector`: :class:`Collector` (counts, errors by type, in flight; latency, TTFT,
  time per output token and tokens/s as p50/p95/p99 over a sliding window), per runtime and model.
- :mod:`edgeagents.monitoring.alerts`: :class:`Thresholds`, the guide's presets, :func:`check`.
- :mod:`edgeagents.monitoring.prometheus`: the exposition, named after OpenTelemetry's GenAI metrics, and a
  loopback ``/metrics`` server.
- :mod:`edgeagents.monitoring.system`: :class:`~edgeagents.monitoring.system.SystemSampler` (process RSS and CPU,
  the machine's CPU and RAM, the GPU through NVML where there is one).
- :mod:`edgeagents.runtimes.server_metrics`: what the servers measure themselves (vLLM's and llama.cpp's
  ``/metrics``, Ollama's per-response durations).
- :mod:`edgeagents.monitoring.load`, :mod:`edgeagents.monitoring.report`: a bounded load generator with fault
  injection, and the guide's performance report.

Data flows one way: runtimes emit :class:`edgeagents.events.RequestEvent`; this package only listens.
"""

from edgeagents.monitoring.alerts import OLLAMA_GUIDE, VLLM_GUIDE, Alert, Thresholds, check
from edgeagents.monitoring.collector import Collector, Stats, percentile

__all__ = ["OLLAMA_GUIDE", "VLLM_GUIDE", "Alert", "Collector", "Stats", "Thresholds", "check", "percentile"]
