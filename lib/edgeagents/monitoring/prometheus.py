"""Prometheus exposition of a :class:`~edgeagents.monitoring.Collector`, named after OpenTelemetry's GenAI metrics.

OpenTelemetry's semantic conventions name the metrics (``gen_ai.client.operation.duration`` in seconds,
``gen_ai.client.token.usage`` in tokens, ``gen_ai.server.time_to_first_token``,
``gen_ai.server.time_per_output_token``) and their attributes (``gen_ai.operation.name``, ``gen_ai.provider.name``,
``gen_ai.request.model``, ``error.type``). Prometheus has no dots, so they map the usual way: dots become
underscores and the unit becomes a suffix (``gen_ai_client_operation_duration_seconds``).

>>> from edgeagents.monitoring import Collector, prometheus
>>> text = prometheus.exposition(collector)            # the text a /metrics endpoint returns
>>> server = prometheus.serve(collector, port=0)       # or serve it on 127.0.0.1 yourself
>>> server.url

The figures are read from the collector at scrape time (a custom prometheus-client collector), so nothing is
counted twice and nothing is kept here.

Given a :class:`~edgeagents.monitoring.system.SystemSampler`, the exposition adds its latest sample as gauges named
after OpenTelemetry's system metrics (``process.memory.usage`` -> ``process_memory_usage_bytes``,
``process.cpu.utilization``, ``system.cpu.utilization``, ``system.memory.utilization``, ``hw.gpu.utilization``,
``hw.gpu.memory.usage``). None of them is a name prometheus-client's own process collector uses
(``process_resident_memory_bytes``, ``process_cpu_seconds_total``...), so both can share one registry.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import MetricsHandler

from edgeagents.errors import InvalidRequestError, RuntimeUnavailableError
from edgeagents.monitoring.collector import Collector, Histogram
from edgeagents.monitoring.system import SystemSampler
from edgeagents.runtimes.process import ServerProcess

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: OpenTelemetry attribute -> Prometheus label
LABELS = ("gen_ai_provider_name", "gen_ai_request_model", "gen_ai_operation_name")


class _GenAICollector:
    """prometheus-client's collector protocol over our Collector: ``collect()`` yields metric families."""

    def __init__(self, source: Collector) -> None:
        self.source = source

    def collect(self) -> Iterator[Any]:
        duration = HistogramMetricFamily(
            "gen_ai_client_operation_duration", "GenAI operation duration (gen_ai.client.operation.duration).",
            labels=(*LABELS, "error_type"), unit="seconds")
        tokens = HistogramMetricFamily(
            "gen_ai_client_token_usage", "Input and output tokens per request (gen_ai.client.token.usage).",
            labels=(*LABELS, "gen_ai_token_type"))
        ttft = HistogramMetricFamily(
            "gen_ai_server_time_to_first_token", "Time to the first token (gen_ai.server.time_to_first_token).",
            labels=LABELS, unit="seconds")
        tpot = HistogramMetricFamily(
            "gen_ai_server_time_per_output_token",
            "Decode time per output token after the first (gen_ai.server.time_per_output_token).",
            labels=LABELS, unit="seconds")
        requests = CounterMetricFamily("edgeagents_requests", "Requests finished, by outcome.",
                                       labels=(*LABELS[:2], "outcome"))
        in_flight = GaugeMetricFamily("edgeagents_requests_in_flight", "Requests started and not finished.",
                                      labels=LABELS[:2])
        for s in self.source.series():
            base = (s.runtime, s.model)
            for (op, err), h in s.duration.items():
                duration.add_metric([*base, op, err], _buckets(h), h.total)
            for (op, kind), h in s.tokens.items():
                tokens.add_metric([*base, op, kind], _buckets(h), h.total)
            for op, h in s.ttft.items():
                ttft.add_metric([*base, op], _buckets(h), h.total)
            for op, h in s.tpot.items():
                tpot.add_metric([*base, op], _buckets(h), h.total)
            errors = sum(s.errors.values())
            requests.add_metric([*base, "ok"], s.requests - errors)
            for name, count in sorted(s.errors.items()):
                requests.add_metric([*base, name], count)
            in_flight.add_metric(list(base), s.in_flight)
        yield from (duration, tokens, ttft, tpot, requests, in_flight)


class _SystemCollector:
    """The sampler's latest sample as gauges; nothing at all before its first sample, and no GPU gauges without one."""

    def __init__(self, sampler: SystemSampler) -> None:
        self.sampler = sampler

    def collect(self) -> Iterator[Any]:
        s = self.sampler.latest()
        if s is None:
            return
        cores = os.cpu_count() or 1
        gauges = [
            ("process_memory_usage", "Resident memory of this process (process.memory.usage).", "bytes", s.rss_bytes),
            ("process_cpu_utilization", "CPU time of this process per second and core, 0..1 "
             "(process.cpu.utilization).", "ratio",
             None if s.process_cpu_percent is None else s.process_cpu_percent / 100 / cores),
            ("system_cpu_utilization", "Busy share of the machine's CPUs, 0..1 (system.cpu.utilization).", "ratio",
             None if s.machine_cpu_percent is None else s.machine_cpu_percent / 100),
            ("system_memory_utilization", "Share of the machine's RAM in use, 0..1 (system.memory.utilization).",
             "ratio", None if s.memory_percent is None else s.memory_percent / 100),
            ("hw_gpu_utilization", "Busy share of the first GPU, 0..1 (hw.gpu.utilization).", "ratio",
             None if s.gpu_utilization_percent is None else s.gpu_utilization_percent / 100),
            ("hw_gpu_memory_usage", "GPU memory in use (hw.gpu.memory.usage).", "bytes", s.gpu_memory_used_bytes),
        ]
        for name, doc, unit, value in gauges:
            if value is not None:
                yield GaugeMetricFamily(name, doc, value=float(value), unit=unit)


