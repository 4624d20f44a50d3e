"""Benchmark the Lab 14 capstone agent: the real course agent on the capstone task set, pass^1 and pass^k.

Each task runs k times on a fresh seeded store (trial i with seed i, temperature > 0), tau-bench style.
Each trial runs through the whole ``CapstoneSystem`` (sessions, one transaction per turn, failover, the
gated tools). Prints pass^1, pass^k, a per-category table, latency p50/p95 per task, tokens, the process's
peak memory and the same traffic's cost at cloud list prices (an estimate), then why each failed trial failed. Not a test: numbers depend on the model, the machine and its load. The full set
(48 tasks x 3) takes a while on a laptop; ``--tasks N`` takes N tasks spread over the categories.

    python benchmarks/bench_capstone.py [--k 3] [--tasks N] [--threads 4] [--strategy route|auto]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from edgeagents.capstone import TASKS, Task, evaluate  # noqa: E402
from edgeagents.capstone.reliability import SystemAgent  # noqa: E402
from edgeagents.capstone.tasks import tasks_by_category  # noqa: E402
from edgeagents.routing.costs import load_cloud_prices  # noqa: E402


def spread(n: int | None) -> list[Task]:
    """The first ``n`` tasks taking one category at a time (all of them for ``None``), so a small run
    still sees several kinds of request rather than only order lookups."""
    if n is None or n >= len(TASKS):
        return list(TASKS)
    rounds = itertools.zip_longest(*tasks_by_category().values())
    return [t for t in itertools.chain.from_iterable(rounds) if t is not None][:n]


def _peak_mb() -> float:
    """This process's peak resident memory (POSIX getrusage; the current RSS where there is none, e.g. Windows)."""
    try:
        import resource
    except ImportError:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--k", type=int, default=3, help="trials per task; pass^k is reported for this k")
    ap.add_argument("--tasks", type=int, default=None, help="run only N tasks, spread over the categories")
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default EDGEAGENTS_THREADS)")
    ap.add_argument("--strategy", choices=["route", "auto"], default="auto", help="EdgeChatClient tool_strategy")
    ap.add_argument("--temperature", type=float, default=0.7, help="> 0 so the k trials of a task can differ")
    args = ap.parse_args()
    tasks = spread(args.tasks)
    print(f"capstone: {len(tasks)} tasks x k={args.k}, strategy={args.strategy}, temperature={args.temperature}, "
          f"cores {os.cpu_count()}, load avg {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    # every trial goes through the whole system: a session, one transaction per turn, failover, the gated tools
    with SystemAgent.open(n_threads=args.threads, tool_strategy=args.strategy, temperature=args.temperature) as agent:
        report = evaluate(agent, tasks, k=args.k)
        prompt = sum(t.prompt_tokens for t in agent.turns)
        completion = sum(t.completion_tokens for t in agent.turns)
    s = report.summary()
    peak_mb = _peak_mb()
    print(f"\npass^1 {s['pass^1']:.3f}   pass^{args.k} {s[f'pass^{args.k}']:.3f}   "
          f"({s['trials']} trials, {s['errors']} raised, {time.perf_counter() - t0:.0f} s in all)")
    print(f"latency per task: p50 {s['p50_s']:.2f} s, p95 {s['p95_s']:.2f} s; tokens {prompt} prompt + "
          f"{completion} completion; peak memory of this process {peak_mb:.0f} MB")
    prices = load_cloud_prices()
    print(f"the same tokens at cloud list prices (an ESTIMATE from the course's table, dated {prices.as_of}): "
          + ", ".join(f"{p.model} ${p.cost_usd(prompt, completion):.3f}" for p in prices.prices))
    print("\nper category:")
    print(report.by_category().to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print("\nper task:")
    print(report.table().to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    failed = [r for r in report.trials if not r.success]
    if failed:
        print("\nfailed trials (why):")
        for r in failed:
            calls = ", ".join(str(c.get("name")) for c in r.tool_calls if isinstance(c, dict)) or "no tool"
            print(f"  {r.task_id} seed {r.seed} [{calls}]: {'; '.join(r.reasons)[:200]}")
            print(f"      reply: {r.reply.strip()[:160]!r}")


if __name__ == "__main__":
    main()
