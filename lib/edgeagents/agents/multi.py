"""Lab 12: a router and specialist agents on model tiers, wired as an Agent Framework workflow.

* :class:`ModelTier` / :class:`TierPool` — "simple", "moderate", "complex" (and an optional "cloud")
  tiers. Each names a model variant and generation settings; the pool opens one runtime per
  distinct model file, so on a machine with only the 270M course model the local tiers share it
  (they differ in reply budget and sampling, not in weights — say so when you show them).
* :class:`Tracer` — every hop (routing, model call, tool call) with agent, model, tokens and time;
  :func:`timeline_figure` draws it with plotly.
* :func:`build_specialists` — scheduling, technical support and customer service agents, each a
  framework ``Agent`` with a narrow tool allowlist on its own tier.
* :func:`build_routed_workflow` — a ``WorkflowBuilder`` graph: an intent router executor, then a
  switch-case edge to the specialist executor for that intent.
"""

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from edgeagents.agents.framework import (
    HAVE_AGENT_FRAMEWORK,
    EdgeChatClient,
    InputGuard,
    ToolTrace,
    TraceEvent,
    framework_tools,
    require_agent_framework,
)
from edgeagents.agents.tools import BusinessTools
from edgeagents.errors import InvalidRequestError

if HAVE_AGENT_FRAMEWORK:
    from agent_framework import Agent, Case, Default, Executor, WorkflowBuilder, WorkflowContext, handler
    from typing_extensions import Never
else:  # pragma: no cover
    Never = Any  # type: ignore[assignment,misc]
    Executor = object  # type: ignore[assignment,misc]

    def handler(fn):  # type: ignore[no-redef]  # noqa: ANN001, ANN201
        return fn

    WorkflowContext = Any  # type: ignore[assignment,misc]

Intent = Literal["scheduling", "technical", "customer_service"]
INTENTS: tuple[str, ...] = ("scheduling", "technical", "customer_service")
TierName = Literal["simple", "moderate", "complex", "cloud"]


# ---------------------------------------------------------------------- tiers
@dataclass(frozen=True)
class ModelTier:
    """One rung of the ladder: which model, how much it may write, how it samples."""

    name: str
    variant: str  # "base" | "course" | "cloud"
    max_tokens: int
    temperature: float = 0.0
    where: str = "device"  # device | edge server | cloud
    note: str = ""


DEFAULT_TIERS: dict[str, ModelTier] = {
    "simple": ModelTier("simple", "base", 32, 0.0, "device", "short replies, greedy"),
    "moderate": ModelTier("moderate", "base", 64, 0.0, "edge server", "longer replies"),
    "complex": ModelTier("complex", "course", 96, 0.2, "edge server", "the course variant, more room, mild sampling"),
}


def cloud_tier() -> ModelTier | None:
    """The top tier if an OpenAI-compatible endpoint is configured (``OPENAI_BASE_URL``), else ``None``."""
    if not os.environ.get("OPENAI_BASE_URL"):
        return None
    return ModelTier("cloud", "cloud", 256, 0.0, "cloud", os.environ["OPENAI_BASE_URL"])


