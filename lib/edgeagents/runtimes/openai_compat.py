"""Any OpenAI-compatible endpoint behind the course's runtime interface.

llama.cpp's server, Ollama (``/v1``), vLLM, LM Studio, and cloud APIs all speak the same
chat-completions protocol, so one class serves them all. The API key is read from an
environment variable (never written in a notebook).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from edgeagents.errors import (
    EdgeAgentsError,
    RuntimeClosedError,
    RuntimeUnavailableError,
    UnsupportedFeatureError,
)
from edgeagents.runtimes import requests as rq
from edgeagents.runtimes import transport
from edgeagents.runtimes.base import (
    Health,
    Message,
    Result,
    RuntimeInfo,
    Stopwatch,
    Stream,
    StreamChunk,
    ToolCall,
    ToolChoice,
    ToolSpec,
    Usage,
)
from edgeagents.runtimes.core import BaseRuntime
from edgeagents.runtimes.toolcalls import tool_call

# Not "tools_auto_constrained": auto-mode calls are written freely and parsed. vLLM's structured
# outputs (or llama.cpp server's lazy tool grammars) could constrain them once this runtime asks for it.
CAPABILITIES = frozenset({"complete", "chat", "stream", "json_schema", "tools_forced", "tools_auto"})


class OpenAICompatRuntime(BaseRuntime):
    """A model behind an OpenAI-compatible HTTP endpoint.

    Args:
        base_url: e.g. ``http://127.0.0.1:8080/v1``; default ``$OPENAI_BASE_URL``.
        model: the model name the server knows.
        api_key_env: the environment variable that holds the key (servers on your machine ignore it).
        timeout: seconds before a request fails with a typed error instead of hanging.
    """

    name = "openai-compatible"
    UNSUPPORTED: tuple[str, ...] = ("grammar", "logprobs", "top_k", "min_p", "repeat_penalty")
    """Options the chat-completions protocol has no field for."""

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 60.0,
        max_retries: int = 0,
        name: str | None = None,
    ) -> None:
        try:
            import openai
        except ImportError:
            raise RuntimeUnavailableError("The openai package is not installed.", hint="pip install openai") from None
        self._openai = openai
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not self.base_url:
            raise RuntimeUnavailableError(
                "No endpoint configured.", hint="Pass base_url=... or set OPENAI_BASE_URL (and the API key variable)."
            )
        self.model = model or os.environ.get("OPENAI_MODEL") or ""
        if name:
            self.name = name
        self.timeout = timeout
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=os.environ.get(api_key_env) or "not-needed-for-local-servers",
            timeout=timeout,
            max_retries=max_retries,
        )

    # --------------------------------------------------------------- errors
    def _peer(self) -> transport.Peer:
        return transport.Peer(self.base_url, model=self.model, timeout=self.timeout)

    def _translate(self, exc: Exception, *, answering: bool = False, chunks: int | None = None) -> EdgeAgentsError:
        if self._closed and not isinstance(exc, EdgeAgentsError):  # close() shut the connections under a pending stream
            return self._closed_error()
        return transport.translate(exc, self._peer(), answering=answering, chunks=chunks)

    def _cut_off(self, n_chunks: int) -> EdgeAgentsError:
        return transport.typed_error(transport.Failure("stream_broken"), self._peer(), chunks=n_chunks)

    def _check_finished(self, finish: str | None, n_chunks: int, resend: Callable[[], Any]) -> None:
        """A stream that ends without a finish_reason was cut off: it must never pass for a whole answer.

        An *empty* one is asked again without streaming (``resend``): llama-cpp-python's server answers a
        request it rejects (a prompt over the context window) with an empty event stream, but with an HTTP
        400 that says why when not streaming. That error, typed, is what the caller gets.
        """
        if finish is None:
            self._check_open()  # a stream cut short by close() is a closed runtime, not a failed server
            if n_chunks == 0:
                o = self._openai
                for attempt in range(2):  # the server may have reset the pooled connection the stream used
                    try:
                        resend()
                        break
                    except o.APIConnectionError as exc:
                        if attempt or isinstance(exc, o.APITimeoutError):
                            raise self._translate(exc) from exc
                    except Exception as exc:  # noqa: BLE001 - every failure is translated to a typed error
                        raise self._translate(exc) from exc
            raise self._cut_off(n_chunks)

    def _stream_error(self, exc: Exception, answering: bool, n_chunks: int) -> EdgeAgentsError:
        """A connection lost after the server began its answer is a cut-off stream, not a server never reached."""
        if self._closed:
            return RuntimeClosedError(f"This {self.name} runtime was closed while the stream was being read.")
        return self._translate(exc, answering=answering, chunks=n_chunks)

    # --------------------------------------------------------------- requests
    def _params(self, options: dict[str, Any]) -> dict[str, Any]:
        """The request's options as chat-completions parameters: max_tokens and temperature always, the rest
        only when given, so the server's defaults apply to them."""
        for unsupported in self.UNSUPPORTED:
            if options.pop(unsupported, None) is not None:
                raise UnsupportedFeatureError(f"{unsupported} is not part of the OpenAI protocol used by {self.name}.")
        o = self._parse_options(options)
        params: dict[str, Any] = {"model": self.model, "max_tokens": o.max_tokens,
                                  "temperature": o.temperature, **o.given_values("top_p", "seed")}
        if "stop" in options:
            params["stop"] = list(o.stop) or None
        if options.get("json_schema") is not None:
            params["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": o.json_schema}}
        if "response_format" in options:
            params["response_format"] = o.response_format
        return params

    def _result(self, text: str, finish: str | None, usage: Any, watch: Stopwatch, calls: list[ToolCall], n_chunks: int) -> Result:
        prompt_tokens = getattr(usage, "prompt_tokens", 0) or 0
        completion_tokens = getattr(usage, "completion_tokens", 0) or n_chunks
        return Result(
            text=text,
            finish_reason="tool_calls" if calls else ("length" if finish == "length" else "stop"),
            usage=Usage(prompt_tokens, completion_tokens),
            timings=watch.timings(prompt_tokens, completion_tokens),
            model=self.model,
            runtime=self.name,
            tool_calls=tuple(calls),
        )

    def chat_stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        tool_choice: ToolChoice = "auto",
        **options: Any,
    ) -> Stream:
        self._check_open()
        msgs = rq.check_messages(messages)
        specs = rq.check_tools(tools)
        mode, forced = rq.resolve_tool_choice(specs, tool_choice)
        params = self._params(dict(options))
        if specs and mode != "none":
            params["tools"] = specs
            params["tool_choice"] = (
                {"type": "function", "function": {"name": forced}} if mode == "named" else mode
            )

        def run() -> Iterator[StreamChunk | Result]:
            self._check_open()
            watch = Stopwatch()
            text, finish, usage, n = "", None, None, 0
            pieces: dict[int, dict[str, str]] = {}
            stream = None
            try:
                stream = self._client.chat.completions.create(
                    messages=msgs, stream=True, stream_options={"include_usage": True}, **params
                )
                for chunk in stream:
                    self._check_open(stream)
                    if chunk.usage is not None:
                        usage = chunk.usage
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    delta = choice.delta
                    if delta.content:
                        watch.mark_token()
                        n += 1
                        text += delta.content
                        yield StreamChunk(delta.content)
                    for tc in delta.tool_calls or []:
                        watch.mark_token()
                        slot = pieces.setdefault(tc.index, {"name": "", "arguments": ""})
                        if tc.function and tc.function.name and not slot["name"]:
                            slot["name"] = tc.function.name  # some servers repeat the name in every chunk
                        if tc.function and tc.function.arguments:
                            slot["arguments"] += tc.function.arguments
                    finish = choice.finish_reason or finish
            except Exception as exc:
                raise self._stream_error(exc, stream is not None, n) from exc
            self._check_finished(finish, n, lambda: self._client.chat.completions.create(messages=msgs, **params))
            calls = [tool_call(p["name"], p["arguments"], specs) for _, p in sorted(pieces.items())]
            yield self._result(text, finish, usage, watch, calls, n)

        return Stream(run(), origin=(self.name, self.model))

    def complete_stream(self, prompt: str, **options: Any) -> Stream:
        self._check_open()
        rq.check_text(prompt)
        params = self._params(dict(options))
        params.pop("response_format", None)

        def run() -> Iterator[StreamChunk | Result]:
            self._check_open()
            watch = Stopwatch()
            text, finish, usage, n = "", None, None, 0
            stream = None
            try:
                # include_usage: vLLM then reports the prompt's token count (llama-cpp-python's server sends no usage in streams)
                stream = self._client.completions.create(prompt=prompt, stream=True,
                                                         stream_options={"include_usage": True}, **params)
                for chunk in stream:
                    self._check_open(stream)
                    if getattr(chunk, "usage", None) is not None:
                        usage = chunk.usage
                    if not chunk.choices:
                        continue
                    piece = chunk.choices[0].text or ""
                    if piece:
                        watch.mark_token()
                        n += 1
                        text += piece
                        yield StreamChunk(piece)
                    finish = chunk.choices[0].finish_reason or finish
            except Exception as exc:
                raise self._stream_error(exc, stream is not None, n) from exc
            self._check_finished(finish, n, lambda: self._client.completions.create(prompt=prompt, **params))
            yield self._result(text, finish, usage, watch, [], n)

        return Stream(run(), origin=(self.name, self.model), operation="text_completion")

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        raise UnsupportedFeatureError(
            f"{self.name} does not expose prompt log-probabilities.", hint="Use LlamaCppRuntime for scoring."
        )

    def models(self) -> list[str]:
        self._check_open()
        try:
            return [m.id for m in self._client.models.list()]
        except Exception as exc:
            raise self._translate(exc) from exc

    def health(self) -> Health:
        if self._closed:
            return Health(False, "closed")
        watch = Stopwatch()
        try:
            models = self.models()
        except EdgeAgentsError as exc:
            return Health(False, exc.message, watch.timings(0, 0).total_s)
        return Health(True, f"{len(models)} model(s) at {self.base_url}", watch.timings(0, 0).total_s)

    def info(self) -> RuntimeInfo:
        return RuntimeInfo(self.name, self.model, 0, CAPABILITIES, {"base_url": self.base_url})

    def _release(self) -> None:
        self._client.close()

    def _repr_model(self) -> str:
        return f"{self.model} at {self.base_url}"
