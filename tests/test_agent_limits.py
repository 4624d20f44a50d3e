"""The framework's turn limits, as Lab 11 step 8e teaches them, hold on the course's chat client.

When `max_function_calls` or `max_duration_seconds` trips, the framework asks the model once more with the tools
switched off; the Agent's `max_tokens` option is each reply's budget. A scripted runtime stands in for the model.
"""

from __future__ import annotations

import asyncio

import pytest

af = pytest.importorskip("agent_framework", reason="needs the agents extra: pip install -e '.[agents]'")

from edgeagents.agents.framework import EdgeChatClient, framework_tools  # noqa: E402
from edgeagents.agents.store import BusinessStore  # noqa: E402
from edgeagents.agents.tools import BusinessTools, approve_all  # noqa: E402
from scripted import ScriptedRuntime  # noqa: E402


def _turn(config: dict | None, during_first_call=lambda: None) -> tuple[ScriptedRuntime, EdgeChatClient, str]:  # noqa: ANN001
    rt = ScriptedRuntime([("run", during_first_call), ("call", "lookup_order", {"order_id": "ORD-1001"}), ("text", "shipped")])
    client = EdgeChatClient(rt, tool_strategy="auto", function_invocation_configuration=config)
    tools = framework_tools(BusinessTools(BusinessStore.open_memory(), approver=approve_all))
    text = asyncio.run(af.Agent(client=client, tools=tools).run("Where is ORD-1001?")).text
    return rt, client, text


def _tools_off_after_the_first_call(rt: ScriptedRuntime, client: EdgeChatClient, text: str) -> None:
    assert text == "shipped"
    assert rt.seen[0]["tools"] and rt.seen[1]["tools"] is None
    assert [c["tool_choice"] for c in client.calls] == ["auto", "none"]


def test_max_function_calls_switches_the_tools_off_for_the_next_model_call():
    _tools_off_after_the_first_call(*_turn({"max_function_calls": 1}))


def test_max_duration_seconds_switches_the_tools_off_once_the_budget_is_spent(monkeypatch):
    # the framework's own clock, advanced by hand: the first model call "takes" 10 s of a 5 s budget
    import agent_framework._tools as loop

    now = [1000.0]
    monkeypatch.setattr(loop, "perf_counter", lambda: now[0])
    _tools_off_after_the_first_call(*_turn({"max_duration_seconds": 5.0}, lambda: now.__setitem__(0, now[0] + 10.0)))


def test_without_a_limit_the_model_keeps_its_tools_after_a_call():
    rt, client, _ = _turn(None)
    assert rt.seen[1]["tools"]
    assert [c["tool_choice"] for c in client.calls] == ["auto", "auto"]


def test_the_agents_max_tokens_option_is_the_reply_budget():
    rt = ScriptedRuntime([("text", "hi")])
    agent = af.Agent(client=EdgeChatClient(rt, tool_strategy="auto", max_tokens=48), default_options={"max_tokens": 8})
    asyncio.run(agent.run("hello"))
    assert rt.seen[0]["max_tokens"] == 8
