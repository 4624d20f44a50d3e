"""The reliability runs' bookkeeping, on scripted runtimes: what counts as a false "done" and a half-written row.

The runs themselves, on the real course model, are in Lab 14 and benchmarks/bench_capstone_reliability.py.
"""

from __future__ import annotations

import contextlib

import pytest

pytest.importorskip("agent_framework", reason="needs the agents extra: pip install -e '.[agents]'")

from edgeagents.agents.store import BusinessStore  # noqa: E402
from edgeagents.capstone import TASKS  # noqa: E402
from edgeagents.capstone.reliability import SystemAgent, _run, claims_done, table, tool_raises  # noqa: E402
from edgeagents.capstone.system import PERSON_REPLY  # noqa: E402
from edgeagents.errors import BackendError  # noqa: E402
from scripted import ScriptedRuntime  # noqa: E402

TICKET_TASK = next(t for t in TASKS if t.id == "ticket-02")  # C003, high
TICKET = ("call", "create_support_ticket", {"customer_id": "C003", "subject": "hub is dead", "priority": "high"})


def _agent(*scripts: list[tuple], restart: bool = True) -> SystemAgent:
    queue = [ScriptedRuntime(list(s)) for s in scripts]
    agent = SystemAgent(lambda: queue.pop(0), tool_strategy="auto")
    agent.restart = restart
    return agent


def test_claims_done_reads_success_phrases_but_not_the_failure_statement():
    assert claims_done("Your ticket has been created.")
    assert not claims_done("I could not complete that. create_support_ticket failed: database is locked")
    assert not claims_done("Your order has shipped.")


def test_a_tool_that_raises_is_reported_as_failed_and_writes_nothing():
    agent = _agent([TICKET, ("text", "Your ticket has been created.")])
    run = tool_raises(agent, [TICKET_TASK])
    assert (run.turns, run.false_done, run.half_written, run.passed) == (1, 0, 0, 0)
    assert run.detail["failed_tool_calls"] == 1
    assert not claims_done(agent.turns[-1].text)  # the framework replaced the model's success claim


def test_a_crash_after_a_write_leaves_nothing_behind_and_promises_a_person():
    agent = _agent([TICKET, ("raise", BackendError("died"))], restart=False)
    run = _run("crash", agent, [TICKET_TASK])
    assert (run.half_written, run.false_done) == (0, 0)
    assert agent.turns[-1].text == PERSON_REPLY


def test_without_the_transaction_the_same_crash_is_counted_as_half_written(monkeypatch):
    monkeypatch.setattr(BusinessStore, "transaction", lambda self: contextlib.nullcontext(self))
    agent = _agent([TICKET, ("raise", BackendError("died"))], restart=False)
    run = _run("crash, no transaction", agent, [TICKET_TASK])
    assert run.half_written == 1  # the ticket row stayed, and no reported call accounts for it


def test_a_restarted_runtime_retries_the_turn_and_the_task_can_still_pass():
    agent = _agent([TICKET, ("raise", BackendError("died"))],
                   [TICKET, ("text", "I have opened a high priority ticket for you.")])
    run = _run("restart", agent, [TICKET_TASK])
    assert (run.half_written, run.passed, run.detail["restarts"]) == (0, 1, 1)
    assert list(table([run]).columns[:6]) == ["scenario", "turns", "answered", "false done", "half-written",
                                              "tasks passed"]
