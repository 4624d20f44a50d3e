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
"""

from __future__ import annotations

import json
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


def _buckets(h: Histogram) -> list[tuple[str, float]]:
    return [(bound, float(count)) for bound, count in h.cumulative()]


def registry(collector: Collector) -> CollectorRegistry:
    """A registry holding only ``collector``'s metrics (not the process defaults)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(_GenAICollector(collector))
    return reg


def exposition(collector: Collector) -> str:
    """The Prometheus text format of ``collector``'s metrics, as a ``/metrics`` endpoint returns it."""
    return generate_latest(registry(collector)).decode()


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


def serve(collector: Collector, port: int = 0) -> MetricsServer:
    """Serve ``collector``'s exposition on 127.0.0.1 (``port=0``: a free one). Loopback only, on purpose."""
    handler = MetricsHandler.factory(registry(collector))
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
