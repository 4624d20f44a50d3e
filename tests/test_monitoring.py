"""The monitoring package: collector figures from request events, alert rules, and a Prometheus exposition that
prometheus-client's parser reads back and a real Prometheus scrapes and answers PromQL about.

Events are built by hand here (the collector's only input); the runtimes' own events are tested with them.
"""

from __future__ import annotations

import threading
import urllib.request

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from edgeagents import events
from edgeagents.errors import InvalidRequestError
from edgeagents.events import RequestEvent, next_request_id
from edgeagents.monitoring import OLLAMA_GUIDE, VLLM_GUIDE, Collector, Thresholds, check, percentile
from edgeagents.monitoring import prometheus as prom


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def request(collector: Collector, clock: Clock, *, runtime: str = "llamacpp", model: str = "course",
            duration: float = 0.5, ttft: float | None = 0.1, tokens: int = 11, error: str | None = None) -> None:
    rid = next_request_id()
    collector.observe(RequestEvent(rid, "start", runtime, model, "chat", wall_time=clock.now))
    collector.observe(RequestEvent(rid, "end", runtime, model, "chat", wall_time=clock.now, duration_s=duration,
                                   ttft_s=ttft, prompt_tokens=20, completion_tokens=tokens, error_type=error))


def test_percentiles_match_numpy():
    rng = np.random.default_rng(0)
    values = list(rng.exponential(0.4, 257))
    for q in (0, 50, 95, 99, 100):
        assert percentile(values, q) == pytest.approx(np.percentile(values, q))
    assert percentile([], 50) is None
    with pytest.raises(InvalidRequestError):
        percentile([1.0], 101)


def test_collector_figures_per_runtime_and_model():
    clock = Clock()
    c = Collector(window_s=60, clock=clock)
    durations = [0.2, 0.4, 0.6, 0.8, 1.0, 3.0]
    for d in durations:
        request(c, clock, duration=d)
    request(c, clock, error="BackendError", duration=0.05, ttft=None, tokens=0)
    request(c, clock, runtime="ollama", duration=2.0)
    clock.now += 10
    rows = {s.runtime: s for s in c.stats()}
    s = rows["llamacpp"]
    assert (s.requests, s.errors, s.errors_by_type, s.in_flight) == (7, 1, {"BackendError": 1}, 0)
    assert s.latency_p50_s == pytest.approx(np.percentile(durations + [0.05], 50))
    assert s.latency_p95_s == pytest.approx(np.percentile(durations + [0.05], 95))
    assert s.latency_max_s == 3.0 and s.error_rate == pytest.approx(1 / 7)
    assert s.ttft_p50_s == pytest.approx(0.1)
    assert s.tpot_p50_s == pytest.approx(np.median([(d - 0.1) / 10 for d in durations]))
    assert s.output_tokens_per_s == pytest.approx(np.mean([11 / d for d in durations]))
    assert s.requests_per_s == pytest.approx(7 / 10)
    assert rows["ollama"].requests == 1 and c.stats(runtime="ollama")[0].latency_p50_s == 2.0
    assert list(c.table()["runtime"]) == ["llamacpp", "ollama"]


def test_in_flight_counts_starts_without_ends_and_an_end_without_a_start_still_counts():
    clock = Clock()
    c = Collector(clock=clock)
    rid = next_request_id()
    c.observe(RequestEvent(rid, "start", "vllm", "m", "chat"))
    assert c.stats()[0].in_flight == 1 and c.stats()[0].requests == 0
    c.observe(RequestEvent(next_request_id(), "end", "vllm", "m", "chat", duration_s=1.0))  # attached mid-request
    assert c.stats()[0].in_flight == 1 and c.stats()[0].requests == 1
    c.observe(RequestEvent(rid, "end", "vllm", "m", "chat", duration_s=1.0))
    assert c.stats()[0].in_flight == 0 and c.stats()[0].requests == 2


def test_the_window_forgets_old_requests_but_totals_do_not():
    clock = Clock()
    c = Collector(window_s=30, max_window=5, clock=clock)
    request(c, clock, duration=9.0)
    clock.now += 31
    request(c, clock, duration=1.0)
    s = c.stats()[0]
    assert s.requests == 2 and s.window_requests == 1 and s.latency_max_s == 1.0
    for _ in range(10):
        request(c, clock)
    assert c.stats()[0].window_requests == 5  # bounded by count too
    with pytest.raises(InvalidRequestError):
        Collector(window_s=0)


