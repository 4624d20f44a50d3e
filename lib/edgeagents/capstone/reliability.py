"""Reliability runs: the capstone system's tasks again, with something broken on purpose, and what happened.

Each run returns a :class:`Run`: how many turns there were, how many were answered, and the two failures
that must stay at zero — a failed action **reported as done**, and a **half-written row** (a store that
differs from its task's expected state after a failed turn). The runs:

* :func:`network_cut` — the course's network guard refuses every outbound connection; the tasks still run.
* :func:`tool_raises` — the store's writes raise (a locked database); the agent must say it failed.
* :func:`runtime_killed` — the model runtime is closed under a turn; the system reopens it and retries.
* :func:`escalation_down` — the runtime dies with no way to reopen it and the escalation endpoint is down:
  every turn must end with "a person will follow up", nothing written.
* :func:`burst` — many users at once on the HTTP service: answers or 429, never a server error.

>>> from edgeagents.capstone.reliability import SystemAgent, network_cut
>>> with SystemAgent.open() as agent:                          # doctest: +SKIP
...     network_cut(agent, TASKS[:3]).as_dict()
"""

from __future__ import annotations

import concurrent.futures
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from edgeagents import events
from edgeagents.agents.framework import FAILURE_LEAD
from edgeagents.agents.store import BusinessStore
from edgeagents.capstone.evaluate import AgentReply, db_state, evaluate
from edgeagents.capstone.system import PERSON_REPLY, CapstoneSystem
from edgeagents.capstone.tasks import Task
from edgeagents.monitoring.collector import Collector, percentile

DONE_WORDS = ("has been created", "has been opened", "i've opened", "i have opened", "is booked", "has been booked",
              "i've booked", "i have booked", "scheduled", "ticket number", "ticket id")
"""Phrases that claim a write happened: in a reply after a failed write, each is a false "done"."""


@dataclass
class Run:
    """One reliability run's numbers."""

    scenario: str
    turns: int
    answered: int
    false_done: int  # failed actions reported as done
    half_written: int  # failed turns that left rows behind
    passed: int | None = None  # trials graded as succeeded (as in evaluate()); None where nothing is graded
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class SystemAgent:
    """``agent_fn(store, turns, seed)`` that answers through a :class:`CapstoneSystem` over the trial's store.

    One runtime serves every trial (loading it is the slow part); a system that had to reopen it hands the
    new one on. Pass ``runtime`` to share one already open (its owner closes it; :meth:`close` closes only the
    runtimes this agent opened). ``options`` go to each trial's :class:`CapstoneSystem` (``tool_strategy``,
    ``temperature``, ``extra_tools``...).
    """

    def __init__(self, runtime_factory: Callable[[], Any], *, runtime: Any = None, escalation: Any = None,
                 **options: Any) -> None:
        self.runtime_factory = runtime_factory
        self.escalation = escalation
        self.options = options
        self.collector = Collector().attach()
        self.runtime: Any = runtime
        self._shared = runtime
        self.turns: list[Any] = []
        self.trials: list[list[Any]] = []  # the turns of each call, in order (evaluate's trials, one to one)
        self.restart = True  # False: a failed runtime is not reopened (escalation, then a person)

    @classmethod
    def open(cls, n_ctx: int = 2048, n_threads: int | None = None, **options: Any) -> SystemAgent:
        """The course model, reopened on failure."""
        from edgeagents.runtimes import open_runtime

        extra = {"n_threads": n_threads} if n_threads else {}
        return cls(lambda: open_runtime(n_ctx=n_ctx, **extra), **options)

    def live_runtime(self) -> Any:
        """The runtime the trials use, reopened first if there is none yet or a failure left it closed."""
        if self.runtime is None or not self.runtime.health().ok:
            self.runtime = self.runtime_factory()
        return self.runtime

    def system(self, store: BusinessStore, seed: int = 0) -> CapstoneSystem:
        return CapstoneSystem(self.live_runtime(), store=store, runtime_factory=self.runtime_factory if self.restart else None,
                              escalation=self.escalation, collector=self.collector, seed=seed, **self.options)

    def __call__(self, store: BusinessStore, turns: list[str], seed: int) -> AgentReply:
        system = self.system(store, seed)
        session, replies = None, []
        try:
            for text in turns:
                replies.append(system.chat(text, session))
                session = replies[-1].session_id
        finally:
            runtime = system.release_runtime()
            if runtime is not None and runtime is not self.runtime:
                self.runtime = runtime  # the one the system reopened after a failure
            self.turns.extend(replies)
            self.trials.append(replies)
        return AgentReply(replies[-1].text, [c for r in replies for c in r.tool_calls],
                          sum(r.seconds for r in replies), sum(r.prompt_tokens + r.completion_tokens for r in replies))

    def close(self) -> None:
        self.collector.detach()
        if self.runtime is not None and self.runtime is not self._shared:
            self.runtime.close()
        self.runtime = None

    def __enter__(self) -> SystemAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def claims_done(text: str) -> bool:
    """True when ``text`` says a write happened (and does not lead with the framework's failure statement)."""
    low = text.lower()
    return not low.startswith(FAILURE_LEAD.lower()) and any(w in low for w in DONE_WORDS)


