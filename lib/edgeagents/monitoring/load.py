"""A bounded load generator and a failover sender: what serving benchmarks report, and what survives a fault.

:func:`run_load` sends ``n`` requests from ``concurrency`` threads through any ``send(i)`` callable and accounts
for every one: a :class:`~edgeagents.runtimes.base.Result` or the typed error it raised, never a lost request.
The report has what serving benchmarks print (successful and failed requests, duration, request throughput, output
tokens/s, TTFT / TPOT / end-to-end latency mean, median and p99). It is bounded (at most 10,000 requests) and stops
by itself; point it at loopback runtimes only.

>>> from edgeagents.monitoring.load import run_load
>>> report = run_load(lambda i: runtime.chat(messages, max_tokens=16), n=40, concurrency=4)
>>> report.summary()["request_throughput"]

:class:`Failover` answers from the first runtime that can: when one fails with a transport error (its server died,
it was closed) it moves to the next for good and records when, so a load test can measure the recovery time.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from edgeagents.errors import (
    BackendError,
    EdgeAgentsError,
    InvalidRequestError,
    RuntimeClosedError,
    RuntimeUnavailableError,
    StreamInterruptedError,
)
from edgeagents.monitoring.collector import percentile

MAX_REQUESTS = 10_000
MAX_CONCURRENCY = 64

#: Errors that mean "this backend cannot serve now" (a fallback may), not "this request is wrong".
TRANSPORT_ERRORS: tuple[type[EdgeAgentsError], ...] = (BackendError, RuntimeUnavailableError, RuntimeClosedError,
                                                       StreamInterruptedError)


@dataclass(frozen=True)
class Outcome:
    """One request of a load run."""

    index: int
    ok: bool
    started: float  # seconds since the run began
    seconds: float
    error_type: str | None = None
    runtime: str = ""
    ttft_s: float | None = None
    completion_tokens: int = 0

    @property
    def tpot_s(self) -> float | None:
        if self.ttft_s is None or self.completion_tokens < 2:
            return None
        return max(0.0, self.seconds - self.ttft_s) / (self.completion_tokens - 1)


@dataclass(frozen=True)
class LoadReport:
    outcomes: tuple[Outcome, ...]
    duration_s: float
    concurrency: int

    @property
    def successful(self) -> int:
        return sum(o.ok for o in self.outcomes)

    @property
    def failed(self) -> int:
        return len(self.outcomes) - self.successful

    @property
    def errors_by_type(self) -> dict[str, int]:
        return dict(Counter(o.error_type for o in self.outcomes if o.error_type))

    def recovery_s(self) -> float | None:
        """From the first transport failure to the first success that started after it; None without one."""
        names = {cls.__name__ for cls in TRANSPORT_ERRORS}
        failures = [o for o in self.outcomes if o.error_type in names]
        if not failures:
            return None
        first = min(o.started + o.seconds for o in failures)
        after = [o.started + o.seconds for o in self.outcomes if o.ok and o.started >= first]
        return min(after) - first if after else None

    def summary(self) -> dict[str, Any]:
        ok = [o for o in self.outcomes if o.ok]
        e2e = [o.seconds for o in ok]
        ttft = [o.ttft_s for o in ok if o.ttft_s is not None]
        tpot = [t for o in ok if (t := o.tpot_s) is not None]
        tokens = sum(o.completion_tokens for o in ok)

        def stats(name: str, values: list[float]) -> dict[str, float | None]:
            return {f"mean_{name}_s": sum(values) / len(values) if values else None,
                    f"median_{name}_s": percentile(values, 50), f"p99_{name}_s": percentile(values, 99)}

        return {
            "requests": len(self.outcomes), "successful": self.successful, "failed": self.failed,
            "errors_by_type": self.errors_by_type, "duration_s": self.duration_s, "concurrency": self.concurrency,
            "request_throughput": len(ok) / self.duration_s if self.duration_s > 0 else 0.0,
            "output_tokens_per_s": tokens / self.duration_s if self.duration_s > 0 else 0.0,
            **stats("ttft", ttft), **stats("tpot", tpot), **stats("e2e", e2e),
            "recovery_s": self.recovery_s(),
        }

    def table(self) -> Any:
        """Every request, one row each (pandas)."""
        import pandas as pd

        return pd.DataFrame([o.__dict__ for o in self.outcomes])


def run_load(send: Callable[[int], Any], n: int, concurrency: int = 4, *,
             on_outcome: Callable[[Outcome], None] | None = None) -> LoadReport:
    """Call ``send(i)`` for i in 0..n-1 from ``concurrency`` threads; every call ends as one :class:`Outcome`.

    ``send`` returns a Result (or anything with ``.usage`` and ``.timings``) or raises; whatever it raises is
    recorded by class name, so ``successful + failed == n`` always. ``on_outcome`` sees each one as it lands
    (a live dashboard); what it raises is ignored.
    """
    if not 1 <= n <= MAX_REQUESTS or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidRequestError(f"n={n} and concurrency={concurrency} are outside 1..{MAX_REQUESTS} and "
                                  f"1..{MAX_CONCURRENCY}.", hint="A load test here is bounded: e.g. n=200, concurrency=4.")
    t0 = time.perf_counter()
    lock = threading.Lock()

    def one(i: int) -> Outcome:
        started = time.perf_counter()
        try:
            result = send(i)
        except Exception as exc:  # every failure is an outcome, whatever the sender raised
            outcome = Outcome(i, False, started - t0, time.perf_counter() - started, type(exc).__name__)
        else:
            usage, timings = getattr(result, "usage", None), getattr(result, "timings", None)
            tokens = getattr(usage, "completion_tokens", 0) or 0
            outcome = Outcome(i, True, started - t0, time.perf_counter() - started, None,
                              getattr(result, "runtime", ""), getattr(timings, "ttft_s", None) if tokens else None,
                              tokens)
        if on_outcome is not None:
            with lock:
                try:
                    on_outcome(outcome)
                except Exception:  # a broken dashboard must not lose the request
                    pass
        return outcome

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="edgeagents-load") as pool:
        outcomes = tuple(pool.map(one, range(n)))
    return LoadReport(outcomes, time.perf_counter() - t0, concurrency)


class Failover:
    """Chat or complete on the first runtime that can answer; a transport error moves to the next one for good.

    A request that is wrong (``InvalidRequestError``...) is not retried: it would fail anywhere. ``switches`` lists
    ``(seconds since creation, from runtime, to runtime, error type)``.
    """

    def __init__(self, runtimes: Sequence[Any]) -> None:
        if not runtimes:
            raise InvalidRequestError("Failover needs at least one runtime.", hint="Failover([primary, fallback]).")
        self.runtimes = list(runtimes)
        self.active = 0
        self.switches: list[tuple[float, str, str, str]] = []
        self._t0 = time.perf_counter()
        self._lock = threading.Lock()

    @property
    def current(self) -> Any:
        return self.runtimes[self.active]

    def _call(self, method: str, *args: Any, **options: Any) -> Any:
        while True:
            with self._lock:
                index = self.active
            runtime = self.runtimes[index]
            try:
                return getattr(runtime, method)(*args, **options)
            except TRANSPORT_ERRORS as exc:
                with self._lock:
                    if index + 1 >= len(self.runtimes):
                        raise
                    if self.active == index:  # another thread may have switched already
                        self.active = index + 1
                        self.switches.append((time.perf_counter() - self._t0, _name(runtime),
                                              _name(self.runtimes[index + 1]), type(exc).__name__))

    def chat(self, messages: Sequence[dict[str, Any]], **options: Any) -> Any:
        return self._call("chat", messages, **options)

    def complete(self, prompt: str, **options: Any) -> Any:
        return self._call("complete", prompt, **options)


def _name(runtime: Any) -> str:
    return getattr(runtime, "name", type(runtime).__name__)
