"""A soak test: two hundred real requests with about 10 % injected faults, and nothing lost.

The course model answers every request through a :class:`~edgeagents.monitoring.load.Failover` sender: llama.cpp's
server first, llama.cpp in-process as the fallback. One request in ten is bad on purpose (a negative temperature,
an empty conversation: typed ``InvalidRequestError``, never retried), and the server process is killed with SIGKILL
when request ``KILL_AT`` starts. The test asserts counts, never speed: every request ends as a response or a typed
error, the collector saw exactly what the load generator accounted for, and this process's resident memory grew
by less than a generous limit. Loopback only; ``max_tokens`` is small so it stays well under two minutes on one
thread.
"""

from __future__ import annotations

import pytest

from edgeagents.monitoring import Collector
from edgeagents.monitoring.load import TRANSPORT_ERRORS, Failover, run_load
from edgeagents.monitoring.system import SystemSampler
from edgeagents.runtimes import LlamaCppServer

N, KILL_AT, WARM_UP = 200, 100, 20
RSS_GROWTH_LIMIT = 300 * 2**20  # a leak of ~1 MiB per request would cross it; allocator noise does not
MESSAGES = [{"role": "user", "content": "Where is my order ORD-1002?"}]

pytestmark = pytest.mark.slow


def test_soak_with_faults(runtime, model_spec):
    server = LlamaCppServer(model_spec, n_ctx=512, n_threads=1).start(timeout=120)
    try:
        failover = Failover([server.runtime(), runtime])
        rss_after_warm_up: list[int] = []

        def send(i: int):
            if i == WARM_UP:
                rss_after_warm_up.append(sampler.latest().rss_bytes)
            if i == KILL_AT:
                server.kill()
            if i % 20 == 3:
                return failover.chat(MESSAGES, max_tokens=3, temperature=-1.0)
            if i % 20 == 13:
                return failover.chat([], max_tokens=3)
            return failover.chat(MESSAGES, max_tokens=3)

        with Collector(window_s=3600).attach() as collector, SystemSampler(interval_s=0.2) as sampler:
            load = run_load(send, n=N, concurrency=4)
    finally:
        server.stop()

    bad = sum(1 for i in range(N) if i % 20 in (3, 13))
    assert bad / N == 0.1
    # nothing lost: every request is a response or a typed error, and the only errors are the bad requests
    assert load.successful + load.failed == len(load.outcomes) == N
    assert sorted(o.index for o in load.outcomes) == list(range(N))
    assert load.errors_by_type == {"InvalidRequestError": bad}
    # the fallback took over for good after the kill
    assert [s[1:3] for s in failover.switches] == [(failover.runtimes[0].name, runtime.name)]
    assert failover.switches[0][3] in {cls.__name__ for cls in TRANSPORT_ERRORS}
    answered = {o.runtime for o in load.outcomes if o.ok}
    assert answered == {failover.runtimes[0].name, runtime.name}
    assert all(o.completion_tokens > 0 for o in load.outcomes if o.ok)

    # the collector counted what reached a runtime: each success once, and on top only the server's transport
    # failures that the fallback then answered. A bad request is rejected by validation before it reaches one, so
    # only the load generator counts it.
    stats = collector.stats()
    ok = sum(s.requests - s.errors for s in stats)
    invalid = sum(s.errors_by_type.get("InvalidRequestError", 0) for s in stats)
    transport = {k: v for s in stats for k, v in s.errors_by_type.items() if k != "InvalidRequestError"}
    assert ok == load.successful
    assert invalid == 0
    assert set(transport) <= {cls.__name__ for cls in TRANSPORT_ERRORS} and sum(transport.values()) >= 1
    assert sum(s.requests for s in stats) == load.successful + sum(transport.values())
    assert all(s.in_flight == 0 for s in stats)

    # memory: bounded growth after the warm-up (the model and the server's client are loaded by then)
    assert rss_after_warm_up and sampler.samples[-1].rss_bytes - rss_after_warm_up[0] < RSS_GROWTH_LIMIT
