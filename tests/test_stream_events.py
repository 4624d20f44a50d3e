"""A stream reports its request to edgeagents.events exactly once: finished, failed, or dropped half-read.

Fake chunk iterators stand in for a backend here; tests/test_runtime_lifecycle.py runs the same on every runtime.
"""

from __future__ import annotations

import gc

import pytest

from edgeagents import events
from edgeagents.errors import BackendError
from edgeagents.runtimes.base import Result, Stream, StreamChunk, Timings, Usage


def result(tokens: int = 3) -> Result:
    return Result("abc", "stop", Usage(5, tokens), Timings(0.01, 0.05, 5, tokens), "m", "fake")


def chunks(fail: bool = False):
    yield StreamChunk("a")
    yield StreamChunk("b")
    if fail:
        raise BackendError("the server went away")
    yield result()


@pytest.fixture
def seen():
    out: list = []
    with events.subscribe(out.append):
        yield out


def test_a_finished_stream_reports_start_then_end_with_usage(seen):
    stream = Stream(chunks(), origin=("fake", "m"), operation="text_completion")
    assert [e.phase for e in seen] == ["start"]
    assert stream.text() == "abc"
    start, end = seen
    assert end.phase == "end" and end.request_id == start.request_id and end.operation == "text_completion"
    assert (end.prompt_tokens, end.completion_tokens, end.ttft_s, end.error_type) == (5, 3, 0.01, None)
    del stream
    gc.collect()
    assert len(seen) == 2  # finished: dropping it later reports nothing more


def test_a_failing_stream_reports_the_errors_class_name(seen):
    stream = Stream(chunks(fail=True), origin=("fake", "m"))
    with pytest.raises(BackendError):
        stream.text()
    assert [(e.phase, e.error_type) for e in seen] == [("start", None), ("end", "BackendError")]


def test_reading_on_after_a_break_is_one_request_and_dropping_half_read_is_abandoned(seen):
    stream = Stream(chunks(), origin=("fake", "m"))
    for _chunk in stream:
        break  # the reader pauses: not an end
    gc.collect()
    assert [e.phase for e in seen] == ["start"]
    assert stream.text() == "abc"  # what was left
    assert [e.phase for e in seen] == ["start", "end"] and seen[-1].error_type is None
    half = Stream(chunks(), origin=("fake", "m"))
    next(iter(half))
    del half
    gc.collect()
    assert seen[-1].phase == "end" and seen[-1].error_type == "StreamAbandoned"


def test_a_stream_without_an_origin_reports_nothing(seen):
    assert Stream(chunks()).text() == "abc"
    assert seen == []
