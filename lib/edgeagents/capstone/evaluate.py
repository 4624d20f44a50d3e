"""Grade an agent on the capstone tasks, tau-bench style: k trials per task, pass^1 and pass^k.

An agent is any callable ``agent_fn(store, turns, seed) -> AgentReply``: the real course agent
(:func:`edgeagents.capstone.agent.course_agent`) or a scripted one in a test. Each trial gets a fresh
seeded store; it succeeds when the store ends in the task's expected state **and** the final reply has
the required strings and none of the forbidden ones. pass^k is the chance that *all* of k trials of a
task succeed, estimated from c successes in n trials as C(c, k) / C(n, k), averaged over tasks: it
rewards an agent that is reliably right, not one that is right now and then.

>>> report = evaluate(my_agent_fn, TASKS, k=3)          # doctest: +SKIP
>>> report.summary()["pass^3"], report.table().head()   # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from edgeagents.agents.store import BusinessStore
from edgeagents.capstone.tasks import MUTABLE_TABLES, Task
from edgeagents.errors import InvalidRequestError


@dataclass
class AgentReply:
    """What an agent hands back for one task: its final reply, the tool calls it made, time and tokens."""

    text: str
    tool_calls: list[Any] = field(default_factory=list)
    seconds: float = 0.0
    tokens: int = 0


AgentFn = Callable[[BusinessStore, list[str], int], AgentReply]
StoreFactory = Callable[[], BusinessStore]

IGNORED_COLUMNS = frozenset({"created_at", "ticket_id", "callback_id"})
"""Never graded: timestamps change every run and autoincrement ids depend on what ran before."""

PRIMARY_KEYS = {"customers": "customer_id", "products": "sku", "orders": "order_id", "knowledge_base": "article_id"}
"""A seeded row may be *changed* (removed and re-added with the same key) only when a task expects it."""


@dataclass
class Trial:
    """One run of one task: the verdict, why, and the trace."""

    task_id: str
    category: str
    seed: int
    success: bool
    reasons: list[str]
    reply: str = ""
    tool_calls: list[Any] = field(default_factory=list)
    seconds: float = 0.0
    tokens: int = 0
    error: str | None = None  # the exception type when the agent raised


# ---------------------------------------------------------------------- grading the database
def db_state(store: BusinessStore) -> dict[str, list[dict[str, Any]]]:
    """Every graded table's rows, without the ignored columns."""
    # table names come from MUTABLE_TABLES (a constant), never from a task or a model
    return {t: [{k: v for k, v in r.items() if k not in IGNORED_COLUMNS}
                for r in store._all(f"SELECT * FROM {t}")]  # noqa: S608 - allowlisted table names
            for t in MUTABLE_TABLES}


def _key(row: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(row.items()))


