"""The guide's Foundry Local production patterns, rebuilt on the real SDK and measured.

- :class:`AgentService`: one agent on one model, with tools, a fallback reply, an interaction log
  and a health check (the guide's ``ProductionAgentService``).
- :class:`Monitor`: metrics per model (requests, errors, latency, tokens/s, memory) and an overall
  health status (the guide's ``FoundryMonitoringService``), from what the runtimes really measure.
- :class:`ModelPool`: several registered models loaded and unloaded under a memory budget and a
  model count, least recently used first, plus idle unloading (the guide's ``FoundryResourceManager``).

The guide's ``manager.health_check()``, ``get_memory_usage()``, ``get_inference_count()``,
``get_average_latency()``, ``get_error_rate()``, ``get_idle_time()`` do not exist in the SDK: here
they are computed from the requests themselves and from the process's memory (the model runs
inside this process, so its memory *is* the process's).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from edgeagents.errors import EdgeAgentsError, InvalidRequestError, ModelNotFoundError
from edgeagents.events import RequestEvent, next_request_id
from edgeagents.measure import rss_mb
from edgeagents.monitoring import Collector
from edgeagents.runtimes.base import Message, Result
from edgeagents.runtimes.tools import function_tool, run_tool_call

FALLBACK_REPLY = "I'm having technical difficulties right now. Please try again in a moment."


@dataclass
class Interaction:
    request: str
    reply: str
    status: str  # "success" or "error"
    seconds: float
    tool_calls: list[str] = field(default_factory=list)
    error: str = ""
    completion_tokens: int = 0


class Monitor:
    """Counts every request it sees, per model; reports metrics and an overall health status.

    The counting is :class:`edgeagents.monitoring.Collector`'s, keyed by the watched name: this class only keeps
    the guide's field names (``avg_latency_s``, ``decode_tok_s``...) and its snapshot shape.
    """

    def __init__(self) -> None:
        self.collector = Collector(window_s=86_400)
        self.runtimes: dict[str, Any] = {}
        self.last_used: dict[str, float] = {}
        self.history: list[dict[str, Any]] = []

    def watch(self, name: str, runtime: Any) -> None:
        self.runtimes[name] = runtime

    def record(self, name: str, result: Result | None, seconds: float, *, error: bool | str = False) -> None:
        """One request of ``seconds``; ``error`` is True or the error's type name."""
        self.last_used[name] = time.time()
        tokens = result.usage.completion_tokens if result is not None else 0
        # the request may span a tool round: its decode time is the last answer's, the rest counts as waiting
        ttft = max(0.0, seconds - result.timings.decode_s) if result is not None and tokens else None
        self.collector.observe(RequestEvent(
            next_request_id(), "end", name, "", "chat", duration_s=seconds, ttft_s=ttft,
            prompt_tokens=result.usage.prompt_tokens if result is not None else 0, completion_tokens=tokens,
            error_type=(error if isinstance(error, str) else "EdgeAgentsError") if error else None))

    def figures(self, name: str) -> dict[str, Any]:
        """The guide's per-model fields, read from the collector."""
        s = next(iter(self.collector.stats(runtime=name)), None)
        last = self.last_used.get(name)
        return {
            "requests": s.requests if s else 0,
            "errors": s.errors if s else 0,
            "error_rate": round(s.errors / s.requests, 3) if s and s.requests else 0.0,
            "avg_latency_s": round(s.latency_mean_s, 3) if s and s.latency_mean_s is not None else None,
            "decode_tok_s": round(1 / s.tpot_p50_s, 1) if s and s.tpot_p50_s else None,
            "idle_s": round(time.time() - last, 1) if last else None,
        }

    def timed_chat(self, name: str, messages: Sequence[Message], **options: Any) -> Result:
        """Run one chat on a watched runtime and record it (errors are recorded, then re-raised)."""
        runtime = self.runtimes[name]
        start = time.perf_counter()
        try:
            result = runtime.chat(messages, **options)
        except EdgeAgentsError as exc:
            self.record(name, None, time.perf_counter() - start, error=type(exc).__name__)
            raise
        self.record(name, result, time.perf_counter() - start)
        return result

    def collect_metrics(self) -> dict[str, Any]:
        """One snapshot: per model status and counters, plus this process's memory."""
        snapshot: dict[str, Any] = {"timestamp": time.time(), "process_rss_mb": round(rss_mb(), 1), "models": {}}
        for name, runtime in self.runtimes.items():
            health = runtime.health()
            snapshot["models"][name] = {
                "status": "healthy" if health.ok else "unhealthy",
                "loaded": getattr(runtime, "is_loaded", None),
                "detail": health.detail,
                **self.figures(name),
            }
        self.history.append(snapshot)
        return snapshot

    def health_status(self) -> dict[str, Any]:
        total = len(self.runtimes)
        healthy = sum(1 for rt in self.runtimes.values() if rt.health().ok)
        return {
            "overall_status": "healthy" if healthy == total else "degraded",
            "healthy_models": healthy,
            "total_models": total,
            "health_percentage": 100.0 * healthy / total if total else 0.0,
        }


class AgentService:
    """One agent on one runtime: tools, one tool round, a safe fallback, a log and a health check.

    Args:
        runtime: any runtime (here :class:`~edgeagents.runtimes.foundry.runtime.FoundryLocalRuntime`).
        tools: Python functions with type hints and a docstring (see ``function_tool``).
        system: the agent's instructions.
        max_tokens, temperature: generation settings for every request.
    """

    def __init__(
        self,
        runtime: Any,
        tools: Sequence[Callable[..., Any]] = (),
        *,
        system: str = "You are a concise customer-service assistant.",
        max_tokens: int = 96,
        temperature: float = 0.0,
        name: str = "agent",
        monitor: Monitor | None = None,
    ) -> None:
        self.runtime = runtime
        self.functions: dict[str, Callable[..., Any]] = {fn.__name__: fn for fn in tools}
        self.specs = [function_tool(fn) for fn in tools]
        self.system = system
        self.options = {"max_tokens": max_tokens, "temperature": temperature}
        self.name = name
        self.log: list[Interaction] = []
        self.monitor = monitor or Monitor()
        self.monitor.watch(name, runtime)

    def process_request(self, user_input: str, *, tool_choice: Any = "auto") -> str:
        """Answer one request; a tool call is run and its result sent back for the final answer.

        Any typed error (bad request, broken tool call, closed runtime) gives the fallback reply and
        an ``error`` record, never an exception: a service must keep answering.
        """
        start = time.perf_counter()
        messages: list[Message] = [{"role": "system", "content": self.system}, {"role": "user", "content": user_input}]
        called: list[str] = []
        last: Result | None = None
        try:
            tools = self.specs or None
            last = self.runtime.chat(messages, tools=tools, tool_choice=tool_choice if tools else "auto", **self.options)
            if last.tool_calls:
                messages.append(last.message)
                for call in last.tool_calls:
                    called.append(call.name)
                    output = run_tool_call(call, self.functions)
                    messages.append({"role": "tool", "tool_call_id": call.id, "name": call.name, "content": output})
                last = self.runtime.chat(messages, **self.options)
            reply, status, error = last.text.strip(), "success", ""
        except EdgeAgentsError as exc:
            reply, status, error = FALLBACK_REPLY, "error", f"{type(exc).__name__}: {exc.message}"
        seconds = time.perf_counter() - start
        self.monitor.record(self.name, last if status == "success" else None, seconds, error=status == "error")
        self.log.append(
            Interaction(user_input, reply, status, seconds, called, error, last.usage.completion_tokens if last else 0)
        )
        return reply

    def health_check(self) -> dict[str, Any]:
        health = self.runtime.health()
        info = self.runtime.info()
        return {
            "status": "healthy" if health.ok else "unhealthy",
            "model_loaded": bool(getattr(self.runtime, "is_loaded", health.ok)),
            "model": info.model,
            "runtime": info.runtime,
            "endpoint": "in-process (no HTTP endpoint)",
            "process_rss_mb": round(rss_mb(), 1),
            "requests": len(self.log),
            "errors": sum(1 for i in self.log if i.status == "error"),
        }


@dataclass
class PoolEntry:
    name: str
    runtime: Any
    estimate_mb: float
    last_used: float = 0.0
    loads: int = 0
    unloads: int = 0
    load_seconds: list[float] = field(default_factory=list)
    measured_mb: list[float] = field(default_factory=list)


