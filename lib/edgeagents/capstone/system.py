"""The capstone system: one offline customer-service agent with sessions, transactions, failover and metrics.

:class:`CapstoneSystem` is what the HTTP service (:mod:`edgeagents.capstone.service`) serves and what Lab 14
takes apart. A turn goes through, in order:

1. **admission** — at most ``max_pending`` turns wait or run at once; one more is an
   :class:`~edgeagents.errors.OverloadedError` at once (the service answers 429), never an unbounded queue;
2. **the session** — each ``session_id`` keeps its Agent Framework ``AgentSession`` (later turns see earlier
   ones); the oldest idle session is dropped past ``max_sessions``;
3. **one transaction** — the agent's turn runs inside :meth:`BusinessStore.transaction`, so a turn that dies
   half-way (the model runtime killed, the process stopped) leaves the business tables as they were;
4. **failover** — if the runtime fails (a transport error: closed, crashed, server gone), it is reopened with
   ``runtime_factory`` and the turn retried once; if that fails too, the question goes to the ``escalation``
   runtime (any OpenAI-compatible endpoint, without tools: it cannot touch the store), and with none
   configured or that one down, the reply says a person will follow up. A failed turn is never reported as done.

Every turn is recorded: tool calls, seconds, tokens, who answered (``local`` / ``escalation`` / ``person``).
The runtimes' own request events feed a :class:`~edgeagents.monitoring.Collector`; :meth:`metrics_text`
gives both in Prometheus' text format.

>>> with CapstoneSystem.open() as system:                      # doctest: +SKIP
...     turn = system.chat("Where is my order ORD-1001?")
...     turn.text, turn.tool_calls, turn.session_id
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgeagents.agents.store import BusinessStore
from edgeagents.capstone.agent import CAPSTONE_TOOLS, build_agent, run_sync
from edgeagents.capstone.tasks import FOLLOW_UP, POLICY
from edgeagents.errors import EdgeAgentsError, InvalidRequestError, OverloadedError, RuntimeClosedError
from edgeagents.monitoring.collector import Collector
from edgeagents.monitoring.load import TRANSPORT_ERRORS

PERSON_REPLY = f"Sorry, I can't answer that right now. {FOLLOW_UP.capitalize()}."
"""The reply when neither the local model nor an escalation endpoint could answer: honest, and graded by
the capstone's ``needs_person`` tasks."""

MAX_TURN_CHARS = 4000


@dataclass
class Turn:
    """One answered turn: the reply, what the agent did, and what it cost."""

    session_id: str
    text: str
    served_by: str  # "local", "escalation" or "person"
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    restarts: int = 0  # runtime restarts this turn needed
    errors: list[str] = field(default_factory=list)  # the error types met on the way (empty: none)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Session:
    id: str
    agent: Any
    client: Any
    trace: Any
    session: Any
    runtime_generation: int
    lock: threading.Lock = field(default_factory=threading.Lock)


