"""The runtime contract: the same bad input gets the same typed error on every runtime this machine has.

tests/test_bad_input.py goes through every case on llama.cpp in-process; here the cases that every runtime can
meet run on each of them (llama.cpp in-process, ONNX Runtime GenAI, Foundry Local, llama.cpp's server — see
tests/runtime_kinds.py), and each runtime must still answer afterwards and refuse everything once closed.
"""

from __future__ import annotations

import pytest

from edgeagents.errors import ContextOverflowError, InvalidRequestError, RuntimeClosedError, ToolCallError

pytestmark = pytest.mark.slow

HI = [{"role": "user", "content": "hi"}]
TOOL = {"type": "function", "function": {"name": "lookup_order", "description": "Find an order.",
                                         "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                                                        "required": ["order_id"]}}}

COMPLETE_CASES = {
    "empty prompt": ("", {}),
    "blank prompt": ("  \n\t ", {}),
    "prompt not text (None)": (None, {}),
    "prompt not text (bytes)": (b"bytes", {}),
    "NUL byte": ("hello\x00world", {}),
    "lone surrogate": ("broken \ud800 text", {}),
    "max_tokens 0": ("Hello", {"max_tokens": 0}),
    "max_tokens -1": ("Hello", {"max_tokens": -1}),
    "max_tokens str": ("Hello", {"max_tokens": "5"}),
    "max_tokens bool": ("Hello", {"max_tokens": True}),
    "max_tokens float": ("Hello", {"max_tokens": 2.5}),
    "temperature -1": ("Hello", {"temperature": -1}),
    "temperature NaN": ("Hello", {"temperature": float("nan")}),
    "temperature inf": ("Hello", {"temperature": float("inf")}),
    "top_p 0": ("Hello", {"top_p": 0}),
    "top_p 1.5": ("Hello", {"top_p": 1.5}),
    "top_p NaN": ("Hello", {"top_p": float("nan")}),
    "unknown option": ("Hello", {"bogus": 1}),
    "empty stop string": ("Hello", {"stop": [""]}),
}

CHAT_CASES = {
    "no messages": ([], {}),
    "messages not a list": ("hello", {}),
    "message without role": ([{"content": "no role"}], {}),
    "unknown role": ([{"role": "wizard", "content": "x"}], {}),
    "content None": ([{"role": "user", "content": None}], {}),
    "tool_choice without tools": (HI, {"tool_choice": "required"}),
    "malformed tool spec": (HI, {"tools": [{"name": "flat"}]}),
    "tool name outside the pattern": (HI, {"tools": [{"type": "function", "function": {"name": "x y z"}}],
                                           "tool_choice": "x y z"}),
    "tool_choice outside the pattern": (HI, {"tools": [TOOL], "tool_choice": {"type": "function"}}),
    "tool parameters not a schema": (HI, {"tools": [{"type": "function", "function": {
        "name": "t", "parameters": {"type": "object", "required": "order_id"}}}], "tool_choice": "t"}),
}


@pytest.mark.parametrize("case", COMPLETE_CASES)
def test_bad_completion_requests_are_invalid_request_errors(rt, case):
    prompt, options = COMPLETE_CASES[case]
    with pytest.raises(InvalidRequestError):
        rt.complete(prompt, **{"max_tokens": 4, **options})


@pytest.mark.parametrize("case", CHAT_CASES)
def test_bad_chat_requests_are_invalid_request_errors(rt, case):
    messages, options = CHAT_CASES[case]
    with pytest.raises(InvalidRequestError):
        rt.chat(messages, **{"max_tokens": 4, **options})


def test_a_forced_call_to_a_tool_not_offered_is_a_tool_call_error(rt):
    with pytest.raises(ToolCallError):
        rt.chat(HI, tools=[TOOL], tool_choice="delete_everything", max_tokens=8)


def test_a_prompt_longer_than_the_context_is_a_context_overflow(rt):
    n_ctx = rt.info().context_length or 2048  # an HTTP runtime may not know its server's window
    with pytest.raises(ContextOverflowError):
        rt.complete("word " * (2 * n_ctx), max_tokens=8)


def test_a_stream_of_a_bad_request_fails_before_the_first_chunk(rt):
    with pytest.raises(InvalidRequestError):
        rt.complete_stream("", max_tokens=4)


def test_after_all_that_the_runtime_still_answers(rt):
    assert rt.complete("The capital of France is", max_tokens=4).usage.completion_tokens >= 1


def test_every_call_after_close_is_runtime_closed(opener):
    runtime = opener()
    runtime.close()
    runtime.close()  # twice is fine
    for call in (lambda: runtime.complete("Hello", max_tokens=4), lambda: runtime.chat(HI, max_tokens=4),
                 lambda: runtime.complete_stream("Hello", max_tokens=4)):
        with pytest.raises(RuntimeClosedError):
            call()
    assert not runtime.health().ok