def test_attach_receives_every_runtimes_events_and_detach_stops():
    c = Collector()
    before = events.subscriber_count()
    with c:
        events.emit(RequestEvent(1, "end", "onnx", "m", "text_completion", duration_s=0.3))
    events.emit(RequestEvent(2, "end", "onnx", "m", "text_completion", duration_s=0.3))
    assert c.stats()[0].requests == 1 and events.subscriber_count() == before


def test_concurrent_events_are_all_counted():
    clock = Clock()
    c = Collector(clock=clock)
    threads = [threading.Thread(target=lambda: [request(c, clock) for _ in range(250)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s = c.stats()[0]
    assert s.requests == 2000 and s.in_flight == 0 and s.completion_tokens == 2000 * 11


def test_alerts_fire_under_the_guides_thresholds_and_stay_quiet_otherwise():
    clock = Clock()
    c = Collector(clock=clock)
    for _ in range(9):
        request(c, clock, duration=0.5)
    quiet = c.stats()[0]
    assert check(quiet, OLLAMA_GUIDE, memory_percent=50.0) == []
    request(c, clock, duration=2.5, error="BackendError")
    for _ in range(3):
        request(c, clock, duration=2.5)
    loud = c.stats()[0]
    kinds = {a.kind: a for a in check(loud, OLLAMA_GUIDE, memory_percent=90.0)}
    assert set(kinds) == {"performance", "errors", "memory"}
    assert kinds["errors"].severity == "warning" and "BackendError" in kinds["errors"].message
    assert {a.kind for a in check(loud, VLLM_GUIDE, queue_length=80, gpu_memory_gb=12.0)} == {"queue", "gpu"}
    assert OLLAMA_GUIDE.with_(error_rate=None).error_rate is None
    with pytest.raises(InvalidRequestError, match="fraction"):
        Thresholds(error_rate=5)
    with pytest.raises(InvalidRequestError):
        Thresholds(latency_p95_s=float("nan"))


def _filled() -> Collector:
    clock = Clock()
    c = Collector(clock=clock)
    for d in (0.03, 0.3, 3.0):
        request(c, clock, duration=d)
    request(c, clock, error="RuntimeClosedError", duration=0.01, ttft=None, tokens=0)
    return c


def test_exposition_parses_with_prometheus_clients_parser_and_counts_agree():
    text = prom.exposition(_filled())
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {"gen_ai_client_operation_duration_seconds", "gen_ai_client_token_usage",
            "gen_ai_server_time_to_first_token_seconds", "gen_ai_server_time_per_output_token_seconds",
            "edgeagents_requests", "edgeagents_requests_in_flight"} <= set(families)
    samples = families["gen_ai_client_operation_duration_seconds"].samples
    count = {s.labels["error_type"]: s.value for s in samples if s.name.endswith("_count")}
    assert count == {"": 3.0, "RuntimeClosedError": 1.0}
    ok = [s for s in samples if s.name.endswith("_bucket") and s.labels["error_type"] == ""]
    assert {s.labels["le"]: s.value for s in ok}["0.32"] == 2.0  # 0.03 and 0.3 at or under 0.32 s
    labels = samples[0].labels
    assert labels["gen_ai_provider_name"] == "llamacpp" and labels["gen_ai_request_model"] == "course"
    assert labels["gen_ai_operation_name"] == "chat"
    outcomes = {s.labels["outcome"]: s.value for s in families["edgeagents_requests"].samples
                if s.name == "edgeagents_requests_total"}
    assert outcomes == {"ok": 3.0, "RuntimeClosedError": 1.0}


def test_metrics_server_serves_the_exposition_on_loopback():
    with prom.serve(_filled()) as server:
        with urllib.request.urlopen(server.url, timeout=10) as reply:
            body = reply.read().decode()
            assert reply.headers["Content-Type"].startswith("text/plain")
    assert "gen_ai_client_operation_duration_seconds_bucket" in body
    assert server.httpd.server_address[0] == "127.0.0.1"


@pytest.mark.skipif(prom.prometheus_binary() is None,
                    reason="no prometheus binary: `make prometheus` installs Debian's package when run as root")
def test_a_real_prometheus_scrapes_the_exposition_and_answers_promql():
    with prom.serve(_filled()) as server, prom.PrometheusServer([server.target]) as prometheus:
        query = 'sum(gen_ai_client_operation_duration_seconds_count{gen_ai_provider_name="llamacpp"})'
        answer = prometheus.wait_for(query)
        assert float(answer[0]["value"][1]) == 4.0  # three successful requests and one failed, as scraped
        with pytest.raises(InvalidRequestError, match="refused"):
            prometheus.query("sum(")
    assert prometheus.process.poll() is not None


def test_performance_report_and_scaling_recommendations_follow_the_guides_rules(tmp_path):
    from edgeagents.monitoring import report

    clock = Clock()
    c = Collector(window_s=60, clock=clock)
    for d in (0.5, 4.0, 5.0):
        request(c, clock, duration=d)
    clock.now += 30
    table = report.performance_report(c.stats(), health={"llamacpp": [True, True, False, True]})
    row = table.iloc[0]
    assert row["availability"] == 0.75 and row["success_rate"] == 1.0 and row["latency_max_s"] == 5.0
    recs = {r["type"] for r in report.scaling_recommendations(c.stats(), VLLM_GUIDE, gpu_utilization_percent=97)}
    assert recs == {"scale_up", "scale_out"}  # 0.1 requests/s is idle, but the GPU is not
    idle = report.scaling_recommendations(c.stats(), VLLM_GUIDE.with_(latency_p95_s=None))
    assert [r["type"] for r in idle] == ["scale_down"]
    page = report.write_html(table, tmp_path / "report.html")
    assert "<table" in page.read_text() and "llamacpp" in page.read_text()


# ---------------------------------------------------------------- load generator and failover
class FakeResult:
    def __init__(self, runtime: str = "fake", tokens: int = 5) -> None:
        from edgeagents.runtimes.base import Timings, Usage

        self.runtime, self.usage, self.timings = runtime, Usage(3, tokens), Timings(0.001, 0.005, 3, tokens)


def test_load_accounts_for_every_request_and_reports_what_serving_benchmarks_report():
    from edgeagents.errors import BackendError
    from edgeagents.monitoring.load import run_load

    def send(i: int):
        if i % 10 == 3:
            raise InvalidRequestError("bad request on purpose")
        if i % 25 == 7:
            raise BackendError("injected backend failure")
        if i == 42:
            raise RuntimeError("a bug in the sender is still an outcome")
        return FakeResult()

    seen = []
    report = run_load(send, n=200, concurrency=8, on_outcome=seen.append)
    s = report.summary()
    assert s["requests"] == 200 == s["successful"] + s["failed"] == len(seen)
    assert s["errors_by_type"] == {"InvalidRequestError": 20, "BackendError": 8, "RuntimeError": 1}
    assert sorted(o.index for o in report.outcomes) == list(range(200))
    assert s["request_throughput"] > 0 and s["output_tokens_per_s"] > 0
    assert s["median_ttft_s"] == pytest.approx(0.001) and s["p99_e2e_s"] is not None
    assert len(report.table()) == 200
    with pytest.raises(InvalidRequestError):
        run_load(send, n=0)
    with pytest.raises(InvalidRequestError):
        run_load(send, n=10, concurrency=1000)


def test_a_broken_dashboard_loses_no_request():
    from edgeagents.monitoring.load import run_load

    def broken(_outcome):
        raise ValueError("plot failed")

    report = run_load(lambda i: FakeResult(), n=20, concurrency=2, on_outcome=broken)
    assert report.successful == 20


def test_failover_moves_on_after_a_transport_error_and_not_after_a_bad_request():
    from edgeagents.errors import RuntimeUnavailableError
    from edgeagents.monitoring.load import Failover, run_load

    class Dies:
        name = "server"

        def __init__(self) -> None:
            self.calls = 0

        def chat(self, messages, **options):
            self.calls += 1
            if options.get("max_tokens", 0) < 0:
                raise InvalidRequestError("max_tokens must be >= 0")
            if self.calls > 5:
                raise RuntimeUnavailableError("the server process died")
            return FakeResult("server")

    class Local:
        name = "llama.cpp"

        def chat(self, messages, **options):
            return FakeResult("llama.cpp")

    fo = Failover([Dies(), Local()])
    with pytest.raises(InvalidRequestError):
        fo.chat([], max_tokens=-1)  # wrong anywhere: not retried, no switch
    assert fo.switches == []
    report = run_load(lambda i: fo.chat([{"role": "user", "content": "hi"}]), n=30, concurrency=3)
    assert report.successful == 30  # the failed call was answered by the fallback: nothing lost
    assert fo.current.name == "llama.cpp" and len(fo.switches) == 1 and fo.switches[0][3] == "RuntimeUnavailableError"
    assert {o.runtime for o in report.outcomes} == {"server", "llama.cpp"}
    with pytest.raises(InvalidRequestError):
        Failover([])
