"""The one runtime interface every backend implements.

Messages, tools and tool calls keep the OpenAI chat shape (plain dicts), so the same
code talks to llama.cpp in-process, llama.cpp's server, Ollama, vLLM, Foundry Local or a
cloud endpoint. Every call returns a :class:`Result` with the text, token usage and timings.

A runtime implements :class:`Runtime`, by subclassing :class:`~edgeagents.runtimes.core.BaseRuntime`
(which writes ``chat``, ``complete`` and the lifecycle once for all of them). Features a backend lacks raise
:class:`~edgeagents.errors.UnsupportedFeatureError`; ``runtime.info().capabilities`` lists
what it has.
"""

from __future__ import annotations

import json
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from edgeagents import events

Message = dict[str, Any]
"""An OpenAI chat message: ``{"role": "user", "content": "..."}``; assistant messages may carry
``tool_calls``; tool results are ``{"role": "tool", "tool_call_id": ..., "content": ...}``."""

ToolSpec = dict[str, Any]
"""An OpenAI tool: ``{"type": "function", "function": {"name", "description", "parameters"}}``."""

ToolChoice = Literal["auto", "none", "required"] | dict[str, Any] | str
"""``"auto"`` (the model decides), ``"none"``, ``"required"`` (some tool), a tool name, or
``{"type": "function", "function": {"name": ...}}`` (that tool, forced)."""

FinishReason = Literal["stop", "length", "tool_calls"]

@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Timings:
    """Wall-clock timings of one request, in seconds.

    ``ttft_s`` is the time to first token (prompt processing plus the first decode step);
    ``decode_s`` is the time spent producing the remaining tokens.
    """

    ttft_s: float = 0.0
    total_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def decode_s(self) -> float:
        return max(0.0, self.total_s - self.ttft_s)

    @property
    def prompt_tps(self) -> float:
        """Prompt tokens per second (prompt tokens over the time to first token)."""
        return self.prompt_tokens / self.ttft_s if self.ttft_s > 0 else 0.0

    @property
    def decode_tps(self) -> float:
        """Generated tokens per second after the first one."""
        n = self.completion_tokens - 1
        return n / self.decode_s if n > 0 and self.decode_s > 0 else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "ttft_s": self.ttft_s,
            "total_s": self.total_s,
            "decode_s": self.decode_s,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "prompt_tps": self.prompt_tps,
            "decode_tps": self.decode_tps,
        }


@dataclass(frozen=True)
class ToolCall:
    """A parsed tool call. ``arguments`` is already a dict (validated JSON)."""

    name: str
    arguments: dict[str, Any]
    id: str = ""

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments, ensure_ascii=False)},
        }


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token, its log-probability, and the most likely alternatives."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Result:
    """What every request returns."""

    text: str
    finish_reason: FinishReason
    usage: Usage
    timings: Timings
    model: str = ""
    runtime: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    logprobs: tuple[TokenLogprob, ...] = ()

    @property
    def message(self) -> Message:
        """The reply as an OpenAI assistant message, ready to append to a conversation."""
        msg: Message = {"role": "assistant", "content": self.text}
        if self.tool_calls:
            msg["tool_calls"] = [c.to_openai() for c in self.tool_calls]
        return msg

    def json(self) -> Any:
        """The reply parsed as JSON (for schema-constrained requests)."""
        from edgeagents.errors import InvalidRequestError

        try:
            return json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise InvalidRequestError(
                f"The reply is not valid JSON ({exc.msg} at character {exc.pos}): {self.text[:80]!r}",
                hint="Ask for JSON with json_schema=... so the runtime constrains the output.",
            ) from None

    def summary(self) -> dict[str, Any]:
        """A flat dict for tables and metrics records."""
        return {
            "runtime": self.runtime,
            "model": self.model,
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens,
            **{k: round(v, 4) if isinstance(v, float) else v for k, v in self.timings.as_dict().items()},
        }


@dataclass(frozen=True)
class StreamChunk:
    """A piece of streamed text. The last chunk has ``finish_reason`` set."""

    text: str
    finish_reason: FinishReason | None = None