class TierPool:
    """Opens runtimes for tiers lazily and shares one runtime between tiers on the same model file."""

    def __init__(self, tiers: dict[str, ModelTier] | None = None, *, n_ctx: int = 2048) -> None:
        self.tiers = dict(tiers or DEFAULT_TIERS)
        top = cloud_tier()
        if top is not None:
            self.tiers.setdefault("cloud", top)
        self.n_ctx = n_ctx
        self._runtimes: dict[str, Any] = {}
        self._provided: dict[str, Any] = {}

    def provide(self, tier: str, runtime: Any) -> None:
        """Serve tier ``tier`` with a runtime you opened yourself (any course runtime)."""
        if tier not in self.tiers:
            raise InvalidRequestError(f"No tier named {tier!r}.", hint=f"Tiers: {', '.join(self.tiers)}.")
        self._provided[tier] = runtime

    def _key(self, tier: ModelTier) -> str:
        if tier.variant == "cloud":
            return "cloud"
        from edgeagents.models import course_model

        spec = course_model(tier.variant)  # type: ignore[arg-type]
        return f"{spec.path}|{spec.adapter_path}"

    def runtime(self, name: str) -> Any:
        """The runtime serving tier ``name`` (opened on first use)."""
        if name not in self.tiers:
            raise InvalidRequestError(f"No tier named {name!r}.", hint=f"Tiers: {', '.join(self.tiers)}.")
        if name in self._provided:
            return self._provided[name]
        tier = self.tiers[name]
        key = self._key(tier)
        if key not in self._runtimes:
            if tier.variant == "cloud":
                from edgeagents.runtimes import OpenAICompatRuntime

                self._runtimes[key] = OpenAICompatRuntime(os.environ["OPENAI_BASE_URL"],
                                                          os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
            else:
                from edgeagents.models import course_model
                from edgeagents.runtimes import LlamaCppRuntime

                self._runtimes[key] = LlamaCppRuntime(course_model(tier.variant), n_ctx=self.n_ctx)  # type: ignore[arg-type]
        return self._runtimes[key]

    def distinct_runtimes(self) -> int:
        """How many runtimes (model copies in memory) the tiers opened so far."""
        return len({id(r) for r in [*self._runtimes.values(), *self._provided.values()]})

    def table(self) -> list[dict[str, Any]]:
        """One row per tier: where it runs, model, reply budget, sampling, shared file."""
        rows = []
        for t in self.tiers.values():
            rows.append({"tier": t.name, "runs on": t.where, "variant": t.variant, "max_tokens": t.max_tokens,
                         "temperature": t.temperature, "model file": self._key(t).split("|")[0].rsplit("/", 1)[-1],
                         "note": t.note})
        return rows

    def close(self) -> None:
        for rt in self._runtimes.values():
            rt.close()
        self._runtimes.clear()


# ---------------------------------------------------------------------- tracing
class Tracer:
    """Collects :class:`TraceEvent` hops from routers, chat clients and tool middleware."""

    def __init__(self) -> None:
        self.events: list[TraceEvent] = []
        self.t0 = time.perf_counter()

    def add(self, agent: str, kind: str, name: str, start: float, end: float, **detail: Any) -> None:
        self.events.append(TraceEvent(agent, kind, name, start, end, detail))

    def absorb_client(self, agent: str, client: EdgeChatClient, since: int = 0) -> None:
        """Copy the model calls a client made (from index ``since``) into the trace."""
        for c in client.calls[since:]:
            if c.get("route_s"):
                self.add(agent, "route", f"pick tool → {c['routed_to']}", c["start"] - c["route_s"], c["start"],
                         model=c["model"])
            self.add(agent, "model", c["tool_choice"], c["start"], c["end"], model=c["model"],
                     prompt_tokens=c["prompt_tokens"], completion_tokens=c["completion_tokens"])

    def frame(self):  # noqa: ANN201
        import pandas as pd

        rows = [{"agent": e.agent, "kind": e.kind, "name": e.name, "start_s": round(e.start - self.t0, 3),
                 "seconds": round(e.seconds, 3), "model": e.detail.get("model", ""),
                 "tokens": (e.detail.get("prompt_tokens", 0) or 0) + (e.detail.get("completion_tokens", 0) or 0)}
                for e in sorted(self.events, key=lambda e: e.start)]
        return pd.DataFrame(rows, columns=["agent", "kind", "name", "start_s", "seconds", "model", "tokens"])


def timeline_figure(tracer: Tracer, title: str = "Every hop of the request"):  # noqa: ANN201
    """A plotly Gantt-style chart: one bar per hop, one row per agent, coloured by kind."""
    import plotly.graph_objects as go

    df = tracer.frame()
    colours = {"route": "#636EFA", "model": "#EF553B", "tool": "#00CC96", "intent": "#AB63FA", "tier": "#FFA15A"}
    fig = go.Figure()
    for kind, part in df.groupby("kind"):
        fig.add_bar(y=part["agent"], x=part["seconds"], base=part["start_s"], orientation="h", name=kind,
                    marker_color=colours.get(str(kind)), text=part["name"], textposition="inside",
                    hovertemplate="%{y} · %{text}<br>start %{base:.2f}s · %{x:.2f}s<extra></extra>")
    fig.update_layout(barmode="overlay", title=title, xaxis_title="seconds since start", height=320)
    return fig


# ---------------------------------------------------------------------- routing by intent and complexity
INTENT_EXAMPLES = [
    ("Can you book a call with me next Tuesday?", "scheduling"),
    ("What time is it in London?", "scheduling"),
    ("My camera shows offline, how do I fix it?", "technical"),
    ("Check if this device is low on memory.", "technical"),
    ("Where is my order ORD-1003?", "customer_service"),
    ("I'm furious, get me a manager.", "customer_service"),
]
TIER_EXAMPLES = [
    ("What time is it?", "simple"),
    ("Where is order ORD-1001?", "simple"),
    ("My router drops wifi every evening, what should I try?", "moderate"),
    ("Book a callback for C002 on 2026-12-01 about a refund.", "moderate"),
    ("Two orders are late, one item arrived broken and I was charged twice; sort it all out.", "complex"),
]


def _few_shot(examples: Sequence[tuple[str, str]], label: str, request: str) -> str:
    shots = "\n".join(f"Request: {q}\n{label}: {a}" for q, a in examples)
    return f"{shots}\nRequest: {request.strip()}\n{label}:"


@dataclass
class RoutedRequest:
    text: str
    intent: str
    tier: str
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class SpecialistReply:
    agent: str
    tier: str
    text: str
    seconds: float


class IntentRouter:
    """Scores intent labels (and a complexity tier) with a runtime; records both hops."""

    def __init__(self, runtime: Any, tracer: Tracer | None = None, *, classify_tier: bool = True,
                 calibrate: bool = True) -> None:
        self.runtime = runtime
        self.tracer = tracer
        self.classify_tier = classify_tier
        self.calibrate = calibrate
        self._baselines: dict[str, list[float]] = {}

    def _pick(self, examples: Sequence[tuple[str, str]], label: str, options: Sequence[str], text: str
              ) -> tuple[str, dict[str, float]]:
        conts = [f" {o}" for o in options]
        scores = list(self.runtime.score(_few_shot(examples, label, text), conts))
        if self.calibrate:  # subtract the label's score after a content-free request (see ScoredToolRouter)
            if label not in self._baselines:
                self._baselines[label] = list(self.runtime.score(_few_shot(examples, label, "N/A"), conts))
            scores = [s - b for s, b in zip(scores, self._baselines[label])]
        table = dict(zip(options, (float(s) for s in scores)))
        return max(table, key=table.__getitem__), table

    def route(self, text: str) -> RoutedRequest:
        t0 = time.perf_counter()
        intent, scores = self._pick(INTENT_EXAMPLES, "Intent", INTENTS, text)
        t1 = time.perf_counter()
        tier = "moderate"
        if self.classify_tier:
            tier, tscores = self._pick(TIER_EXAMPLES, "Complexity", ("simple", "moderate", "complex"), text)
            scores.update({f"tier:{k}": v for k, v in tscores.items()})
        t2 = time.perf_counter()
        if self.tracer is not None:
            model = str(getattr(getattr(self.runtime, "spec", None), "label", ""))
            self.tracer.add("router", "intent", f"intent → {intent}", t0, t1, model=model)
            if self.classify_tier:
                self.tracer.add("router", "tier", f"tier → {tier}", t1, t2, model=model)
        return RoutedRequest(text, intent, tier, scores)


# ---------------------------------------------------------------------- specialists
SPECIALISTS: dict[str, dict[str, Any]] = {
    "scheduling": {"tools": ["get_current_time", "schedule_callback"], "tier": "simple",
                   "instructions": "You book callbacks and tell the time for an electronics shop."},
    "technical": {"tools": ["search_knowledge_base", "run_system_diagnostics", "create_support_ticket"],
                  "tier": "moderate", "instructions": "You are the technical support agent of an electronics shop."},
    "customer_service": {"tools": ["lookup_order", "lookup_customer", "escalate_to_human"], "tier": "moderate",
                         "instructions": "You are the customer service agent of an electronics shop."},
}


@dataclass
class Specialist:
    """One specialist: its default tier's agent and client, plus agents on other tiers made on demand."""

    name: str
    tier: str
    agent: Any
    client: EdgeChatClient
    tools: BusinessTools
    make: Any = None  # tier name -> (agent, client)
    tiers: tuple[str, ...] = ()  # the tiers it may run on
    by_tier: dict[str, tuple[Any, EdgeChatClient]] = field(default_factory=dict)

    def on(self, tier: str | None) -> tuple[Any, EdgeChatClient]:
        """The (agent, client) pair for ``tier`` (the default tier when ``None``)."""
        if tier is None or tier == self.tier or self.make is None:
            return self.agent, self.client
        if tier not in self.by_tier:
            self.by_tier[tier] = self.make(tier)
        return self.by_tier[tier]


def build_specialists(pool: TierPool, tools: BusinessTools, tracer: Tracer, *, echo: bool = True,
                      tier_override: dict[str, str] | None = None) -> dict[str, Specialist]:
    """One framework ``Agent`` per intent, with its own allowlist, tier, tool trace and input guard."""
    require_agent_framework()
    out: dict[str, Specialist] = {}
    for name, cfg in SPECIALISTS.items():
        gated = tools.with_allowlist(cfg["tools"], actor=name)

        def make(tier_name: str, name: str = name, cfg: dict = cfg, gated: BusinessTools = gated
                 ) -> tuple[Any, EdgeChatClient]:
            tier = pool.tiers[tier_name]
            client = EdgeChatClient(pool.runtime(tier_name), max_tokens=tier.max_tokens,
                                    temperature=tier.temperature, model_label=f"{tier.name}:{tier.variant}",
                                    middleware=[ToolTrace(name, echo=echo, events=tracer.events)])
            agent = Agent(client=client, name=name, instructions=cfg["instructions"], tools=framework_tools(gated),
                          middleware=[InputGuard(gated, actor=name)])
            return agent, client

        tier_name = (tier_override or {}).get(name, cfg["tier"])
        agent, client = make(tier_name)
        out[name] = Specialist(name, tier_name, agent, client, gated, make, tuple(pool.tiers))
    return out


async def run_specialist(spec: Specialist, text: str, tracer: Tracer, tier: str | None = None) -> SpecialistReply:
    """Run one specialist agent (on ``tier``, default its own) and copy its model calls into the trace."""
    agent, client = spec.on(tier)
    since = len(client.calls)
    t0 = time.perf_counter()
    response = await agent.run(text)
    tracer.absorb_client(spec.name, client, since)
    return SpecialistReply(spec.name, tier or spec.tier, response.text, time.perf_counter() - t0)


# ---------------------------------------------------------------------- the workflow graph
class RouterExecutor(Executor):  # type: ignore[misc]
    """Workflow node: classify the request, pass a :class:`RoutedRequest` on."""

    def __init__(self, router: IntentRouter) -> None:
        super().__init__(id="router")
        self.router = router

    @handler
    async def classify(self, text: str, ctx: "WorkflowContext[RoutedRequest]") -> None:
        await ctx.send_message(self.router.route(text))


class SpecialistExecutor(Executor):  # type: ignore[misc]
    """Workflow node: run one specialist agent on a routed request, yield its reply."""

    def __init__(self, spec: Specialist, tracer: Tracer, *, follow_complexity: bool = True) -> None:
        super().__init__(id=spec.name)
        self.spec = spec
        self.tracer = tracer
        self.follow_complexity = follow_complexity

    @handler
    async def answer(self, req: RoutedRequest, ctx: "WorkflowContext[Never, SpecialistReply]") -> None:
        tier = None
        if self.follow_complexity:
            tier = "cloud" if req.tier == "complex" and "cloud" in self.spec.tiers else req.tier
            tier = tier if tier in self.spec.tiers else None
        await ctx.yield_output(await run_specialist(self.spec, req.text, self.tracer, tier))



def build_routed_workflow(router: IntentRouter, specialists: dict[str, Specialist], tracer: Tracer, *,
                          follow_complexity: bool = True) -> Any:
    """``router → switch(intent) → specialist`` as a framework ``Workflow``.

    With ``follow_complexity`` the specialist runs on the tier the router's complexity label names
    ("complex" goes to the cloud tier when one is configured); otherwise on its own default tier.
    """
    require_agent_framework()
    start = RouterExecutor(router)
    nodes = {name: SpecialistExecutor(spec, tracer, follow_complexity=follow_complexity)
             for name, spec in specialists.items()}
    cases = [Case(condition=(lambda r, n=name: r.intent == n), target=node)
             for name, node in nodes.items() if name != "customer_service"]
    return (WorkflowBuilder(start_executor=start)
            .add_switch_case_edge_group(start, [*cases, Default(target=nodes["customer_service"])])
            .build())


__all__ = [
    "ModelTier", "TierPool", "DEFAULT_TIERS", "cloud_tier", "Tracer", "timeline_figure", "IntentRouter",
    "RoutedRequest", "SpecialistReply", "Specialist", "SPECIALISTS", "build_specialists", "run_specialist",
    "build_routed_workflow", "INTENTS",
]
