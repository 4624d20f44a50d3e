"""Ollama behind the course's runtime interface (native API, through the official ``ollama`` client).

>>> rt = OllamaRuntime("edgeagents-course")                 # OLLAMA_HOST, or 127.0.0.1:11434
>>> rt.chat([{"role": "user", "content": "Hi"}], max_tokens=8).text
>>> rt.chat_stream(...).result.timings.decode_tps

For the OpenAI protocol on the same server use ``OpenAICompatRuntime(f"{host}/v1", model)``.
Ollama fills the prompt from the model's Modelfile TEMPLATE; tool calls are parsed by Ollama
from that template (the course template declares them as ``<tool_call>{...}</tool_call>``).
Ollama cannot force a named tool: a named ``tool_choice`` sends only that tool.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from edgeagents.errors import InvalidRequestError, RuntimeClosedError, UnsupportedFeatureError
from edgeagents.events import Operation
from edgeagents.runtimes import requests as rq
from edgeagents.runtimes.base import (
    Health,
    Message,
    Result,
    RuntimeInfo,
    Stopwatch,
    Stream,
    StreamChunk,
    ToolChoice,
    ToolSpec,
    Usage,
)
from edgeagents.runtimes.toolcalls import tool_call

CAPABILITIES = frozenset({"complete", "chat", "stream", "json_schema", "tools_auto"})


def _to_ollama_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    out = []
    for m in messages:
        msg: dict[str, Any] = {"role": m["role"], "content": m.get("content") or ""}
        if m.get("tool_calls"):
            calls = []
            for c in m["tool_calls"]:
                fn = c.get("function", {})
                call = tool_call(fn.get("name"), fn.get("arguments", {}), None)  # Ollama wants the arguments as a dict
                calls.append({"function": {"name": call.name, "arguments": call.arguments}})
            msg["tool_calls"] = calls
        out.append(msg)
    return out


class OllamaRuntime:
    """A model served by Ollama, with the same calls as every other runtime."""

    name = "ollama"

    def __init__(self, model: str = "edgeagents-course", host: str | None = None, *, timeout: float = 120.0) -> None:
        from edgeagents.ollama.manager import OllamaManager

        self.manager = OllamaManager(host, timeout=timeout)
        self.model = model
        self._closed = False

    def _check_open(self, parts: Any = None) -> None:
        """Raise :class:`RuntimeClosedError` after close(); a pending stream's response ``parts`` are closed first."""
        if self._closed:
            if parts is not None:
                parts.close()
            raise RuntimeClosedError("This ollama runtime was closed.")

    def _options(self, options: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        opts: dict[str, Any] = {"num_predict": rq.check_max_tokens(options.pop("max_tokens", 256))}
        opts["temperature"] = options.pop("temperature", 0.0)
        rq.check_sampling(opts["temperature"], options.get("top_p", 1.0), options.get("top_k", 0))
        for key in ("top_p", "top_k", "seed", "repeat_penalty", "min_p"):
            if key in options:
                opts[key] = options.pop(key)
        if "stop" in options:
            opts["stop"] = rq.check_stop(options.pop("stop"))
        fmt = None
        schema = options.pop("json_schema", None)
        if schema is not None:
            fmt = rq.check_json_schema(schema)
        if "response_format" in options:
            fmt = rq.schema_from_response_format(options.pop("response_format")) or fmt
        for unsupported in ("grammar", "logprobs"):
            if options.pop(unsupported, None) is not None:
                raise UnsupportedFeatureError(f"{unsupported} is not offered by Ollama's API.")
        if options:
            raise InvalidRequestError(f"Unknown option(s) {sorted(options)}.")
        return opts, fmt

    def _stream(self, call: Any, specs: list[ToolSpec], operation: Operation = "chat") -> Stream:
        manager = self.manager

        def run() -> Iterator[StreamChunk | Result]:
            self._check_open()
            watch = Stopwatch()
            text, last, calls = "", None, []
            try:
                parts = call()
                for part in parts:
                    self._check_open(parts)
                    last = part
                    msg = getattr(part, "message", None)
                    piece = (msg.content if msg is not None else part.response) or ""
                    for c in (msg.tool_calls or []) if msg is not None else []:
                        watch.mark_token()
                        calls.append(tool_call(c.function.name, c.function.arguments or {}, specs))
                    if piece:
                        watch.mark_token()
                        text += piece
                        yield StreamChunk(piece)
            except Exception as exc:
                if self._closed and not isinstance(exc, RuntimeClosedError):  # close() shut the connection
                    raise RuntimeClosedError("This ollama runtime was closed.") from None
                raise manager._translate(exc, self.model) from exc
            if last is None or not last.done:
                from edgeagents.errors import BackendError

                raise BackendError("Ollama's stream ended before the answer was done.")
            usage = Usage(last.prompt_eval_count or 0, last.eval_count or 0)
            finish = "tool_calls" if calls else ("length" if last.done_reason == "length" else "stop")
            yield Result(text, finish, usage, watch.timings(usage.prompt_tokens, usage.completion_tokens),
                         self.model, self.name, tuple(calls))

        return Stream(run(), origin=(self.name, self.model), operation=operation)

    def chat_stream(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] | None = None,
        tool_choice: ToolChoice = "auto", **options: Any,
    ) -> Stream:
        self._check_open()
        msgs = _to_ollama_messages(rq.check_messages(messages))
        specs = rq.check_tools(tools)
        mode, forced = rq.resolve_tool_choice(specs, tool_choice) if specs else ("none", None)
        if mode == "named":
            specs = [t for t in specs if t["function"]["name"] == forced]
        opts, fmt = self._options(dict(options))
        send_tools = specs if specs and mode != "none" else None
        client = self.manager.client
        return self._stream(
            lambda: client.chat(model=self.model, messages=msgs, tools=send_tools, stream=True, options=opts, format=fmt),
            send_tools or [],  # with tool_choice="none" no call is valid
        )

    def chat(self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] | None = None,
             tool_choice: ToolChoice = "auto", **options: Any) -> Result:
        stream = self.chat_stream(messages, tools=tools, tool_choice=tool_choice, **options)
        stream.text()
        assert stream.result is not None
        return stream.result

    def complete_stream(self, prompt: str, **options: Any) -> Stream:
        self._check_open()
        rq.check_text(prompt)
        opts, fmt = self._options(dict(options))
        client = self.manager.client
        return self._stream(
            lambda: client.generate(model=self.model, prompt=prompt, raw=True, stream=True, options=opts, format=fmt), [],
            "text_completion",
        )

    def complete(self, prompt: str, **options: Any) -> Result:
        stream = self.complete_stream(prompt, **options)
        stream.text()
        assert stream.result is not None
        return stream.result

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        raise UnsupportedFeatureError("Ollama does not expose prompt log-probabilities.", hint="Use LlamaCppRuntime for scoring.")

    def health(self) -> Health:
        if self._closed:
            return Health(False, "closed")
        return self.manager.health()

    def info(self) -> RuntimeInfo:
        return RuntimeInfo(self.name, self.model, 0, CAPABILITIES, {"host": self.manager.host})

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.manager.close()

    def __enter__(self) -> OllamaRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
