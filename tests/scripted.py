"""A runtime that replies from a script: for unit tests of the agent logic only, never what a learner sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edgeagents.runtimes.base import Health, Result, Stream, StreamChunk, Timings, ToolCall, Usage


@dataclass
class ScriptedRuntime:
    """Replies from a script: ("call", name, args) | ("calls", [(name, args), ...]) | ("text", "...") |
    ("raise", exc) | ("run", fn) (calls ``fn()`` first, e.g. to wait on an event, then takes the next step);
    scores favour ``prefer``."""

    script: list[tuple]
    prefer: str = "order"
    seen: list[dict[str, Any]] = field(default_factory=list)
    name: str = "scripted"
    model: str = "scripted-model"
    closed: bool = False

    def _next(self, **kw: Any) -> Result:
        self.seen.append(kw)
        step = self.script.pop(0)
        if step[0] == "run":
            step[1]()
            step = self.script.pop(0)
        if step[0] == "raise":
            raise step[1]
        if step[0] in ("call", "calls"):
            calls = [(step[1], step[2])] if step[0] == "call" else step[1]
            return Result("", "tool_calls", Usage(10, 5), Timings(0.01, 0.02, 10, 5), self.model, self.name,
                          tool_calls=tuple(ToolCall(n, a, f"call_{i}") for i, (n, a) in enumerate(calls)))
        return Result(step[1], "stop", Usage(10, 5), Timings(0.01, 0.02, 10, 5), self.model, self.name)

    def chat(self, messages, *, tools=None, tool_choice="auto", **options):  # noqa: ANN001, ANN201
        return self._next(kind="chat", messages=messages, tools=tools, tool_choice=tool_choice, **options)

    def complete(self, prompt, **options):  # noqa: ANN001, ANN201
        return self._next(kind="complete", prompt=prompt, **options)

    def _stream(self, result: Result) -> Stream:
        def gen():  # noqa: ANN202
            if result.text:
                yield StreamChunk(result.text)
            yield result
        return Stream(gen())

    def chat_stream(self, messages, **kw):  # noqa: ANN001, ANN201
        return self._stream(self.chat(messages, **kw))

    def complete_stream(self, prompt, **kw):  # noqa: ANN001, ANN201
        return self._stream(self.complete(prompt, **kw))

    def health(self) -> Health:
        return Health(not self.closed, "scripted")

    def close(self) -> None:
        self.closed = True

    def score(self, prompt, continuations):  # noqa: ANN001, ANN201
        if prompt.endswith("Request: N/A\nTopic:"):  # the router's calibration baseline
            return [-1.0 for _ in continuations]
        return [0.0 if c.strip() == self.prefer else -5.0 for c in continuations]