def _matches(row: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    return all(k in row and row[k] == v for k, v in want.items())


def _match_rows(added: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> dict[int, int]:
    """A largest one-to-one matching wanted -> added (augmenting paths: two similar wanted rows must not
    both claim the one added row that fits either)."""
    owner: dict[int, int] = {}  # added index -> wanted index

    def place(w: int, seen: set[int]) -> bool:
        for a, row in enumerate(added):
            if a not in seen and _matches(row, wanted[w]):
                seen.add(a)
                if a not in owner or place(owner[a], seen):
                    owner[a] = w
                    return True
        return False

    for w in range(len(wanted)):
        place(w, set())
    return {w: a for a, w in owner.items()}


def state_differences(before: Mapping[str, list[dict[str, Any]]], after: Mapping[str, list[dict[str, Any]]],
                      expected: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    """Why ``after`` is not ``before`` plus exactly the ``expected`` rows (empty list: it is)."""
    unknown = sorted(set(expected) - set(MUTABLE_TABLES))
    reasons = [f"task expects rows in ungraded table(s) {unknown}"] if unknown else []
    for table in MUTABLE_TABLES:
        b, a = Counter(map(_key, before.get(table, []))), Counter(map(_key, after.get(table, [])))
        added = [dict(k) for k in (a - b).elements()]
        removed = [dict(k) for k in (b - a).elements()]
        wanted = list(expected.get(table, []))
        matched = _match_rows(added, wanted)
        for w, want in enumerate(wanted):
            if w not in matched:
                reasons.append(f"{table}: missing row {want}")
        for i, row in enumerate(added):
            if i not in matched.values():
                reasons.append(f"{table}: unexpected row {row}")
        pk = PRIMARY_KEYS.get(table)
        changed = {added[i][pk] for i in matched.values() if pk and pk in added[i]}
        for row in removed:
            if not (pk and row.get(pk) in changed):
                reasons.append(f"{table}: seeded row removed or changed {row}")
    return reasons


def reply_differences(text: str, task: Task) -> list[str]:
    """Why the reply fails the task's string checks (case-insensitive)."""
    low = text.lower()
    return ([f"reply lacks {s!r}" for s in task.must_contain if s.lower() not in low]
            + [f"reply contains {s!r}" for s in task.must_not_contain if s.lower() in low])


# ---------------------------------------------------------------------- running
def run_task(agent_fn: AgentFn, task: Task, store_factory: StoreFactory = BusinessStore.open_memory,
             seed: int = 0) -> Trial:
    """One trial of ``task`` on a fresh store. An agent that raises gives a failed trial, not an exception.

    >>> run_task(lambda store, turns, seed: AgentReply("shipped 2026-11-24"), TASKS[0]).success  # doctest: +SKIP
    True
    """
    store = store_factory()
    try:
        before = db_state(store)
        t0 = time.perf_counter()
        try:
            reply = agent_fn(store, list(task.turns), seed)
        except Exception as exc:  # noqa: BLE001 - any agent bug or runtime failure is a failed trial, recorded by type
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return Trial(task.id, task.category, seed, False, [f"agent raised {type(exc).__name__}: {first}"],
                         seconds=time.perf_counter() - t0, error=type(exc).__name__)
        wall = time.perf_counter() - t0
        text = reply.text if isinstance(reply, AgentReply) and isinstance(reply.text, str) else ""
        reasons = [] if isinstance(reply, AgentReply) else [f"agent returned {type(reply).__name__}, not AgentReply"]
        reasons += state_differences(before, db_state(store), task.expected) + reply_differences(text, task)
        return Trial(task.id, task.category, seed, not reasons, reasons, reply=text,
                     tool_calls=list(getattr(reply, "tool_calls", []) or []),
                     seconds=float(getattr(reply, "seconds", 0.0) or wall), tokens=int(getattr(reply, "tokens", 0) or 0))
    finally:
        store.close()


def pass_hat_k(c: int, n: int, k: int) -> float:
    """Unbiased pass^k of one task from ``c`` successes in ``n`` trials: C(c, k) / C(n, k).

    >>> pass_hat_k(2, 3, 2)
    0.3333333333333333
    """
    if not 1 <= k <= n:
        raise InvalidRequestError(f"pass^k needs 1 <= k <= n, got k={k}, n={n}.", hint="Run at least k trials per task.")
    return math.comb(c, k) / math.comb(n, k)


def _percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), 0.0 for no values."""
    if not values:
        return 0.0
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


@dataclass
class Report:
    """The outcome of :func:`evaluate`: every trial, and the figures computed from them."""

    k: int
    n: int
    tasks: list[Task]
    trials: list[Trial]

    def traces(self) -> dict[str, list[Trial]]:
        """Task id -> its trials (reply, tool calls, reasons), to read why a task failed."""
        return {t.id: [r for r in self.trials if r.task_id == t.id] for t in self.tasks}

    def successes(self) -> dict[str, int]:
        return {tid: sum(r.success for r in rs) for tid, rs in self.traces().items()}

    def pass_at(self, k: int) -> float:
        """pass^k averaged over tasks."""
        return sum(pass_hat_k(c, self.n, k) for c in self.successes().values()) / len(self.tasks)

    def table(self):  # noqa: ANN201 - a pandas DataFrame (pandas is imported only when asked)
        """One row per task: successes c of n, pass^1, pass^k, median seconds, tokens, errors."""
        import pandas as pd

        rows = []
        for task in self.tasks:
            rs = self.traces()[task.id]
            c = sum(r.success for r in rs)
            rows.append({"task": task.id, "category": task.category, "successes": c, "n": self.n,
                         "pass^1": pass_hat_k(c, self.n, 1), f"pass^{self.k}": pass_hat_k(c, self.n, self.k),
                         "p50_s": _percentile([r.seconds for r in rs], 50), "tokens": sum(r.tokens for r in rs),
                         "errors": sum(r.error is not None for r in rs)})
        return pd.DataFrame(rows)

    def by_category(self):  # noqa: ANN201 - a pandas DataFrame
        """Per category: tasks, mean pass^1 and pass^k."""
        df = self.table()
        return (df.groupby("category", sort=False)
                .agg(tasks=("task", "count"), **{"pass^1": ("pass^1", "mean"),
                                                 f"pass^{self.k}": (f"pass^{self.k}", "mean")})
                .reset_index())

    def summary(self) -> dict[str, Any]:
        """The headline figures: pass^1, pass^k, latency p50/p95 over trials, total tokens, errors."""
        secs = [r.seconds for r in self.trials]
        return {"tasks": len(self.tasks), "trials": len(self.trials), "k": self.k, "n": self.n,
                "pass^1": self.pass_at(1), f"pass^{self.k}": self.pass_at(self.k),
                "p50_s": _percentile(secs, 50), "p95_s": _percentile(secs, 95),
                "tokens": sum(r.tokens for r in self.trials),
                "errors": sum(r.error is not None for r in self.trials)}


def evaluate(agent_fn: AgentFn, tasks: Sequence[Task], k: int = 3, *, n: int | None = None,
             store_factory: StoreFactory = BusinessStore.open_memory, seed: int = 0) -> Report:
    """Run every task ``n`` times (default ``k``), trial i with seed ``seed + i``, and grade them.

    >>> report = evaluate(my_agent_fn, TASKS[:5], k=2)      # doctest: +SKIP
    >>> report.summary()["pass^2"]                          # doctest: +SKIP
    """
    tasks = list(tasks)
    n = k if n is None else n
    if not tasks:
        raise InvalidRequestError("evaluate() was given no tasks.", hint="Pass TASKS or a non-empty subset of it.")
    if not isinstance(k, int) or k < 1:
        raise InvalidRequestError(f"k must be a whole number >= 1, got {k!r}.", hint="Use k=1 for pass^1, k=3 for pass^3.")
    if not isinstance(n, int) or k > n:
        raise InvalidRequestError(f"k={k} is more than the n={n} trials per task.",
                                  hint="pass^k needs at least k trials: raise n or lower k.")
    trials = [run_task(agent_fn, task, store_factory, seed + i) for task in tasks for i in range(n)]
    return Report(k, n, tasks, trials)
