"""The real capstone agent as an ``agent_fn``: Microsoft Agent Framework on the course model, tools bound per trial.

Each call builds the lab 11 agent afresh over the trial's store: :class:`~edgeagents.agents.framework.EdgeChatClient`
over the runtime, the gated :class:`~edgeagents.agents.tools.BusinessTools` as framework tools, the
:class:`~edgeagents.agents.framework.InputGuard`, and :data:`~edgeagents.capstone.tasks.POLICY` as instructions.
The runtime is opened once and shared by all trials (loading the model is the slow part).

>>> from edgeagents.capstone import TASKS, evaluate
>>> from edgeagents.capstone.agent import course_agent
>>> with course_agent() as agent_fn:                   # doctest: +SKIP
...     report = evaluate(agent_fn, TASKS[:2], k=1)

Needs the ``agents`` extra (``pip install -e '.[agents]'``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Sequence
from typing import Any

from edgeagents.agents.framework import (
    EdgeChatClient,
    InputGuard,
    ToolStrategy,
    ToolTrace,
    framework_tools,
    require_agent_framework,
)
from edgeagents.agents.store import BusinessStore
from edgeagents.agents.tools import BusinessTools
from edgeagents.capstone.evaluate import AgentReply
from edgeagents.capstone.tasks import CAPSTONE_NOW, POLICY

CAPSTONE_TOOLS = ("lookup_order", "lookup_customer", "create_support_ticket", "schedule_callback",
                  "search_knowledge_base", "get_current_time")
"""The customer-facing tools. Not offered: ``run_system_diagnostics`` (an operator's tool) and
``escalate_to_human`` (with no helpdesk it writes an urgent ticket, and ``needs_person`` tasks must leave
the store unchanged: the agent *says* a person will follow up)."""


def build_agent(runtime: Any, store: BusinessStore, *, seed: int = 0, tool_strategy: ToolStrategy = "auto",
                temperature: float = 0.0, max_tokens: int = 64, tools: Sequence[str] = CAPSTONE_TOOLS,
                extra_tools: Sequence[Any] = (), actor: str = "capstone") -> tuple[Any, EdgeChatClient, ToolTrace]:
    """The capstone's Agent Framework agent over ``store``: ``(agent, chat client, tool trace)``.

    The agent is lab 11's: :class:`EdgeChatClient` over the runtime, the gated, audited business tools
    (allowlist ``tools``) as framework tools, the :class:`InputGuard` in front, and :data:`POLICY` as its
    instructions. ``extra_tools`` are tools of your own: Agent Framework tools or plain typed functions with a
    docstring (wrapped with ``agent_framework.tool``); they are traced like the others, but the business
    gate (allowlist, approval, audit log) covers only the course's tools. The client's ``calls`` and the
    trace's ``events`` grow with every turn.
    """
    from agent_framework import Agent, FunctionTool, tool

    # the fixed clock keeps the tasks' callback dates inside the tool's 60-day window on any run date
    gated = BusinessTools(store, allowlist=tuple(tools), actor=actor, clock=lambda: CAPSTONE_NOW)
    trace = ToolTrace(actor, echo=False)
    client = EdgeChatClient(runtime, tool_strategy=tool_strategy, max_tokens=max_tokens, temperature=temperature,
                            middleware=[trace])
    own = [t if isinstance(t, FunctionTool) else tool(t) for t in extra_tools]
    agent = Agent(client=client, name=actor, instructions=POLICY, tools=[*framework_tools(gated), *own],
                  middleware=[InputGuard(gated, actor)], default_options={"seed": seed, "temperature": temperature})
    return agent, client, trace


class CourseAgent:
    """``agent_fn(store, turns, seed) -> AgentReply`` running the Agent Framework agent on a course runtime.

    Args:
        runtime: an open course runtime; ``None`` opens the course model (``edgeagents.open_runtime``) on
            first use, and :meth:`close` closes it.
        tool_strategy: ``"auto"`` (the course model decides whether to call a tool; its adapter was trained
            to) or ``"route"`` (lab 11's scored router forces one tool every turn: a base model's crutch,
            which cannot ask for a missing id or hand over to a person). Measure both on the task set with
            ``benchmarks/bench_capstone.py --strategy``.
        temperature: sampling temperature, above 0 so the k trials of a task differ (each trial also gets
            its own seed). With ``"route"``, EdgeChatClient writes the answer from a tool result greedily,
            so there the trials differ in the tool calls' arguments; with ``"auto"`` in every call.
        max_tokens: reply budget per model call.
        n_ctx, n_threads: used only when the runtime is opened here.
        tools: the allowlist (default :data:`CAPSTONE_TOOLS`).
    """

    def __init__(self, runtime: Any = None, *, tool_strategy: ToolStrategy = "auto", temperature: float = 0.7,
                 max_tokens: int = 64, n_ctx: int = 2048, n_threads: int | None = None,
                 tools: Sequence[str] = CAPSTONE_TOOLS) -> None:
        require_agent_framework()
        self._runtime = runtime
        self._owns_runtime = runtime is None
        self.tool_strategy = tool_strategy
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.tools = tuple(tools)

    @property
    def runtime(self) -> Any:
        if self._runtime is None:
            from edgeagents.runtimes import open_runtime

            extra = {"n_threads": self.n_threads} if self.n_threads else {}
            self._runtime = open_runtime(n_ctx=self.n_ctx, **extra)
        return self._runtime

    def _build(self, store: BusinessStore, seed: int) -> tuple[Any, EdgeChatClient, ToolTrace]:
        return build_agent(self.runtime, store, seed=seed, tool_strategy=self.tool_strategy,
                           temperature=self.temperature, max_tokens=self.max_tokens, tools=self.tools)

    async def _run(self, agent: Any, turns: Sequence[str]) -> str:
        session = agent.create_session()  # one conversation: later turns see the earlier ones
        text = ""
        for turn in turns:
            text = (await agent.run(turn, session=session)).text or ""
        return text

    def __call__(self, store: BusinessStore, turns: list[str], seed: int) -> AgentReply:
        agent, client, trace = self._build(store, seed)
        t0 = time.perf_counter()
        text = run_sync(self._run(agent, turns))
        seconds = time.perf_counter() - t0
        tokens = sum(int(c["prompt_tokens"]) + int(c["completion_tokens"]) for c in client.calls)
        calls = [{"name": e.name, "arguments": e.detail.get("arguments"), "error": e.detail.get("error")}
                 for e in trace.events]
        return AgentReply(text, calls, seconds, tokens)

    def close(self) -> None:
        if self._owns_runtime and self._runtime is not None:
            self._runtime.close()
            self._runtime = None

    def __enter__(self) -> CourseAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_sync(coro: Any) -> Any:
    """Run a coroutine to completion, also from inside a running loop (a notebook cell): then on a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def course_agent(runtime: Any = None, **options: Any) -> CourseAgent:
    """The real course agent as an ``agent_fn`` for :func:`~edgeagents.capstone.evaluate.evaluate`.

    >>> agent_fn = course_agent(temperature=0.7)        # doctest: +SKIP
    """
    return CourseAgent(runtime, **options)