class ModelPool:
    """Keep several Foundry Local models within a memory budget and a model count.

    ``get(name)`` returns a loaded runtime, first unloading the least recently used models until
    the new one fits. ``unload_idle(seconds)`` unloads what has not been used for that long.
    Memory per model is *measured* (the process's RSS grows by it on load); before a model's
    first load the pool uses ``estimate_mb``.
    """

    def __init__(self, max_memory_mb: float, max_models: int = 3, clock: Callable[[], float] = time.time) -> None:
        if max_memory_mb <= 0 or max_models < 1:
            raise InvalidRequestError("max_memory_mb must be > 0 and max_models >= 1.")
        self.max_memory_mb = float(max_memory_mb)
        self.max_models = int(max_models)
        self.entries: dict[str, PoolEntry] = {}
        self.events: list[dict[str, Any]] = []
        self._clock = clock
        self._t0 = clock()

    def add(self, name: str, runtime: Any, estimate_mb: float = 900.0) -> None:
        """Put a (registered, possibly unloaded) runtime in the pool."""
        self.entries[name] = PoolEntry(name, runtime, float(estimate_mb))

    def _cost(self, entry: PoolEntry) -> float:
        """The largest of the estimate and every measured load. A reload after an unload often *looks*
        cheaper (the allocator reuses the freed pages), so the pool never lowers its figure."""
        return max([entry.estimate_mb, *entry.measured_mb])

    def loaded(self) -> list[str]:
        return [n for n, e in self.entries.items() if e.runtime.is_loaded]

    def used_mb(self) -> float:
        return sum(self._cost(self.entries[n]) for n in self.loaded())

    def _log(self, event: str, name: str, **extra: Any) -> None:
        self.events.append({"t_s": round(self._clock() - self._t0, 2), "event": event, "model": name,
                            "loaded": self.loaded(), "rss_mb": round(rss_mb(), 1), **extra})

    def unload(self, name: str, reason: str = "asked") -> None:
        entry = self.entries[name]
        if entry.runtime.is_loaded:
            entry.runtime.unload()
            entry.unloads += 1
            self._log("unload", name, reason=reason)

    def get(self, name: str) -> Any:
        """The runtime for ``name``, loaded, after evicting least recently used models if needed."""
        if name not in self.entries:
            raise ModelNotFoundError(f"No model {name!r} in the pool.", hint=f"Known: {', '.join(self.entries)}.")
        entry = self.entries[name]
        if not entry.runtime.is_loaded:
            need = self._cost(entry)
            if need > self.max_memory_mb:
                raise InvalidRequestError(
                    f"{name} needs about {need:.0f} MB, more than the whole budget ({self.max_memory_mb:.0f} MB).",
                    hint="Raise max_memory_mb or use a smaller model.",
                )
            while self.loaded() and (
                len(self.loaded()) >= self.max_models or self.used_mb() + need > self.max_memory_mb
            ):
                victim = min(self.loaded(), key=lambda n: self.entries[n].last_used)
                self.unload(victim, reason="budget")
            seconds = entry.runtime.load()
            entry.loads += 1
            entry.load_seconds.append(seconds)
            measured = getattr(entry.runtime, "load_rss_mb", None)
            if measured and measured > 0:
                entry.measured_mb.append(float(measured))
            self._log("load", name, seconds=round(seconds, 2))
        entry.last_used = self._clock()
        return entry.runtime

    def unload_idle(self, idle_s: float) -> list[str]:
        """Unload every model unused for ``idle_s`` seconds; returns their names."""
        now = self._clock()
        idle = [n for n in self.loaded() if now - self.entries[n].last_used >= idle_s]
        for n in idle:
            self.unload(n, reason=f"idle >= {idle_s:g}s")
        return idle

    def status(self) -> list[dict[str, Any]]:
        now = self._clock()
        return [
            {
                "model": e.name,
                "loaded": e.runtime.is_loaded,
                "memory_mb": round(self._cost(e), 1),
                "measured_mb": [round(m) for m in e.measured_mb],
                "loads": e.loads,
                "unloads": e.unloads,
                "idle_s": round(now - e.last_used, 1) if e.last_used else None,
            }
            for e in self.entries.values()
        ]

    def close(self) -> None:
        for e in self.entries.values():
            e.runtime.close()


def route_by_keywords(text: str, routes: Mapping[str, Sequence[str]], default: str) -> str:
    """Pick the route whose keywords appear most often in ``text`` (ties and none: ``default``)."""
    low = text.lower()
    scores = {name: sum(low.count(k.lower()) for k in words) for name, words in routes.items()}
    best = max(scores.values(), default=0)
    winners = [n for n, s in scores.items() if s == best and s > 0]
    return winners[0] if len(winners) == 1 else default


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)