def _buckets(h: Histogram) -> list[tuple[str, float]]:
    return [(bound, float(count)) for bound, count in h.cumulative()]


def registry(collector: Collector, system: SystemSampler | None = None) -> CollectorRegistry:
    """A registry holding ``collector``'s metrics and ``system``'s latest sample (not the process defaults)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(_GenAICollector(collector))
    if system is not None:
        reg.register(_SystemCollector(system))
    return reg


def exposition(collector: Collector, system: SystemSampler | None = None) -> str:
    """The Prometheus text format of ``collector``'s metrics (and ``system``'s), as ``/metrics`` returns it."""
    return generate_latest(registry(collector, system)).decode()


@dataclass
class MetricsServer:
    """A ``/metrics`` endpoint on 127.0.0.1 in a daemon thread; :meth:`close` stops it."""

    httpd: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    @property
    def target(self) -> str:
        """``host:port``, as a Prometheus scrape config names it."""
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve(collector: Collector, port: int = 0, system: SystemSampler | None = None) -> MetricsServer:
    """Serve ``collector``'s exposition on 127.0.0.1 (``port=0``: a free one). Loopback only, on purpose."""
    handler = MetricsHandler.factory(registry(collector, system))
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="edgeagents-metrics", daemon=True)
    thread.start()
    return MetricsServer(httpd, thread)


# ---------------------------------------------------------------------------- a real Prometheus, for the lab and tests
INSTALL_HINT = "install Debian's prometheus (apt-get install prometheus; `make prometheus` does it as root)"


def prometheus_binary() -> str | None:
    return shutil.which("prometheus")


class PrometheusServer(ServerProcess):
    """A real Prometheus on 127.0.0.1 scraping ``targets`` (host:port) every second; :meth:`query` runs PromQL.

    It is started (and ready) when the constructor returns. Its data lives in a temporary folder that
    :meth:`close` removes.
    """

    name = "Prometheus"
    ready_path = "/-/ready"
    start_timeout_s = 60.0
    stop_timeout_s = 20.0
    start_hint = INSTALL_HINT

    def __init__(self, targets: Sequence[str], port: int | None = None) -> None:
        binary = prometheus_binary()
        if binary is None:
            raise RuntimeUnavailableError("No prometheus binary on PATH.", hint=INSTALL_HINT)
        if not targets:
            raise InvalidRequestError("PrometheusServer needs at least one scrape target.",
                                      hint="PrometheusServer([metrics_server.target])")
        self._dir = tempfile.TemporaryDirectory(prefix="edgeagents-prometheus-")
        folder = Path(self._dir.name)
        listed = ", ".join(f"'{t}'" for t in targets)
        (folder / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: edgeagents\n"
            f"    static_configs:\n      - targets: [{listed}]\n")
        super().__init__([binary, f"--config.file={folder / 'prometheus.yml'}",
                          f"--storage.tsdb.path={folder / 'data'}"], port=port, log_path=folder / "prometheus.log")
        try:
            self.start()
        except Exception:
            self._dir.cleanup()
            raise

    def command(self) -> list[str]:
        return [*super().command(), f"--web.listen-address={self.host}:{self.port}"]

    @property
    def url(self) -> str:
        return self.root_url

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector PromQL returns now: ``[{"metric": {...}, "value": [time, "text"]}, ...]``."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        try:
            with urllib.request.urlopen(url, timeout=10) as reply:
                body = json.load(reply)
        except urllib.error.HTTPError as exc:  # 400/422: Prometheus explains a bad query in the body
            try:
                body = json.loads(exc.read() or b"{}")
            except ValueError:
                body = {"error": f"HTTP {exc.code}"}
        if body.get("status") != "success":
            raise InvalidRequestError(f"Prometheus refused the query: {body.get('error')}", hint="Check the PromQL.")
        return body["data"]["result"]

    def wait_for(self, promql: str, timeout_s: float = 60.0) -> list[dict[str, Any]]:
        """Query until the answer is not empty (the first scrapes take a second or two)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeUnavailableError(f"Prometheus exited with code {self.process.returncode}: "
                                              f"{self.log_tail()}")
            try:
                result = self.query(promql)
                if result:
                    return result
            except OSError:
                pass  # not listening yet
            time.sleep(0.5)
        raise RuntimeUnavailableError(f"Prometheus had no answer to {promql!r} after {timeout_s:.0f} s.",
                                      hint=f"Its log: {self.log_tail()}")

    def log_tail(self, n: int = 5) -> str:
        return " | ".join(super().log_tail(n).splitlines())

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()

    def __enter__(self) -> PrometheusServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
