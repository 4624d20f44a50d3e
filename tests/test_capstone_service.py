"""The capstone system and its HTTP service: transactions, failover, admission, sessions, the OpenAI API.

The logic runs on a scripted runtime (tests/scripted.py); the last tests run the real course model behind
the real service with the real ``openai`` client.
"""

from __future__ import annotations

import concurrent.futures
import json
import threading

import httpx
import pytest

pytest.importorskip("agent_framework", reason="needs the agents extra: pip install -e '.[agents]'")
pytest.importorskip("fastapi", reason="needs the serve extra: pip install -e '.[serve]'")
openai = pytest.importorskip("openai")

from edgeagents.agents.store import BusinessStore  # noqa: E402
from edgeagents.capstone.service import MODEL_ID, parse_request, serve  # noqa: E402
from edgeagents.capstone.system import PERSON_REPLY, CapstoneSystem  # noqa: E402
from edgeagents.errors import (  # noqa: E402
    BackendError,
    InvalidRequestError,
    OverloadedError,
    RuntimeClosedError,
)
from scripted import ScriptedRuntime  # noqa: E402

TICKET = ("call", "create_support_ticket", {"customer_id": "C003", "subject": "hub is dead", "priority": "high"})
CALLBACK = ("call", "schedule_callback", {"customer_id": "C003", "date": "2026-11-28", "reason": "hub"})


def _system(*scripts: list[tuple], **options) -> tuple[CapstoneSystem, BusinessStore, list[ScriptedRuntime]]:
    """A system whose runtime_factory hands out one scripted runtime per script, in order."""
    store = BusinessStore.open_memory()
    runtimes = [ScriptedRuntime(list(s)) for s in scripts]
    opened: list[ScriptedRuntime] = []

    def factory() -> ScriptedRuntime:
        opened.append(runtimes[len(opened)])
        return opened[-1]

    options.setdefault("tool_strategy", "auto")
    return CapstoneSystem(store=store, runtime_factory=factory, **options), store, opened


# ---------------------------------------------------------------------- the store's transactions
def test_a_transaction_commits_its_writes_together():
    store = BusinessStore.open_memory()
    with store.transaction():
        store.add_ticket("C001", "a", "low", "t")
        store.add_callback("C001", "2026-11-28 10:00", "r", "t")
    assert len(store.tickets()) == 1 and len(store.callbacks()) == 1


def test_a_transaction_that_raises_leaves_the_tables_as_they_were_but_keeps_its_audit_rows():
    store = BusinessStore.open_memory()
    with pytest.raises(RuntimeError), store.transaction():
        store.add_ticket("C001", "a", "low", "t")
        store.write_audit("t", "test", "create_support_ticket", "{}", "ok", "{}", 1.0)
        raise RuntimeError("the model died half-way")
    assert store.tickets() == []
    assert [r["tool"] for r in store.audit_rows()] == ["create_support_ticket"]


def test_a_nested_transaction_on_one_thread_is_a_typed_error_not_a_deadlock():
    store = BusinessStore.open_memory()
    with store.transaction(), pytest.raises(InvalidRequestError, match="already has a transaction"):
        with store.transaction():
            pass


# ---------------------------------------------------------------------- turns
def test_a_write_turn_commits_and_is_recorded():
    system, store, _ = _system([TICKET, ("text", "Ticket opened.")])
    turn = system.chat("C003: my hub is dead, open a ticket")
    assert turn.served_by == "local" and turn.text == "Ticket opened."
    assert [c["name"] for c in turn.tool_calls] == ["create_support_ticket"]
    assert [t["priority"] for t in store.tickets()] == ["high"]
    assert turn.prompt_tokens > 0 and turn.seconds > 0


def test_a_runtime_that_dies_after_a_write_leaves_no_half_written_row_and_says_a_person_follows_up():
    system, store, _ = _system([TICKET, ("raise", BackendError("llama.cpp died"))])
    system.runtime_factory = None  # nothing to restart with: after the first runtime, no failover
    system._runtime = ScriptedRuntime([TICKET, ("raise", BackendError("llama.cpp died"))])
    turn = system.chat("C003: my hub is dead, open a ticket")
    assert turn.served_by == "person" and turn.text == PERSON_REPLY
    assert turn.errors == ["BackendError"]
    assert store.tickets() == []  # the ticket written before the crash was rolled back
    assert [r["tool"] for r in store.audit_rows()] == ["create_support_ticket"]  # the attempt is on record