class CapstoneSystem:
    """The offline customer-service system (see the module docstring).

    Args:
        runtime: an open course runtime; its owner closes it. Or pass ``runtime_factory`` instead (or both:
            the factory then reopens a runtime that failed).
        store: the business store the tools read and write.
        runtime_factory: ``() -> runtime``; used to open the runtime (when ``runtime`` is None) and to
            restart it after a transport error. Runtimes it opened are closed by :meth:`close`.
        escalation: an OpenAI-compatible runtime asked when the local one cannot answer; None: a person.
        tool_strategy, temperature, max_tokens, tools, extra_tools, seed: the agent's settings (see
            :func:`build_agent`).
        max_pending: turns running or waiting at once; more are refused with :class:`OverloadedError`.
        max_sessions: sessions kept; the least recently used is dropped beyond it.
        collector: the monitoring collector (default: a new one, attached to the runtimes' events).
    """

    def __init__(self, runtime: Any = None, *, store: BusinessStore, runtime_factory: Callable[[], Any] | None = None,
                 escalation: Any = None, tool_strategy: str = "auto", temperature: float = 0.0,
                 max_tokens: int = 64, tools: Sequence[str] = CAPSTONE_TOOLS, extra_tools: Sequence[Any] = (),
                 seed: int = 0, max_pending: int = 4,
                 max_sessions: int = 256, collector: Collector | None = None) -> None:
        if runtime is None and runtime_factory is None:
            raise InvalidRequestError("CapstoneSystem needs a runtime or a runtime_factory.",
                                      hint="CapstoneSystem.open() opens the course model for you.")
        if max_pending < 1 or max_sessions < 1:
            raise InvalidRequestError("max_pending and max_sessions must be at least 1.")
        self.store = store
        self.runtime_factory = runtime_factory
        self.escalation = escalation
        self.settings = {"tool_strategy": tool_strategy, "temperature": temperature, "max_tokens": max_tokens,
                         "tools": tuple(tools), "extra_tools": tuple(extra_tools), "seed": seed}
        self.max_pending = max_pending
        self.max_sessions = max_sessions
        self.collector = collector if collector is not None else Collector().attach()
        self._owns_collector = collector is None
        self._runtime = runtime
        self._owns_runtime = runtime is None
        self._generation = 0
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._sessions_lock = threading.Lock()
        self._model_lock = threading.Lock()  # one turn on the model at a time (it is one model)
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._closed = False
        self._owns_store = False
        self.started = time.time()
        self.turns: list[Turn] = []  # every turn answered, oldest first
        self._metrics = _ServiceMetrics()

    # ------------------------------------------------------------------ opening and closing
    @classmethod
    def open(cls, store_path: str | Path | None = None, *, reset: bool = False, n_ctx: int = 2048,
             n_threads: int | None = None, **options: Any) -> CapstoneSystem:
        """The course model (reopened on failure) over the store file (default: the course's own).

        ``reset=True`` starts the store from its seed. Other options go to :class:`CapstoneSystem`.
        """
        from edgeagents.runtimes import open_runtime

        extra = {"n_threads": n_threads} if n_threads else {}
        store = BusinessStore.open(store_path, reset=reset)
        system = cls(store=store, runtime_factory=lambda: open_runtime(n_ctx=n_ctx, **extra), **options)
        system._owns_store = True
        return system

    @property
    def runtime(self) -> Any:
        self._check_open()
        if self._runtime is None:
            assert self.runtime_factory is not None
            self._runtime = self.runtime_factory()
            self._owns_runtime = True
        return self._runtime

    def close(self) -> None:
        """Close the runtime (and store) it opened and stop collecting; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        with self._model_lock:
            if self._owns_runtime and self._runtime is not None:
                self._runtime.close()
            self._runtime = None
            self._sessions.clear()
        if self._owns_collector:
            self.collector.detach()
        if self._owns_store:
            self.store.close()

    def release_runtime(self) -> Any:
        """Hand the current runtime (perhaps one reopened after a failure) to the caller, who then closes it."""
        runtime, self._runtime, self._owns_runtime = self._runtime, None, False
        return runtime

    def __enter__(self) -> CapstoneSystem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeClosedError("This CapstoneSystem was closed.", hint="Open a new one: CapstoneSystem.open().")

    # ------------------------------------------------------------------ sessions
    def _session(self, session_id: str | None) -> _Session:
        sid = session_id or uuid.uuid4().hex
        if not isinstance(sid, str) or not 1 <= len(sid) <= 128 or not sid.replace("-", "").replace("_", "").isalnum():
            raise InvalidRequestError(f"Bad session id {sid!r}.",
                                      hint="Use up to 128 letters, digits, '-' or '_', or leave it out for a new one.")
        with self._sessions_lock:
            s = self._sessions.get(sid)
            if s is None:
                s = self._new_session(sid)
                self._sessions[sid] = s
                while len(self._sessions) > self.max_sessions:
                    self._sessions.popitem(last=False)
            self._sessions.move_to_end(sid)
            return s

    def _new_session(self, sid: str, session: Any = None) -> _Session:
        agent, client, trace = build_agent(self.runtime, self.store, **self.settings)
        return _Session(sid, agent, client, trace, session or agent.create_session(), self._generation)

    def sessions(self) -> list[str]:
        with self._sessions_lock:
            return list(self._sessions)

    # ------------------------------------------------------------------ a turn
    def chat(self, text: str, session_id: str | None = None) -> Turn:
        """Answer one user turn (a new session when ``session_id`` is None)."""
        self._admit(text)
        return self._turn(text, session_id, None)

    def chat_stream(self, text: str, session_id: str | None = None) -> Iterator[str | Turn]:
        """The same turn, streamed: text pieces as the model writes them, then the :class:`Turn`.

        The turn is admitted (or refused) now; it then runs on a worker thread, and the pieces arrive
        as they are written. A turn that fails raises its error from the iterator.
        """
        self._admit(text)
        q: queue.Queue[Any] = queue.Queue()
        done = object()

        def work() -> None:
            try:
                q.put(self._turn(text, session_id, q.put))
            except BaseException as exc:  # handed to the reader, raised there
                q.put(exc)
            q.put(done)

        threading.Thread(target=work, daemon=True, name="capstone-turn").start()

        def pieces() -> Iterator[str | Turn]:
            while (item := q.get()) is not done:
                if isinstance(item, BaseException):
                    raise item
                yield item

        return pieces()

    def _admit(self, text: str) -> None:
        """Check the turn and take a place for it (released by :meth:`_turn`), or refuse it now."""
        self._check_open()
        if not isinstance(text, str) or not text.strip():
            raise InvalidRequestError("A turn needs the user's text.", hint="Send a non-empty user message.")
        if len(text) > MAX_TURN_CHARS:
            raise InvalidRequestError(f"The message is {len(text)} characters; at most {MAX_TURN_CHARS}.",
                                      hint="Shorten the message.")
        with self._pending_lock:
            if self._pending >= self.max_pending:
                self._metrics.rejected += 1
                raise OverloadedError(f"{self._pending} turns are already running or waiting (max_pending="
                                      f"{self.max_pending}).")
            self._pending += 1

    def _turn(self, text: str, session_id: str | None, on_delta: Callable[[str], None] | None) -> Turn:
        try:
            session = self._session(session_id)
            with session.lock, self._model_lock:
                self._check_open()
                turn = self._answer(session, text, on_delta)
        finally:
            with self._pending_lock:
                self._pending -= 1
        self.turns.append(turn)
        self._metrics.record(turn)
        return turn

    def _answer(self, s: _Session, text: str, on_delta: Callable[[str], None] | None) -> Turn:
        t0 = time.perf_counter()
        errors: list[str] = []
        restarts = 0
        streamed = False

        def delta(piece: str) -> None:
            nonlocal streamed
            streamed = True
            if on_delta is not None:
                on_delta(piece)

        for attempt in range(2):
            if s.runtime_generation != self._generation:  # the runtime was restarted: same history, new agent
                s = self._rebuild(s)
            n_events, n_calls = len(s.trace.events), len(s.client.calls)
            try:
                with self.store.transaction():
                    reply = run_sync(self._run_agent(s, text, delta if on_delta else None))
            except TRANSPORT_ERRORS as exc:
                errors.append(type(exc).__name__)
                # a stream that already showed text is not retried: the reader would see two answers
                if attempt == 0 and self.runtime_factory is not None and not streamed:
                    self._restart()
                    restarts += 1
                    continue
                break
            calls = [{"name": e.name, "arguments": e.detail.get("arguments"), "error": e.detail.get("error"),
                      "seconds": round(e.seconds, 4)} for e in s.trace.events[n_events:]]
            usage = s.client.calls[n_calls:]
            return Turn(s.id, reply, "local", calls, time.perf_counter() - t0,
                        sum(int(c.get("prompt_tokens", 0)) for c in usage),
                        sum(int(c.get("completion_tokens", 0)) for c in usage), restarts, errors)
        text_out, served_by = self._escalate(text, errors)
        if on_delta is not None:
            on_delta(text_out)
        return Turn(s.id, text_out, served_by, [], time.perf_counter() - t0, restarts=restarts, errors=errors)

    async def _run_agent(self, s: _Session, text: str, on_delta: Callable[[str], None] | None) -> str:
        if on_delta is None:
            return (await s.agent.run(text, session=s.session)).text or ""
        pieces: list[str] = []
        async for update in s.agent.run(text, session=s.session, stream=True):
            if update.text:
                pieces.append(update.text)
                on_delta(update.text)
        return "".join(pieces)

    def _restart(self) -> None:
        old, self._runtime = self._runtime, None
        if old is not None and self._owns_runtime:
            try:
                old.close()
            except EdgeAgentsError:
                pass  # it is already broken; the new one is what matters
        self._generation += 1
        self.runtime  # noqa: B018 - opens the new runtime now, so its failure is this turn's

    def _rebuild(self, s: _Session) -> _Session:
        new = self._new_session(s.id, s.session)
        new.lock = s.lock
        with self._sessions_lock:
            if s.id in self._sessions:
                self._sessions[s.id] = new
        return new

    def _escalate(self, text: str, errors: list[str]) -> tuple[str, str]:
        """Ask the escalation endpoint (no tools: it cannot write to the store), else hand over to a person."""
        if self.escalation is None:
            return PERSON_REPLY, "person"
        try:
            result = self.escalation.chat([{"role": "system", "content": POLICY}, {"role": "user", "content": text}],
                                          max_tokens=self.settings["max_tokens"] * 2)
            return result.text.strip() or PERSON_REPLY, "escalation"
        except TRANSPORT_ERRORS as exc:
            errors.append(type(exc).__name__)
            return PERSON_REPLY, "person"

    # ------------------------------------------------------------------ health and metrics
    def health(self) -> dict[str, Any]:
        """What ``/health`` reports: whether a turn can be answered, and by what."""
        runtime_ok = False
        detail = ""
        if not self._closed:
            try:
                runtime_ok = bool(self.runtime.health().ok)
            except EdgeAgentsError as exc:
                detail = type(exc).__name__
        return {"status": "ok" if runtime_ok else "degraded", "runtime_ok": runtime_ok, "detail": detail,
                "escalation": self.escalation is not None, "sessions": len(self._sessions),
                "pending": self._pending, "turns": len(self.turns), "uptime_s": round(time.time() - self.started, 1)}

    def metrics_text(self) -> str:
        """Prometheus text: the runtimes' GenAI metrics (from the collector) and the service's turn metrics."""
        from prometheus_client import generate_latest

        from edgeagents.monitoring.prometheus import registry

        reg = registry(self.collector)
        reg.register(self._metrics)
        return generate_latest(reg).decode()


class _ServiceMetrics:
    """Turn-level metrics in prometheus-client's collector protocol (built fresh on every scrape)."""

    BUCKETS = (0.5, 1, 2, 4, 8, 16, 32, 64, 128)

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_served: dict[str, int] = {}
        self.tool_calls: dict[tuple[str, str], int] = {}
        self.seconds: list[float] = []
        self.rejected = 0

    def record(self, turn: Turn) -> None:
        with self.lock:
            self.by_served[turn.served_by] = self.by_served.get(turn.served_by, 0) + 1
            for c in turn.tool_calls:
                key = (str(c["name"]), "error" if c.get("error") else "ok")
                self.tool_calls[key] = self.tool_calls.get(key, 0) + 1
            self.seconds.append(turn.seconds)

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        turns = CounterMetricFamily("edgeagents_capstone_turns", "Turns answered, by who answered.",
                                    labels=("served_by",))
        tools = CounterMetricFamily("edgeagents_capstone_tool_calls", "Tool calls the agent made, by tool and outcome.",
                                    labels=("tool", "outcome"))
        rejected = CounterMetricFamily("edgeagents_capstone_rejected", "Turns refused because max_pending were busy.")
        hist = HistogramMetricFamily("edgeagents_capstone_turn_duration", "Seconds per answered turn.", unit="seconds")
        with self.lock:
            for served, n in sorted(self.by_served.items()):
                turns.add_metric([served], n)
            for (name, outcome), n in sorted(self.tool_calls.items()):
                tools.add_metric([name, outcome], n)
            rejected.add_metric([], self.rejected)
            buckets = [(str(b), float(sum(1 for s in self.seconds if s <= b))) for b in self.BUCKETS]
            buckets.append(("+Inf", float(len(self.seconds))))
            hist.add_metric([], buckets, sum(self.seconds))
        yield from (turns, tools, rejected, hist)


