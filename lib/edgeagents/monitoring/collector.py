"""The metrics collector: request events in, per-runtime statistics out.

Every runtime reports each request as a start and an end :class:`~edgeagents.events.RequestEvent`. A
:class:`Collector` keeps, per (runtime, model): counts and errors by type since it started, the requests in flight,
and a sliding window of recent requests from which it reads latency, time to first token, time per output token and
tokens per second (p50 / p95 / p99). Seconds and tokens per second everywhere, never milliseconds.

>>> from edgeagents.monitoring import Collector
>>> with Collector(window_s=300).attach() as collector:
...     runtime.chat([{"role": "user", "content": "Hi"}])
>>> collector.table()          # one row per runtime and model

Nothing here knows about a particular runtime: the events are the only input, so one collector watches them all.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from edgeagents import events
from edgeagents.errors import InvalidRequestError
from edgeagents.events import RequestEvent

Key = tuple[str, str]  # (runtime, model)

#: Bucket bounds (seconds) for request duration histograms, OpenTelemetry's advice for gen_ai.client.operation.duration.
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
#: Bucket bounds (tokens) for token usage histograms, OpenTelemetry's advice for gen_ai.client.token.usage.
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536)


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation, as numpy's default; None for no values."""
    data = sorted(values)
    if not data:
        return None
    if not 0 <= q <= 100:
        raise InvalidRequestError(f"percentile q={q} is outside 0..100.", hint="Use 50 for the median, 95, 99...")
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


@dataclass
class Histogram:
    """A cumulative histogram (Prometheus semantics: never reset, only grows)."""

    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        self.counts = self.counts or [0] * (len(self.bounds) + 1)  # the last one is +Inf

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[i] += 1
                break
        else:
            self.counts[-1] += 1
        self.total += value
        self.n += 1

    def cumulative(self) -> list[tuple[str, int]]:
        """``[(upper bound, requests at or below it), ..., ("+Inf", n)]`` as Prometheus exposes buckets."""
        out, running = [], 0
        for bound, count in zip(self.bounds, self.counts):
            running += count
            out.append((f"{bound:g}", running))
        out.append(("+Inf", self.n))
        return out


@dataclass
class Series:
    """Everything the collector knows about one (runtime, model) pair."""

    runtime: str
    model: str
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    window: deque[RequestEvent] = field(default_factory=deque)
    duration: dict[tuple[str, str], Histogram] = field(default_factory=dict)  # (operation, error type or "")
    ttft: dict[str, Histogram] = field(default_factory=dict)  # by operation
    tpot: dict[str, Histogram] = field(default_factory=dict)
    tokens: dict[tuple[str, str], Histogram] = field(default_factory=dict)  # (operation, "input" | "output")