def test_a_failed_runtime_is_restarted_and_the_turn_retried_once_without_a_duplicate_write():
    system, store, opened = _system([TICKET, ("raise", RuntimeClosedError("closed under it"))],
                                    [TICKET, ("text", "Ticket opened.")])
    turn = system.chat("C003: my hub is dead, open a ticket")
    assert (turn.served_by, turn.restarts, turn.errors) == ("local", 1, ["RuntimeClosedError"])
    assert len(opened) == 2 and opened[0].closed
    assert len(store.tickets()) == 1  # the first attempt's ticket was rolled back, the retry's kept


def test_escalation_answers_when_the_local_runtime_cannot_and_a_person_when_escalation_is_down():
    broken = [("raise", BackendError("down"))]
    system, store, _ = _system(broken, broken, escalation=ScriptedRuntime([("text", "Cloud answer.")]))
    turn = system.chat("Where is my order ORD-1001?")
    assert (turn.served_by, turn.text, turn.restarts) == ("escalation", "Cloud answer.", 1)
    system2, _, _ = _system(broken, broken, escalation=ScriptedRuntime([("raise", BackendError("cloud down"))]))
    turn2 = system2.chat("Where is my order ORD-1001?")
    assert (turn2.served_by, turn2.text) == ("person", PERSON_REPLY)
    assert turn2.errors == ["BackendError", "BackendError", "BackendError"]


def test_sessions_keep_the_conversation_and_the_oldest_is_dropped_past_max_sessions():
    rt = ScriptedRuntime([("text", "one"), ("text", "two"), ("text", "three")])
    system = CapstoneSystem(rt, store=BusinessStore.open_memory(), tool_strategy="auto", max_sessions=1)
    first = system.chat("My name is Ada.")
    system.chat("What is my name?", first.session_id)
    history = [m["content"] for m in rt.seen[1]["messages"] if m["role"] == "user"]
    assert history == ["My name is Ada.", "What is my name?"]
    other = system.chat("Hello", None)
    assert system.sessions() == [other.session_id]


@pytest.mark.parametrize("text, session", [("", None), ("   ", None), ("x" * 5000, None), ("hi", "bad id!"),
                                           ("hi", "x" * 200)])
def test_bad_turns_are_typed_errors_and_change_nothing(text, session):
    system, store, opened = _system([("text", "unused")])
    with pytest.raises(InvalidRequestError):
        system.chat(text, session)
    assert store.tickets() == [] and system.turns == [] and system._pending == 0


def test_after_close_a_turn_is_a_typed_error():
    system, _, opened = _system([("text", "hi")])
    system.chat("hello")
    system.close()
    assert opened[0].closed
    with pytest.raises(RuntimeClosedError):
        system.chat("hello again")


def test_more_turns_than_max_pending_are_refused_at_once():
    release = threading.Event()
    system, _, _ = _system([("run", lambda: release.wait(10)), ("text", "slow")], max_pending=1)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(system.chat, "first")
        while system._pending == 0:
            threading.Event().wait(0.01)
        with pytest.raises(OverloadedError):
            system.chat("second")
        release.set()
        assert slow.result(10).text == "slow"
    assert system._pending == 0


def test_a_stream_yields_the_text_then_the_turn():
    system, _, _ = _system([("text", "Hello there.")])
    items = list(system.chat_stream("hi"))
    assert "".join(i for i in items if isinstance(i, str)) == "Hello there."
    assert items[-1].text == "Hello there."


# ---------------------------------------------------------------------- the HTTP service
@pytest.mark.parametrize("body", [[], {"messages": []}, {"messages": [{"role": "assistant", "content": "x"}]},
                                  {"messages": [{"role": "user", "content": 3}]},
                                  {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
                                  {"messages": [{"role": "user", "content": "x"}], "stream": "yes"},
                                  {"messages": [{"role": "user", "content": "x"}], "session_id": 5}])
def test_bad_request_bodies_are_typed_errors(body):
    with pytest.raises(InvalidRequestError):
        parse_request(body)


def test_parse_request_counts_the_messages_it_ignores():
    body = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "a"},
                         {"role": "assistant", "content": "b"}, {"role": "user", "content": [{"type": "text", "text": "c"}]}]}
    assert parse_request(body) == ("c", None, False, 2)


