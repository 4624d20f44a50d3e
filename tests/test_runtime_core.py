"""BaseRuntime: the code every runtime shares is written once, and stays written once.

Every runtime class subclasses :class:`BaseRuntime` and none of them writes its own ``chat``, ``complete``,
lifecycle or tool-call finishing: a copy that drifts is how five backends came to answer the same bad call in
five ways. The shared pieces are checked here on a runtime with no model behind it; the real backends go
through the same calls in tests/test_runtime_contract.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edgeagents.errors import InvalidRequestError, RuntimeClosedError, ToolCallError
from edgeagents.runtimes.base import Result, Stream, StreamChunk, Timings, Usage
from edgeagents.runtimes.core import BaseRuntime, StopBuffer
from edgeagents.runtimes.foundry.runtime import FoundryLocalRuntime
from edgeagents.runtimes.llamacpp.runtime import LlamaCppRuntime
from edgeagents.runtimes.ollama.runtime import OllamaRuntime
from edgeagents.runtimes.onnx_genai import OnnxGenAIRuntime
from edgeagents.runtimes.openai_compat import OpenAICompatRuntime
from edgeagents.runtimes.requests import GenerationOptions
from edgeagents.runtimes.vllm.runtime import VLLMRuntime

RUNTIMES = [LlamaCppRuntime, OnnxGenAIRuntime, OpenAICompatRuntime, VLLMRuntime, FoundryLocalRuntime, OllamaRuntime]
SHARED = ["chat", "complete", "close", "__enter__", "__exit__", "__repr__", "_finish_chat", "_parse_options"]
TOOL = {"type": "function", "function": {"name": "lookup_order", "parameters": {
    "type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}


@pytest.mark.parametrize("cls", RUNTIMES, ids=lambda c: c.__name__)
def test_every_runtime_is_a_base_runtime_and_copies_none_of_it(cls):
    assert issubclass(cls, BaseRuntime)
    copied = [name for name in SHARED for klass in cls.__mro__[: cls.__mro__.index(BaseRuntime)]
              if name in vars(klass)]
    assert copied == [], f"{cls.__name__} writes its own {copied}: put the change in BaseRuntime instead"


class Echo(BaseRuntime):
    """A runtime without a model: it streams its prompt back, in pieces."""

    name = "echo"
    model = "echo-1"

    def __init__(self) -> None:
        self.released = 0

    def _release(self) -> None:
        self.released += 1

    def _reply(self, text: str) -> Iterator[StreamChunk | Result]:
        for i in range(0, len(text), 3):
            yield StreamChunk(text[i:i + 3])
        yield Result(text, "stop", Usage(1, len(text)), Timings(0.0, 0.0, 1, len(text)), self.model, self.name)

    def complete_stream(self, prompt: str, **options) -> Stream:  # noqa: ANN003
        self._check_open()
        self._parse_options(options)
        return Stream(self._reply(prompt), origin=(self.name, self.model), operation="text_completion")

    def chat_stream(self, messages, *, tools=None, tool_choice="auto", **options) -> Stream:  # noqa: ANN001, ANN003
        self._check_open()
        self._parse_options(options)
        return Stream(self._reply(messages[-1]["content"]), origin=(self.name, self.model))


def test_complete_and_chat_read_the_stream_to_its_result():
    rt = Echo()
    assert rt.complete("hello there", max_tokens=4).text == "hello there"
    assert rt.chat([{"role": "user", "content": "hi you"}]).usage.completion_tokens == 6


def test_close_releases_once_and_every_later_call_is_runtime_closed():
    with Echo() as rt:
        assert repr(rt) == "<Echo echo-1: open>"
    assert repr(rt) == "<Echo echo-1: closed>"
    rt.close()
    assert rt.released == 1
    with pytest.raises(RuntimeClosedError, match="This echo runtime was closed"):
        rt.complete("hello")


def test_a_pending_response_is_closed_before_the_closed_error():
    class Response:
        closed = False

        def close(self) -> None:
            self.closed = True

    rt, pending = Echo(), Response()
    rt._check_open(pending)
    assert not pending.closed
    rt.close()
    with pytest.raises(RuntimeClosedError):
        rt._check_open(pending)
    assert pending.closed


def _result(text: str, finish: str = "stop") -> Result:
    return Result(text, finish, Usage(10, 5), Timings(0.1, 0.5, 10, 5), "echo-1", "echo")  # type: ignore[arg-type]


def test_tool_calls_are_finished_the_same_way_for_every_backend():
    rt = Echo()
    auto = rt._finish_chat(_result('Sure. <tool_call>{"name": "lookup_order", "arguments": {"order_id": "A"}}'),
                           "auto", [TOOL])
    assert (auto.finish_reason, auto.tool_calls[0].arguments) == ("tool_calls", {"order_id": "A"})
    forced = rt._finish_chat(_result('<tool_call>{"name": "lookup_order", "arguments": {"order_id": "B"}}'),
                             "named", [TOOL])
    assert (forced.text, forced.tool_calls[0].arguments) == ("", {"order_id": "B"})
    with pytest.raises(ToolCallError, match="ran out of tokens"):
        rt._finish_chat(_result('<tool_call>{"name": "lookup_order", "argu', "length"), "required", [TOOL])
    assert rt._finish_chat(_result("Hello"), "auto", [TOOL]).tool_calls == ()
    assert rt._finish_chat(forced, "named", [TOOL]) is forced  # calls already made are kept as they are


def test_generation_options_share_their_defaults_and_checks():
    opts = GenerationOptions.parse({"stop": "\n", "logprobs": True}, runtime="echo")
    assert (opts.max_tokens, opts.temperature, opts.top_p, opts.top_k, opts.stop, opts.logprobs) == (
        256, 0.0, 0.95, 40, ("\n",), 0)
    assert opts.given_values("top_p", "stop") == {"stop": ["\n"]}  # only what the caller passed
    assert GenerationOptions.parse({}, runtime="echo", defaults={"top_k": 0}).top_k == 0
    with pytest.raises(InvalidRequestError, match=r"Unknown option\(s\) \['bogus'\] for echo"):
        GenerationOptions.parse({"bogus": 1}, runtime="echo")
    with pytest.raises(InvalidRequestError, match="not both"):
        GenerationOptions.parse({"json_schema": {"type": "object"}, "grammar": 'root ::= "a"'}, runtime="echo")
    with pytest.raises(InvalidRequestError, match="min_p"):
        GenerationOptions.parse({"min_p": float("nan")}, runtime="echo")
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    from_format = GenerationOptions.parse({"response_format": {"type": "json_schema", "json_schema": {"schema": schema}}},
                                          runtime="echo")
    assert from_format.json_schema == schema


def _stream_through(buf: StopBuffer, pieces: list[str]) -> tuple[list[str], bool]:
    out, hit = [], False
    for piece in pieces:
        if buf.update(buf.text + piece):
            hit = True
            break
        out.append(buf.ready())
    out.append(buf.rest())
    return [p for p in out if p], hit


def test_a_stop_string_split_over_pieces_is_never_streamed():
    buf = StopBuffer(["END"])
    chunks, hit = _stream_through(buf, ["Hello wor", "ld E", "N", "D and more"])
    assert hit and buf.text == "Hello world " and "".join(chunks) == "Hello world "
    assert all("E" not in c for c in chunks)


def test_a_kept_stop_string_stays_in_the_text_and_no_stop_streams_everything():
    buf = StopBuffer(["</tool_call>"], keep=["</tool_call>"])
    chunks, hit = _stream_through(buf, ['<tool_call>{"a": 1}</tool', "_call> after"])
    assert hit and buf.text == '<tool_call>{"a": 1}</tool_call>' and "".join(chunks) == buf.text
    free = StopBuffer([])
    assert _stream_through(free, ["a", "b", "c"]) == (["a", "b", "c"], False)
