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

from edgeagents.errors import RuntimeClosedError, UnsupportedFeatureError
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
from edgeagents.runtimes.core import BaseRuntime
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


class OllamaRuntime(BaseRuntime):
    """A model served by Ollama, with the same calls as every other runtime."""

    name = "ollama"

    def __init__(self, model: str = "edgeagents-course", host: str | None = None, *, timeout: float = 120.0) -> None:
        from edgeagents.runtimes.ollama.manager import OllamaManager

        self.manager = OllamaManager(host, timeout=timeout)
        self.model = model

    def _options(self, options: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """Ollama's ``options`` and ``format``: num_predict and temperature always, the other sampling options
        only when given, so the model's Modelfile defaults apply to them."""
        for unsupported in ("grammar", "logprobs"):
            if options.pop(unsupported, None) is not None:
                raise UnsupportedFeatureError(f"{unsupported} is not offered by Ollama's API.")
        o = self._parse_options(options)
        opts: dict[str, Any] = {"num_predict": o.max_tokens, "temperature": o.temperature,
                                **o.given_values("top_p", "top_k", "seed", "repeat_penalty", "min_p")}
        if "stop" in options:
            opts["stop"] = list(o.stop)
        return opts, o.json_schema

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
                    raise self._closed_error() from None
                raise manager._translate(exc, self.model) from exc
            if last is None or not last.done:
                raise manager._cut_off(self.model)
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

    def complete_stream(self, prompt: str, **options: Any) -> Stream:
        self._check_open()
        rq.check_text(prompt)
        opts, fmt = self._options(dict(options))
        client = self.manager.client
        return self._stream(
            lambda: client.generate(model=self.model, prompt=prompt, raw=True, stream=True, options=opts, format=fmt), [],
            "text_completion",
        )

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        raise UnsupportedFeatureError("Ollama does not expose prompt log-probabilities.", hint="Use LlamaCppRuntime for scoring.")

    def health(self) -> Health:
        if self._closed:
            return Health(False, "closed")
        return self.manager.health()

    def info(self) -> RuntimeInfo:
        return RuntimeInfo(self.name, self.model, 0, CAPABILITIES, {"host": self.manager.host})

    def _release(self) -> None:
        self.manager.close()

    def _repr_model(self) -> str:
        return f"{self.model} at {self.manager.host}"
