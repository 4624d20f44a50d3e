"""The Lab 14 capstone's task set and evaluator, with scripted agents (one slow test runs the real one)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from edgeagents.agents.store import CUSTOMERS, KNOWLEDGE_BASE, ORDERS, BusinessStore
from edgeagents.agents.tools import PRIORITIES, TOOL_SPECS, BusinessTools
from edgeagents.capstone import CAPSTONE_NOW, CATEGORIES, TASKS, AgentReply, evaluate, pass_hat_k, run_task
from edgeagents.capstone.evaluate import state_differences
from edgeagents.capstone.tasks import MUTABLE_TABLES, Task
from edgeagents.errors import InvalidRequestError

BY_TURNS = {tuple(t.turns): t for t in TASKS}
CUSTOMER_IDS = {c[0] for c in CUSTOMERS}
ORDER_IDS = {o[0] for o in ORDERS}


def perfect_agent(store: BusinessStore, turns: list[str], seed: int) -> AgentReply:
    """Does exactly what each task expects, through the real gated tools, and says the required strings."""
    task = BY_TURNS[tuple(turns)]
    tools = BusinessTools(store, clock=lambda: CAPSTONE_NOW)
    calls = []
    for row in task.expected.get("tickets", []):
        calls.append(tools.call("create_support_ticket", {"customer_id": row["customer_id"], "subject": "fault",
                                                          "priority": row["priority"]}))
    for row in task.expected.get("callbacks", []):
        calls.append(tools.call("schedule_callback", {"customer_id": row["customer_id"], "date": row["slot"][:10],
                                                      "reason": "as asked"}))
    return AgentReply("Done. " + " and ".join(task.must_contain), calls, seconds=0.01 * (seed + 1), tokens=10)


def test_a_perfect_agent_passes_every_task():
    report = evaluate(perfect_agent, TASKS, k=3)
    failed = {r.task_id: r.reasons for r in report.trials if not r.success}
    assert failed == {}
    s = report.summary()
    assert s["pass^1"] == s["pass^3"] == 1.0
    assert s["trials"] == 3 * len(TASKS) and s["tokens"] == 10 * 3 * len(TASKS) and s["errors"] == 0
    assert s["p50_s"] == pytest.approx(0.02) and s["p95_s"] == pytest.approx(0.03)


def test_a_wrong_row_fails_the_task():
    task = next(t for t in TASKS if t.id == "ticket-01")  # expects an urgent ticket for C004

    def wrong_priority(store, turns, seed):
        BusinessTools(store).call("create_support_ticket", {"customer_id": "C004", "subject": "smell",
                                                            "priority": "low"})
        return AgentReply("Ticket opened.")

    trial = run_task(wrong_priority, task)
    assert not trial.success
    assert any("missing row" in r for r in trial.reasons) and any("unexpected row" in r for r in trial.reasons)


def test_a_write_on_a_read_only_task_fails():
    task = next(t for t in TASKS if t.id == "needs-person-01")

    def escalates(store, turns, seed):
        store.add_ticket("C003", "refund", "urgent", "2026-11-22T09:00:00")
        return AgentReply("A person from our team will follow up.")

    trial = run_task(escalates, task)
    assert not trial.success and trial.reasons == [
        "tickets: unexpected row {'customer_id': 'C003', 'priority': 'urgent', 'status': 'open', 'subject': 'refund'}"]


def test_changing_a_seeded_row_fails_unless_expected():
    def cancel(store, turns, seed):
        with store._db:
            store._db.execute("UPDATE orders SET status = 'cancelled' WHERE order_id = 'ORD-1007'")
        return AgentReply("A person from our team will follow up.")

    task = next(t for t in TASKS if t.id == "needs-person-02")
    trial = run_task(cancel, task)
    assert not trial.success and any("seeded row removed or changed" in r for r in trial.reasons)
    # the same change is accepted where a task expects that order row to end cancelled
    expects = Task("x", "needs_person", task.turns, expected={"orders": [{"order_id": "ORD-1007", "status": "cancelled"}]})
    assert run_task(cancel, expects).success


def test_a_raising_agent_is_a_failed_trial_not_a_crash():
    def broken(store, turns, seed):
        raise ZeroDivisionError("boom")

    report = evaluate(broken, TASKS[:3], k=2)
    assert all(not r.success and r.error == "ZeroDivisionError" for r in report.trials)
    assert report.summary()["errors"] == 6 and report.summary()["pass^2"] == 0.0
    assert "agent raised ZeroDivisionError: boom" in report.trials[0].reasons


def test_reply_checks_are_case_insensitive_and_forbid_strings():
    task = Task("t", "order_status", ["Where is ORD-1002?"], must_contain=["BackOrdered"], must_not_contain=["Delivered"])
    assert run_task(lambda s, t, seed: AgentReply("it is backordered"), task).success
    trial = run_task(lambda s, t, seed: AgentReply("backordered, not DELIVERED"), task)
    assert trial.reasons == ["reply contains 'Delivered'"]
    not_a_reply = run_task(lambda s, t, seed: "backordered", task)  # a plain string is not graded as a reply
    assert not not_a_reply.success and not_a_reply.reasons[0] == "agent returned str, not AgentReply"


@pytest.mark.parametrize(("c", "n", "k", "want"), [(2, 3, 2, 1 / 3), (3, 3, 3, 1.0), (0, 3, 1, 0.0), (1, 3, 1, 1 / 3),
                                                   (2, 4, 2, 1 / 6), (4, 5, 3, 2 / 5), (2, 3, 3, 0.0)])
def test_pass_hat_k_matches_hand_computed_values(c, n, k, want):
    assert pass_hat_k(c, n, k) == pytest.approx(want)


def test_pass_k_is_the_mean_over_tasks_and_trials_differ_by_seed():
    seeds = []

    def flaky(store, turns, seed):  # right except on its second trial (seed 1)
        seeds.append(seed)
        return perfect_agent(store, turns, seed) if seed != 1 else AgentReply("")

    tasks = [t for t in TASKS if t.must_contain][:4]
    report = evaluate(flaky, tasks, k=2, n=3)
    assert seeds == [0, 1, 2] * 4
    assert report.successes() == {t.id: 2 for t in tasks}
    assert report.pass_at(1) == pytest.approx(2 / 3) and report.summary()["pass^2"] == pytest.approx(1 / 3)
    table = report.table()
    assert list(table["task"]) == [t.id for t in tasks] and list(table["pass^2"]) == pytest.approx([1 / 3] * 4)
    assert {"successes", "n", "pass^1", "p50_s", "tokens", "errors"} <= set(table.columns)
    assert set(report.by_category()["category"]) == {t.category for t in tasks}
    assert [len(v) for v in report.traces().values()] == [3] * 4


@pytest.mark.parametrize(("kwargs", "word"), [({"k": 0}, "k must"), ({"k": 3, "n": 2}, "more than"),
                                              ({"k": 1, "tasks": []}, "no tasks")])
def test_bad_evaluation_settings_are_typed_errors_with_a_hint(kwargs, word):
    tasks = kwargs.pop("tasks", TASKS[:1])
    with pytest.raises(InvalidRequestError, match=word) as info:
        evaluate(perfect_agent, tasks, **kwargs)
    assert info.value.hint


# ---------------------------------------------------------------------- the task set itself
def test_there_are_enough_tasks_with_unique_ids_in_every_category():
    assert len(TASKS) >= 40
    ids = [t.id for t in TASKS]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-z0-9-]+", i) for i in ids)
    assert {t.category for t in TASKS} == set(CATEGORIES)
    for c in CATEGORIES:
        assert sum(t.category == c for t in TASKS) >= 3, c
    assert all(t.turns and all(isinstance(x, str) and x.strip() for x in t.turns) for t in TASKS)


def test_every_id_a_task_mentions_exists_in_the_seeded_store():
    for t in TASKS:
        ids = t.mentioned_ids()
        if t.category == "missing_id":
            assert ids == [], t.id
        elif t.category == "unknown_id":
            assert ids and not set(ids) & (CUSTOMER_IDS | ORDER_IDS), t.id
        else:
            assert set(ids) <= CUSTOMER_IDS | ORDER_IDS, t.id


def test_expected_rows_are_consistent_with_the_store_and_the_tools():
    today = CAPSTONE_NOW.date()
    date_pattern = TOOL_SPECS["schedule_callback"]["function"]["parameters"]["properties"]["date"]["pattern"]
    for t in TASKS:
        assert set(t.expected) <= set(MUTABLE_TABLES), t.id
        for row in t.expected.get("tickets", []):
            assert row["customer_id"] in CUSTOMER_IDS and row["priority"] in PRIORITIES, t.id
            assert row["customer_id"] in " ".join(t.turns), t.id  # the user gave the id the row names
        for row in t.expected.get("callbacks", []):
            day = row["slot"][:10]
            assert row["customer_id"] in CUSTOMER_IDS and row["customer_id"] in " ".join(t.turns), t.id
            assert re.match(date_pattern, day) and day in " ".join(t.turns), t.id
            assert today <= datetime.strptime(day, "%Y-%m-%d").date() <= today + timedelta(days=60), t.id
        if t.category in ("ticket_priority", "callback_booking"):
            assert t.expected, t.id
        else:  # every other category must leave the store as seeded
            assert not t.expected, t.id


def test_required_strings_come_from_the_seeded_data():
    orders = {o[0]: " ".join(str(v) for v in o) for o in ORDERS}
    products = {"SKU-SENSOR": "Door sensor S1"}
    kb = " ".join(f"{a[1]} {a[2]}" for a in KNOWLEDGE_BASE).lower()
    customers = {c[0]: " ".join(c) for c in CUSTOMERS}
    for t in TASKS:
        ids = t.mentioned_ids()
        if t.category == "order_status":
            row = orders[ids[0]] + " " + " ".join(products.values())
            assert all(s.lower() in row.lower() for s in t.must_contain), t.id
        elif t.category == "customer_info":
            row = customers[ids[0]]
            assert all(s in row for s in t.must_contain + t.must_not_contain), t.id
        elif t.category == "kb_answer":
            assert all(s.lower() in kb for s in t.must_contain), t.id


def test_state_differences_pair_similar_rows_one_to_one():
    before = {"tickets": []}
    after = {"tickets": [{"customer_id": "C001", "priority": "high"}, {"customer_id": "C001", "priority": "low"}]}
    wanted = {"tickets": [{"customer_id": "C001"}, {"customer_id": "C001", "priority": "high"}]}
    assert state_differences(before, after, wanted) == []
    assert state_differences(before, after, {"tickets": [{"customer_id": "C001"}]}) == [
        "tickets: unexpected row {'customer_id': 'C001', 'priority': 'low'}"]


# ---------------------------------------------------------------------- the course agent's glue, scripted
class TicketRuntime:
    """A stand-in course runtime: the router picks "ticket", the forced call opens an urgent ticket for C004,
    the answer from the result is fixed. Records the options of every call."""

    name = "scripted"
    model = "scripted-model"

    def __init__(self) -> None:
        self.seen: list[dict] = []

    def score(self, prompt, continuations):  # noqa: ANN001, ANN201
        return [0.0 if c.strip() == "ticket" else -5.0 for c in continuations]

    def _result(self, text: str, calls: tuple = ()):  # noqa: ANN202
        from edgeagents.runtimes.base import Result, Timings, Usage

        return Result(text, "tool_calls" if calls else "stop", Usage(10, 5), Timings(0.01, 0.02, 10, 5),
                      self.model, self.name, tool_calls=calls)

    def chat(self, messages, *, tools=None, tool_choice="auto", **options):  # noqa: ANN001, ANN201
        from edgeagents.runtimes.base import ToolCall

        self.seen.append({"kind": "chat", "tool_choice": tool_choice, **options})
        args = {"customer_id": "C004", "subject": "burning smell", "priority": "urgent"}
        return self._result("", (ToolCall("create_support_ticket", args, "call_0"),))

    def complete(self, prompt, **options):  # noqa: ANN001, ANN201
        self.seen.append({"kind": "complete", **options})
        return self._result("I opened an urgent ticket for you.")


def test_course_agent_binds_the_tools_to_each_trial_store_and_passes_the_seed():
    pytest.importorskip("agent_framework", reason="needs the agents extra: pip install -e '.[agents]'")
    from edgeagents.capstone.agent import course_agent

    rt = TicketRuntime()
    task = next(t for t in TASKS if t.id == "ticket-01")
    report = evaluate(course_agent(rt, tool_strategy="route", temperature=0.5), [task], k=2)  # the script routes
    assert [r.success for r in report.trials] == [True, True]  # each trial wrote to its own fresh store
    chats = [s for s in rt.seen if s["kind"] == "chat"]
    assert [c["seed"] for c in chats] == [0, 1] and all(c["temperature"] == 0.5 for c in chats)
    trial = report.trials[0]
    assert trial.tool_calls[0]["name"] == "create_support_ticket" and trial.tool_calls[0]["error"] is None
    assert trial.tokens == 30 and trial.seconds > 0  # two model calls of 15 tokens: the call, then the answer


# ---------------------------------------------------------------------- the real agent
@pytest.mark.slow
def test_the_real_course_agent_completes_an_evaluation():
    pytest.importorskip("agent_framework", reason="needs the agents extra: pip install -e '.[agents]'")
    from edgeagents.capstone.agent import course_agent

    with course_agent(max_tokens=48) as agent_fn:
        report = evaluate(agent_fn, [TASKS[0], next(t for t in TASKS if t.category == "ticket_priority")], k=1)
    s = report.summary()  # the model's score and speed are not asserted: only that figures come back
    assert s["tasks"] == 2 and s["trials"] == 2 and 0.0 <= s["pass^1"] <= 1.0
    assert s["p50_s"] > 0 and s["tokens"] > 0
    assert len(report.table()) == 2