WRITE_TOOLS = {"create_support_ticket": "tickets", "schedule_callback": "callbacks"}


def _run(scenario: str, agent: SystemAgent, tasks: Sequence[Task], *,
         store_factory: Callable[[], BusinessStore] = BusinessStore.open_memory) -> Run:
    """Grade ``tasks`` once each through ``agent``, and count what must stay at zero.

    A half-written trial is one whose store gained rows that no reported, successful tool call accounts for
    (what a failed attempt would leave without its transaction); a false "done" is a turn with a failed tool
    call whose reply claims the write happened.
    """
    first_turn, first_trial = len(agent.turns), len(agent.trials)
    states: list[tuple[Any, Any]] = []
    report = evaluate(agent, tasks, k=1, store_factory=_recording(store_factory, states))
    turns = agent.turns[first_turn:]
    half = 0
    for trial_turns, (before, after) in zip(agent.trials[first_trial:], states):
        written = sum(1 for t in trial_turns for c in t.tool_calls if c["name"] in WRITE_TOOLS and not c.get("error"))
        added = sum(len(after[table]) - len(before[table]) for table in set(WRITE_TOOLS.values()))
        half += added != written
    false_done = sum(1 for t in turns if any(c.get("error") for c in t.tool_calls) and claims_done(t.text))
    return Run(scenario, len(turns), sum(1 for t in turns if t.text.strip()), false_done, half,
               sum(t.success for t in report.trials),
               {"failed_tool_calls": sum(1 for t in turns for c in t.tool_calls if c.get("error")),
                "restarts": sum(t.restarts for t in turns),
                "served_by": dict(sorted(_tally(t.served_by for t in turns).items())),
                "p50_s": percentile([t.seconds for t in turns], 50)})