@dataclass(frozen=True)
class Stats:
    """One (runtime, model) pair's figures: totals since the collector started, the rest over its window."""

    runtime: str
    model: str
    requests: int
    errors: int
    errors_by_type: dict[str, int]
    in_flight: int
    window_requests: int
    window_s: float
    error_rate: float  # in the window, 0..1
    requests_per_s: float
    latency_p50_s: float | None
    latency_p95_s: float | None
    latency_p99_s: float | None
    latency_mean_s: float | None
    latency_max_s: float | None
    ttft_p50_s: float | None
    ttft_p95_s: float | None
    tpot_p50_s: float | None
    output_tokens_per_s: float | None  # mean over the window's successful requests
    prompt_tokens: int
    completion_tokens: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Collector:
    """Collects request events from every runtime in the process (after :meth:`attach`) or from :meth:`observe`.

    ``window_s`` bounds the window by age and ``max_window`` by count, so memory stays bounded on a long run.
    Thread-safe: runtimes emit from whatever thread serves the request.
    """

    def __init__(self, window_s: float = 300.0, max_window: int = 10_000,
                 clock: Callable[[], float] = time.time) -> None:
        if not window_s > 0 or max_window < 1:
            raise InvalidRequestError(f"window_s={window_s} and max_window={max_window} must be positive.",
                                      hint="A five-minute window is Collector(window_s=300).")
        self.window_s = float(window_s)
        self.max_window = int(max_window)
        self._clock = clock
        self._lock = threading.Lock()
        self._series: dict[Key, Series] = {}
        self._open: dict[int, Key] = {}  # request id -> key, for starts without an end yet
        self._subscription: events.Subscription | None = None
        self.started_at = clock()

    # ------------------------------------------------------------------ input
    def attach(self) -> Collector:
        """Subscribe to every runtime's events; :meth:`detach` (or leaving ``with``) stops."""
        if self._subscription is None:
            self._subscription = events.subscribe(self.observe)
        return self

    def detach(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None

    def __enter__(self) -> Collector:
        return self.attach()

    def __exit__(self, *exc: object) -> None:
        self.detach()

    def observe(self, event: RequestEvent) -> None:
        """Take one event. An end without a start (the collector attached mid-request) still counts."""
        key = (event.runtime, event.model)
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = Series(*key)
            if event.phase == "start":
                series.in_flight += 1
                self._open[event.request_id] = key
                return
            if self._open.pop(event.request_id, None) is not None:
                series.in_flight -= 1
            series.requests += 1
            if event.error_type:
                series.errors[event.error_type] += 1
            series.prompt_tokens += event.prompt_tokens
            series.completion_tokens += event.completion_tokens
            op = event.operation
            _hist(series.duration, (op, event.error_type or ""), DURATION_BUCKETS).observe(event.duration_s)
            _hist(series.tokens, (op, "input"), TOKEN_BUCKETS).observe(event.prompt_tokens)
            _hist(series.tokens, (op, "output"), TOKEN_BUCKETS).observe(event.completion_tokens)
            if event.ttft_s is not None:
                _hist(series.ttft, op, DURATION_BUCKETS).observe(event.ttft_s)
            if event.time_per_output_token_s is not None:
                _hist(series.tpot, op, DURATION_BUCKETS).observe(event.time_per_output_token_s)
            series.window.append(event)
            self._trim(series)

    def _trim(self, series: Series) -> None:
        oldest = self._clock() - self.window_s
        while series.window and (len(series.window) > self.max_window or series.window[0].wall_time < oldest):
            series.window.popleft()

    # ------------------------------------------------------------------ output
    def stats(self, runtime: str | None = None, model: str | None = None) -> list[Stats]:
        """The figures per (runtime, model), optionally filtered."""
        with self._lock:
            chosen = [s for (rt, m), s in sorted(self._series.items())
                      if (runtime is None or rt == runtime) and (model is None or m == model)]
            for series in chosen:
                self._trim(series)
            return [self._stats(s) for s in chosen]

    def stats_of(self, runtime: str, model: str) -> Stats:
        """One pair's figures, also before its first request (zero counts, None for every percentile)."""
        with self._lock:
            series = self._series.get((runtime, model)) or Series(runtime, model)
            self._trim(series)
            return self._stats(series)

    def _stats(self, s: Series) -> Stats:
        window = list(s.window)
        ok = [e for e in window if e.ok]
        durations = [e.duration_s for e in window]
        ttfts = [e.ttft_s for e in ok if e.ttft_s is not None]
        tpots = [t for e in ok if (t := e.time_per_output_token_s) is not None]
        rates = [e.output_tokens_per_s for e in ok if e.completion_tokens > 0 and e.duration_s > 0]
        span = min(self.window_s, max(1e-9, self._clock() - self.started_at))
        failed = sum(1 for e in window if not e.ok)
        return Stats(
            runtime=s.runtime, model=s.model, requests=s.requests, errors=sum(s.errors.values()),
            errors_by_type=dict(s.errors), in_flight=s.in_flight, window_requests=len(window), window_s=span,
            error_rate=failed / len(window) if window else 0.0, requests_per_s=len(window) / span,
            latency_p50_s=percentile(durations, 50), latency_p95_s=percentile(durations, 95),
            latency_p99_s=percentile(durations, 99),
            latency_mean_s=sum(durations) / len(durations) if durations else None,
            latency_max_s=max(durations) if durations else None,
            ttft_p50_s=percentile(ttfts, 50), ttft_p95_s=percentile(ttfts, 95), tpot_p50_s=percentile(tpots, 50),
            output_tokens_per_s=sum(rates) / len(rates) if rates else None,
            prompt_tokens=s.prompt_tokens, completion_tokens=s.completion_tokens,
        )

    def series(self) -> list[Series]:
        """Copies of the raw series (the Prometheus exposition reads their histograms)."""
        with self._lock:
            return [Series(s.runtime, s.model, s.requests, Counter(s.errors), s.in_flight, s.prompt_tokens,
                           s.completion_tokens, deque(), _copy(s.duration), _copy(s.ttft), _copy(s.tpot),
                           _copy(s.tokens)) for _, s in sorted(self._series.items())]

    def table(self) -> Any:
        """:meth:`stats` as a pandas DataFrame, one row per (runtime, model)."""
        import pandas as pd

        return pd.DataFrame([s.as_dict() for s in self.stats()])

    def reset(self) -> None:
        with self._lock:
            self._series.clear()
            self._open.clear()
            self.started_at = self._clock()


def _hist(table: dict, key: Any, bounds: tuple[float, ...]) -> Histogram:
    hist = table.get(key)
    if hist is None:
        hist = table[key] = Histogram(bounds)
    return hist


def _copy(table: dict) -> dict:
    return {k: Histogram(h.bounds, list(h.counts), h.total, h.n) for k, h in table.items()}
