"""Reliability runs of the Lab 14 capstone system on the real course model, over whole task categories.

Prints one row per run: turns, answered, false "done" replies, half-written rows, tasks passed, restarts,
who answered, p50 seconds. The two failure counts must be 0; everything else describes this machine and
model. Not a test: the model's choices and the machine's load move the other numbers.

    python benchmarks/bench_capstone_reliability.py [--threads 1] [--users 8]

* network cut — every task of the read-only categories with the network guard on;
* tool raises — every ticket and callback task with the store's writes failing;
* runtime killed — the same write tasks, the runtime closed 0.3 s into each;
* escalation down — order and needs-person tasks with the runtime killed, no restart, the escalation endpoint down;
* burst — ``--users`` clients at once against the HTTP service (max_pending 2).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from edgeagents.agents.store import BusinessStore  # noqa: E402
from edgeagents.capstone import reliability  # noqa: E402
from edgeagents.capstone.system import CapstoneSystem  # noqa: E402
from edgeagents.capstone.tasks import tasks_by_category  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default EDGEAGENTS_THREADS)")
    ap.add_argument("--users", type=int, default=8, help="concurrent clients in the burst")
    args = ap.parse_args()
    cats = tasks_by_category()
    reads = cats["order_status"] + cats["customer_info"] + cats["kb_answer"]
    writes = cats["ticket_priority"] + cats["callback_booking"]
    print(f"capstone reliability: cores {os.cpu_count()}, load avg {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    runs = []
    with reliability.SystemAgent.open(n_threads=args.threads) as agent:
        for name, fn, tasks in [("network cut", reliability.network_cut, reads),
                                ("tool raises", reliability.tool_raises, writes),
                                ("runtime killed", reliability.runtime_killed, writes),
                                ("escalation down", reliability.escalation_down,
                                 cats["order_status"][:3] + cats["needs_person"])]:
            t = time.perf_counter()
            runs.append(fn(agent, tasks))
            print(f"  {name}: {len(tasks)} tasks in {time.perf_counter() - t:.0f} s", flush=True)
        system = CapstoneSystem(agent.live_runtime(), store=BusinessStore.open_memory(), max_pending=2)
        texts = [t.turns[0] for t in reads[:4]]
        runs.append(reliability.burst(system, texts, users=args.users))
        system.close()
    table = reliability.table(runs)
    print()
    print(table.to_string(index=False))
    bad = [r.scenario for r in runs if r.false_done or r.half_written]
    print(f"\nfalse 'done' and half-written rows: {'0 in every run' if not bad else 'NOT ZERO in ' + ', '.join(bad)}; "
          f"{time.perf_counter() - t0:.0f} s in all")


if __name__ == "__main__":
    main()
