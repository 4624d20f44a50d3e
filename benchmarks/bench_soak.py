"""The soak scenario of ``tests/test_soak.py`` as a measurement: the serving figures of a fault-injected load run.

Two hundred requests (``--n``) from four threads through a failover sender — llama.cpp's server first, llama.cpp
in-process as the fallback — with one request in ten bad on purpose and the server killed with SIGKILL halfway.
Prints the accounting (responses + typed errors = requests), the switch and its recovery time, and what serving
benchmarks report: duration, request throughput, output tokens/s, TTFT / TPOT / end-to-end latency mean, median and
p99. Not a test: the test asserts the counts; the timings here describe this machine under its current load.

    python benchmarks/bench_soak.py [--n 200] [--concurrency 4] [--max-tokens 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from edgeagents.models.course import course_model  # noqa: E402
from edgeagents.monitoring import Collector  # noqa: E402
from edgeagents.monitoring.load import Failover, run_load  # noqa: E402
from edgeagents.runtimes import LlamaCppRuntime, LlamaCppServer  # noqa: E402

MESSAGES = [{"role": "user", "content": "Where is my order ORD-1002?"}]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=3)
    args = ap.parse_args()
    spec = course_model()
    kill_at = args.n // 2
    print(f"soak: {args.n} requests, concurrency {args.concurrency}, max_tokens {args.max_tokens}, "
          f"server killed at request {kill_at}; cores {os.cpu_count()}, load avg {os.getloadavg()[0]:.1f}")
    server = LlamaCppServer(spec, n_ctx=512, n_threads=1).start(timeout=120)
    local = LlamaCppRuntime(spec, n_ctx=512, n_threads=1)
    try:
        failover = Failover([server.runtime(), local])
        killed: list[float] = []

        def send(i: int):
            if i == kill_at:
                killed.append(time.perf_counter() - start)
                server.kill()
            if i % 20 == 3:
                return failover.chat(MESSAGES, max_tokens=args.max_tokens, temperature=-1.0)
            if i % 20 == 13:
                return failover.chat([], max_tokens=args.max_tokens)
            return failover.chat(MESSAGES, max_tokens=args.max_tokens)

        with Collector(window_s=3600).attach():
            start = time.perf_counter()
            load = run_load(send, n=args.n, concurrency=args.concurrency)
    finally:
        server.stop()
        local.close()
    print(f"responses {load.successful} + typed errors {load.failed} = {len(load.outcomes)} of {args.n}; "
          f"errors by type {load.errors_by_type}")
    print(f"switches {[s[1:] for s in failover.switches]}")
    # recovery: from the kill to the first answer the fallback finished after it
    after = [o.started + o.seconds for o in load.outcomes if o.ok and o.runtime == local.name
             and killed and o.started + o.seconds > killed[0]]
    if killed and after:
        print(f"recovery: {min(after) - killed[0]:.2f} s from the kill to the fallback's first answer")
    summary = load.summary()
    summary.pop("recovery_s")  # counts transport errors that reached the caller; the failover let none through
    print(json.dumps(summary, indent=1, default=str))


if __name__ == "__main__":
    main()