def _tally(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


def _recording(factory: Callable[[], BusinessStore], states: list[tuple[Any, Any]]) -> Callable[[], BusinessStore]:
    """A store factory that remembers each store's state at creation and at close."""

    def make() -> BusinessStore:
        store = factory()
        before = db_state(store)
        close = store.close

        def closing() -> None:
            states.append((before, db_state(store)))
            close()

        store.close = closing  # type: ignore[method-assign]
        return store

    return make


# ---------------------------------------------------------------------- the runs
def network_cut(agent: SystemAgent, tasks: Sequence[Task]) -> Run:
    """The tasks with every non-loopback connection refused (the course's network guard)."""
    from edgeagents.netguard import offline

    with offline() as guard:
        run = _run("network cut", agent, tasks)
    run.detail["outbound_blocked"] = len(guard.blocked)
    run.detail["outbound_allowed"] = sum(1 for what, target in guard.allowed if not target.startswith(("127.", "::1",
                                                                                                       "localhost")))
    return run


class _LockedStore(BusinessStore):
    """A store whose writes fail as a locked SQLite database does (reads still work)."""

    def _insert(self, sql: str, params: tuple[Any, ...]) -> int:
        if sql.lstrip().upper().startswith("INSERT INTO AUDIT_LOG"):
            return super()._insert(sql, params)
        raise sqlite3.OperationalError("database is locked")


def tool_raises(agent: SystemAgent, tasks: Sequence[Task]) -> Run:
    """Write tasks whose tools raise: the reply must say it failed; nothing may be written."""
    def locked() -> BusinessStore:
        return _LockedStore(sqlite3.connect(":memory:", check_same_thread=False), ":memory:")

    return _run("tool raises", agent, tasks, store_factory=locked)


def _kill_once(runtime: Any, delay_s: float) -> events.Subscription:
    """Close ``runtime`` ``delay_s`` after the first request starts (on a timer thread), once."""
    fired = threading.Event()

    def on_event(event: Any) -> None:
        if event.phase == "start" and not fired.is_set():
            fired.set()
            threading.Timer(delay_s, runtime.close).start()

    return events.subscribe(on_event)


def runtime_killed(agent: SystemAgent, tasks: Sequence[Task], delay_s: float = 0.3) -> Run:
    """Close the runtime under the first turn of each task; the system reopens it and retries the turn."""
    runs = []
    for task in tasks:
        sub = _kill_once(agent.live_runtime(), delay_s)  # the live one, not the last task's killed one
        try:
            runs.append(_run("runtime killed", agent, [task]))
        finally:
            sub.close()
    return _merge("runtime killed", runs)


def escalation_down(agent: SystemAgent, tasks: Sequence[Task], delay_s: float = 0.3) -> Run:
    """The runtime dies, cannot be reopened, and the escalation endpoint is down: a person must be promised."""
    from edgeagents.runtimes.openai_compat import OpenAICompatRuntime
    from edgeagents.runtimes.process import free_port

    saved = agent.escalation, agent.restart
    agent.escalation = OpenAICompatRuntime(f"http://127.0.0.1:{free_port()}/v1", "cloud-model", timeout=2.0)
    agent.restart = False
    try:
        run = runtime_killed(agent, tasks, delay_s)
    finally:
        agent.escalation, agent.restart = saved
    run.scenario = "escalation down"
    run.detail["person_replies"] = sum(1 for t in agent.turns[len(agent.turns) - run.turns:] if t.text == PERSON_REPLY)
    return run


def _merge(scenario: str, runs: list[Run]) -> Run:
    served: dict[str, int] = {}
    for r in runs:
        for k, v in r.detail["served_by"].items():
            served[k] = served.get(k, 0) + v
    return Run(scenario, sum(r.turns for r in runs), sum(r.answered for r in runs), sum(r.false_done for r in runs),
               sum(r.half_written for r in runs), sum(r.passed for r in runs),
               {"failed_tool_calls": sum(r.detail["failed_tool_calls"] for r in runs),
                "restarts": sum(r.detail["restarts"] for r in runs), "served_by": served,
                "p50_s": percentile([r.detail["p50_s"] for r in runs if r.detail["p50_s"] is not None], 50)})


def burst(system: CapstoneSystem, texts: Sequence[str], users: int = 8) -> Run:
    """``users`` clients at once on the HTTP service over ``system``, each sending its text; answers or 429."""
    import httpx

    from edgeagents.capstone.service import serve

    def one(i: int) -> tuple[int, float, str]:
        t0 = time.perf_counter()
        r = http.post(f"{server.url}/v1/chat/completions",
                      json={"messages": [{"role": "user", "content": texts[i % len(texts)]}]})
        body = r.json()
        text = body["choices"][0]["message"]["content"] if r.status_code == 200 else body["error"]["type"]
        return r.status_code, time.perf_counter() - t0, text

    with serve(system) as server, httpx.Client(timeout=600) as http:
        with concurrent.futures.ThreadPoolExecutor(users) as pool:
            results = list(pool.map(one, range(users)))
    codes = _tally(str(code) for code, _, _ in results)
    ok = [s for code, s, _ in results if code == 200]
    return Run("burst", users, len(ok), 0, 0, None,
               {"status": dict(sorted(codes.items())), "max_pending": system.max_pending,
                "served_by": dict(sorted(_tally(t.served_by for t in system.turns[-len(ok):] if ok).items())),
                "p50_s": percentile(ok, 50), "p95_s": percentile(ok, 95),
                "server_errors": sum(1 for code, _, _ in results if code >= 500)})


def table(runs: Sequence[Run]) -> Any:
    """The runs as a pandas DataFrame, one row each; scenario-specific figures in ``detail``."""
    import pandas as pd

    main = ("served_by", "restarts", "p50_s")
    rows = []
    for r in runs:
        rest = {k: v for k, v in r.detail.items() if k not in main}
        p50 = r.detail.get("p50_s")
        rows.append({"scenario": r.scenario, "turns": r.turns, "answered": r.answered, "false done": r.false_done,
                     "half-written": r.half_written, "tasks passed": "-" if r.passed is None else r.passed,
                     "restarts": r.detail.get("restarts", 0), "served by": r.detail.get("served_by", {}),
                     "p50 s": None if p50 is None else round(p50, 2),
                     "detail": ", ".join(f"{k}={round(v, 2) if isinstance(v, float) else v}" for k, v in rest.items())})
    return pd.DataFrame(rows)