def test_the_service_speaks_the_openai_api_with_sessions_streaming_health_and_metrics():
    rt = ScriptedRuntime([TICKET, ("text", "Ticket opened."), ("text", "You're welcome.")])
    system = CapstoneSystem(rt, store=BusinessStore.open_memory(), tool_strategy="auto")
    with serve(system) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="local", max_retries=0)
        assert [m.id for m in client.models.list()] == [MODEL_ID]
        r = client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": "C003 hub dead"}])
        ext = r.model_extra["edgeagents"]
        assert r.choices[0].message.content == "Ticket opened." and ext["served_by"] == "local"
        assert [c["name"] for c in ext["tool_calls"]] == ["create_support_ticket"]
        stream = client.chat.completions.create(model=MODEL_ID, stream=True, messages=[{"role": "user", "content": "thanks"}],
                                                extra_body={"session_id": ext["session_id"]})
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == "You're welcome."
        assert chunks[-1].model_extra["edgeagents"]["session_id"] == ext["session_id"]
        health = httpx.get(f"{server.url}/health")
        assert health.status_code == 200 and health.json()["turns"] == 2
        metrics = httpx.get(f"{server.url}/metrics").text
        assert 'edgeagents_capstone_turns_total{served_by="local"} 2.0' in metrics
        assert 'edgeagents_capstone_tool_calls_total{outcome="ok",tool="create_support_ticket"} 1.0' in metrics
        bad = httpx.post(f"{server.url}/v1/chat/completions", content=b"{not json")
        assert bad.status_code == 400 and bad.json()["error"]["type"] == "InvalidRequestError"
        assert httpx.get(server.url).text.startswith("<!doctype html>")
        system.close()
        assert httpx.get(f"{server.url}/health").status_code == 503
        closed = httpx.post(f"{server.url}/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]})
        assert closed.status_code == 503 and closed.json()["error"]["type"] == "RuntimeClosedError"


def test_a_burst_of_concurrent_users_gets_answers_or_429_never_a_server_error():
    n = 12
    release = threading.Event()
    script = [("run", lambda: release.wait(0.05)), ("text", "ok")] * n
    system = CapstoneSystem(ScriptedRuntime(script), store=BusinessStore.open_memory(), tool_strategy="auto",
                            max_pending=3)
    with serve(system) as server, httpx.Client(timeout=30) as http:
        def one(i: int) -> httpx.Response:
            return http.post(f"{server.url}/v1/chat/completions",
                             json={"messages": [{"role": "user", "content": f"hello {i}"}]})

        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            responses = list(pool.map(one, range(n)))
    codes = sorted(r.status_code for r in responses)
    assert set(codes) <= {200, 429} and 200 in codes
    assert all(r.json()["choices"][0]["message"]["content"] == "ok" for r in responses if r.status_code == 200)
    assert all(r.headers["Retry-After"] == "1" for r in responses if r.status_code == 429)
    assert len(system.turns) == codes.count(200) and system._pending == 0


# ---------------------------------------------------------------------- the real course model
@pytest.mark.slow
def test_the_real_course_agent_behind_the_service_answers_and_reports_its_tool_calls():
    import edgeagents

    store = BusinessStore.open_memory()
    system = CapstoneSystem(store=store, runtime_factory=lambda: edgeagents.open_runtime(n_ctx=2048))
    try:
        with serve(system) as server:
            client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="local", max_retries=0, timeout=600)
            r = client.chat.completions.create(model=MODEL_ID,
                                               messages=[{"role": "user", "content": "Where is my order ORD-1001?"}])
            ext = r.model_extra["edgeagents"]
            assert r.choices[0].message.content.strip() and ext["served_by"] == "local"
            # what the service reports is what the gated tools ran: one audit row per reported call
            audited = [row["tool"] for row in store.audit_rows()]
            assert [c["name"] for c in ext["tool_calls"]] == audited
            stream = client.chat.completions.create(model=MODEL_ID, stream=True, extra_body={"session_id": ext["session_id"]},
                                                    messages=[{"role": "user", "content": "Thanks! How long does shipping take?"}])
            chunks = list(stream)
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            assert text and text == system.turns[-1].text
            assert r.usage.total_tokens > 0
            metrics = httpx.get(f"{server.url}/metrics").text
            assert "gen_ai_client_operation_duration_seconds_count" in metrics
            assert json.loads(httpx.get(f"{server.url}/health").text)["status"] == "ok"
    finally:
        system.close()