class _Report:
    """One request's events: a start now, exactly one end (finished, failed, or abandoned half-read)."""

    def __init__(self, runtime: str, model: str, operation: events.Operation) -> None:
        self.id = events.next_request_id()
        self.runtime, self.model, self.operation = runtime, model, operation
        self.started = time.perf_counter()
        self.ended = False
        self._emit("start")

    def _emit(self, phase: events.Phase, **fields: Any) -> None:
        events.emit(events.RequestEvent(self.id, phase, self.runtime, self.model, self.operation, stream=True,
                                        **fields))

    def _end(self, **fields: Any) -> None:
        if not self.ended:
            self.ended = True
            self._emit("end", duration_s=time.perf_counter() - self.started, **fields)

    def finish(self, result: Result) -> None:
        self._end(ttft_s=result.timings.ttft_s if result.usage.completion_tokens else None,
                  prompt_tokens=result.usage.prompt_tokens, completion_tokens=result.usage.completion_tokens,
                  finish_reason=result.finish_reason)

    def fail(self, exc: BaseException) -> None:
        self._end(error_type=type(exc).__name__)

    def abandon(self) -> None:
        self._end(error_type="StreamAbandoned")  # dropped before its end: no result will come


class Stream:
    """An iterator of :class:`StreamChunk`; after it is exhausted, ``.result`` holds the full :class:`Result`.

    >>> stream = runtime.chat_stream([{"role": "user", "content": "Hi"}])
    >>> for chunk in stream:
    ...     print(chunk.text, end="")
    >>> stream.result.timings.decode_tps

    A backend that names its ``origin`` (runtime, model) makes the stream report the request to
    :mod:`edgeagents.events`: a start when it is created, one end when the result arrives, when reading raises
    (``error_type`` is the error's class name), or when the stream is dropped half-read (``"StreamAbandoned"``).
    Every runtime's ``chat`` and ``complete`` run through a stream, so this is the one place they all report.
    """

    def __init__(self, chunks: Iterator[StreamChunk | Result], *, origin: tuple[str, str] | None = None,
                 operation: events.Operation = "chat") -> None:
        self._chunks = chunks
        self.result: Result | None = None
        self._report = _Report(*origin, operation) if origin is not None else None
        if self._report is not None:
            weakref.finalize(self, self._report.abandon).atexit = False

    def __iter__(self) -> Iterator[StreamChunk]:
        report = self._report
        try:
            for item in self._chunks:
                if isinstance(item, Result):
                    self.result = item
                    if report is not None:
                        report.finish(item)
                else:
                    yield item
        except GeneratorExit:  # the reader stopped early; the stream may still be read on, or dropped
            raise
        except BaseException as exc:
            if report is not None:
                report.fail(exc)
            raise

    def text(self) -> str:
        """Consume the stream and return the full text."""
        for _ in self:
            pass
        assert self.result is not None
        return self.result.text


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str
    latency_s: float = 0.0


@dataclass(frozen=True)
class RuntimeInfo:
    runtime: str
    model: str
    context_length: int
    capabilities: frozenset[str]
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["capabilities"] = sorted(self.capabilities)
        d["details"] = dict(self.details)
        return d


@runtime_checkable
class Runtime(Protocol):
    """What every runtime offers. Keyword arguments are the same across runtimes."""

    name: str

    def complete(self, prompt: str, **options: Any) -> Result: ...

    def complete_stream(self, prompt: str, **options: Any) -> Stream: ...

    def chat(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        tool_choice: ToolChoice = "auto",
        **options: Any,
    ) -> Result: ...

    def chat_stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        tool_choice: ToolChoice = "auto",
        **options: Any,
    ) -> Stream: ...

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]: ...

    def health(self) -> Health: ...

    def info(self) -> RuntimeInfo: ...

    def close(self) -> None: ...


class Stopwatch:
    """Measures TTFT and total time of one generation."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self.start = clock()
        self.first: float | None = None

    def mark_token(self) -> None:
        if self.first is None:
            self.first = self._clock()

    def timings(self, prompt_tokens: int, completion_tokens: int) -> Timings:
        end = self._clock()
        first = self.first if self.first is not None else end
        return Timings(
            ttft_s=first - self.start,
            total_s=end - self.start,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )
