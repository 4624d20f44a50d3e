"""Runtime lifecycle, the same tests on every runtime this machine has (issue 16, items 2.1 and 2.7).

* After ``close()`` every pending or half-read stream raises ``RuntimeClosedError`` and nothing
  crashes, even when ``close()`` runs while another thread generates. These run in a child process:
  a crash (llama.cpp segfaulted here before) fails the test instead of killing pytest.
* A half-read stream never blocks the runtime: a newer request from any thread proceeds, and the
  abandoned stream then raises ``StreamInterruptedError`` (in-process runtimes) or simply completes
  (HTTP: the server serves both). Two threads calling ``chat()`` at once both get a full answer.

Runtimes: llama.cpp in-process (always), ONNX Runtime GenAI (when the forge's ONNX build exists),
Foundry Local (when its SDK and the course's ONNX folder are there), llama.cpp's server (HTTP).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from edgeagents.errors import InvalidRequestError, RuntimeClosedError, StreamInterruptedError

pytestmark = pytest.mark.slow

PROMPT = "Once upon a time"
HELLO = [{"role": "user", "content": "Say hello."}]


# ---------------------------------------------------------------- opening each runtime (tests/runtime_kinds.py)
from runtime_kinds import IN_PROCESS, SAFETY_S, open_runtime  # noqa: E402 - fixtures: tests/conftest.py


def in_thread(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in another thread; its result, or what it raised. Fails if it is still blocked after SAFETY_S."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(SAFETY_S)
    assert not t.is_alive(), f"still blocked after {SAFETY_S} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


# ---------------------------------------------------------------- close(): in a child process
def close_scenarios(kind: str, base_url: str) -> None:
    """Run in a child process: print one ``<scenario> <outcome>`` line per scenario."""

    def outcome(fn: Callable[[], Any]) -> str:
        try:
            fn()
        except RuntimeClosedError:
            return "RuntimeClosedError"
        except Exception as exc:  # noqa: BLE001 - the parent test reports it
            return f"{type(exc).__name__}: {exc}".replace("\n", " ")
        return "completed"

    def created_then_closed() -> None:  # the reproduction
        with open_runtime(kind, base_url) as rt:
            s = rt.complete_stream("The capital of France is", max_tokens=8)
        print("".join(c.text for c in s))

    def half_read_then_closed() -> None:
        rt = open_runtime(kind, base_url)
        it = iter(rt.complete_stream(PROMPT, max_tokens=32))
        next(it)
        rt.close()
        list(it)

    print("created-then-closed", outcome(created_then_closed), flush=True)
    print("half-read-then-closed", outcome(half_read_then_closed), flush=True)

    rt = open_runtime(kind, base_url)
    started = threading.Event()
    result: dict[str, str] = {}

    def generate() -> None:
        def read() -> None:
            for _ in rt.complete_stream(PROMPT, max_tokens=32):
                started.set()

        result["thread"] = outcome(read)
        started.set()

    t = threading.Thread(target=generate)
    t.start()
    started.wait(SAFETY_S)
    rt.close()
    rt.close()  # twice is fine
    t.join(SAFETY_S)
    print("closed-while-generating", "blocked" if t.is_alive() else result["thread"], flush=True)
    print("health-after-close", "ok" if rt.health().ok else "not-ok", flush=True)
    print("request-after-close", outcome(lambda: rt.complete(PROMPT, max_tokens=4)), flush=True)
    if kind == "foundry":
        from edgeagents.runtimes.foundry import sdk

        sdk.close_manager()


@pytest.fixture
def closed_child(kind, request) -> tuple[int, dict[str, str], str]:
    """Run :func:`close_scenarios` in a child process: its exit code, outcome per scenario, and its output."""
    base_url = request.getfixturevalue("llamacpp_server").base_url if kind == "llama.cpp-server" else ""
    if kind == "foundry":
        request.getfixturevalue("foundry_registration")
    here = Path(__file__).parent
    code = f"import sys; sys.path.insert(0, {str(here)!r}); import test_runtime_lifecycle as t; t.close_scenarios(*sys.argv[1:])"
    proc = subprocess.run(
        [sys.executable, "-c", code, kind, base_url],
        capture_output=True,
        text=True,
        timeout=4 * SAFETY_S,
        env={**os.environ, "EDGEAGENTS_THREADS": "1"},
    )
    outcomes = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
    return proc.returncode, outcomes, (proc.stdout + proc.stderr)[-2000:]


def test_close_never_crashes_and_pending_streams_raise_closed(closed_child):
    rc, outcomes, output = closed_child
    assert rc == 0, f"the child process died (exit code {rc}):\n{output}"
    assert outcomes.get("created-then-closed") == "RuntimeClosedError", output
    assert outcomes.get("half-read-then-closed") == "RuntimeClosedError", output
    # the generating thread is stopped at its next token, or had already finished
    assert outcomes.get("closed-while-generating") in ("RuntimeClosedError", "completed"), output
    assert outcomes.get("health-after-close") == "not-ok", output
    assert outcomes.get("request-after-close") == "RuntimeClosedError", output


# ---------------------------------------------------------------- half-read streams never block
def test_a_stream_abandoned_in_another_thread_does_not_block(kind, rt):
    abandoned = in_thread(lambda: _half_read(rt))
    answer = in_thread(lambda: rt.complete("The capital of France is", max_tokens=8))
    assert answer.text.strip() and answer.finish_reason in ("stop", "length")
    assert rt.health().ok
    if kind in IN_PROCESS:
        with pytest.raises(StreamInterruptedError) as info:
            in_thread(lambda: list(abandoned))
        assert info.value.hint
    else:  # the server served both requests
        assert in_thread(lambda: "".join(c.text for c in abandoned)).strip()


def test_health_is_ok_while_a_half_read_stream_is_pending(rt):
    stream, it = _half_read_stream(rt)
    assert rt.health().ok
    list(it)  # nothing cancelled it: it reads on to the end
    assert stream.result is not None and stream.result.text.strip()


def test_a_newer_request_in_the_same_thread_cancels_a_half_read_stream(kind, rt):
    it = _half_read(rt)
    assert rt.chat(HELLO, max_tokens=8).text.strip()
    if kind in IN_PROCESS:
        with pytest.raises(StreamInterruptedError):
            list(it)
    else:
        list(it)


def test_a_rejected_request_cancels_nothing(rt):
    stream, it = _half_read_stream(rt)
    with pytest.raises(InvalidRequestError):
        rt.complete("", max_tokens=4)
    list(it)
    assert stream.result is not None and stream.result.text.strip()


def test_two_threads_calling_chat_at_once_both_get_a_full_answer(kind, rt):
    expected = rt.chat(HELLO, max_tokens=24)
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def ask(i: int) -> None:
        barrier.wait(SAFETY_S)
        answers[i] = rt.chat(HELLO, max_tokens=24)

    threads = [threading.Thread(target=ask, args=(i,), daemon=True) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SAFETY_S)
    assert not any(t.is_alive() for t in threads), f"still blocked after {SAFETY_S} s"
    for a in answers:
        assert a is not None and a.finish_reason in ("stop", "length"), answers
        # serialised (in-process by the gate, the course's llama.cpp server queues), greedy: the answer it gives alone
        assert a.text.strip() and a.text == expected.text, (expected, answers)


def _half_read_stream(rt: Any) -> tuple[Any, Iterator[Any]]:
    """A stream and its iterator, one chunk read."""
    stream = rt.complete_stream(PROMPT, max_tokens=32)
    it = iter(stream)
    assert next(it).text is not None
    return stream, it


def _half_read(rt: Any) -> Iterator[Any]:
    return _half_read_stream(rt)[1]


def test_close_waits_for_a_tokenizer_in_use_and_refuses_one_after():
    """close() from another thread while the tokenizer is being read frees the model only afterwards."""
    from edgeagents.runtimes.gate import ModelGate

    gate = ModelGate("test")
    freed = threading.Event()
    inside, leave = threading.Event(), threading.Event()

    def reader() -> None:
        with gate.reading():
            inside.set()
            leave.wait(SAFETY_S)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    assert inside.wait(SAFETY_S)
    closer = threading.Thread(target=lambda: gate.close(freed.set), daemon=True)
    closer.start()
    deadline = time.monotonic() + SAFETY_S
    while not gate.closed and time.monotonic() < deadline:  # close() has begun ...
        time.sleep(0.01)
    assert gate.closed and not freed.is_set()  # ... and stays blocked on the reader, however fast the machine
    leave.set()
    closer.join(SAFETY_S)
    assert freed.is_set()
    with pytest.raises(RuntimeClosedError):
        with gate.reading():
            pass


# ---------------------------------------------------------------- request events (what monitoring reads)
def _events_of(seen: list, request_id: int) -> list:
    return [e for e in seen if e.request_id == request_id]


def test_every_request_reports_one_start_and_one_end_with_its_figures(rt, kind):
    from edgeagents import events
    from edgeagents.monitoring import Collector

    seen: list = []
    with events.subscribe(seen.append), Collector() as collector:
        rt.complete(PROMPT, max_tokens=4)
        rt.chat(HELLO, max_tokens=4)
    ids = list(dict.fromkeys(e.request_id for e in seen))
    assert len(ids) == 2, seen
    for rid, operation in zip(ids, ("text_completion", "chat")):
        start, end = _events_of(seen, rid)
        assert (start.phase, end.phase) == ("start", "end")
        assert start.runtime == end.runtime == rt.info().runtime and end.operation == operation
        assert end.error_type is None and end.duration_s > 0 and end.completion_tokens >= 1
        assert end.ttft_s is not None and 0 < end.ttft_s <= end.duration_s
        # llama-cpp-python's server reports no usage in a stream: its prompt count is unknown there (0)
        assert end.prompt_tokens > 0 or kind == "llama.cpp-server"
    (stats,) = collector.stats()
    assert stats.requests == 2 and stats.errors == 0 and stats.in_flight == 0


def test_a_stream_dropped_half_read_reports_its_end_as_abandoned(rt):
    import gc

    from edgeagents import events

    seen: list = []
    with events.subscribe(seen.append):
        stream = rt.complete_stream(PROMPT, max_tokens=64)
        reader = iter(stream)
        next(reader)
        del reader, stream
        gc.collect()
        rt.complete(PROMPT, max_tokens=2)  # the runtime serves the next request as usual
    ends = [e for e in seen if e.phase == "end"]
    assert [e.error_type for e in ends] == ["StreamAbandoned", None], ends
