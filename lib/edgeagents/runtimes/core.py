"""What every runtime shares, so a backend writes only its decode loop, its prompt rendering and its own bits.

:class:`BaseRuntime` gives each backend:

* ``complete`` and ``chat`` over the backend's ``complete_stream`` and ``chat_stream``: one request is one
  stream read to its end, so every call reports through the same :class:`~edgeagents.runtimes.base.Stream`;
* the lifecycle: one closed flag, ``_check_open`` raising :class:`~edgeagents.errors.RuntimeClosedError`,
  an idempotent ``close`` that calls the backend's ``_release`` once, the context manager and the repr;
* one option parser (:class:`~edgeagents.runtimes.requests.GenerationOptions`);
* tool-call finishing for backends whose model writes its calls as ``<tool_call>`` text;
* :class:`StopBuffer`, the stop strings of a decode loop that sees the text as it grows.

An in-process backend sets ``_gate`` (a :class:`~edgeagents.runtimes.gate.ModelGate`): a whole ``chat`` or
``complete`` then holds it, so no other thread cancels the request between two tokens.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from edgeagents.errors import RuntimeClosedError, ToolCallError
from edgeagents.runtimes.base import Message, Result, Stream, ToolCall, ToolChoice, ToolSpec
from edgeagents.runtimes.chat_template import TOOL_CALL_CLOSE, TOOL_CALL_OPEN
from edgeagents.runtimes.gate import ModelGate
from edgeagents.runtimes.requests import GenerationOptions
from edgeagents.runtimes.toolcalls import parse_call_json, parse_tool_calls


class StopBuffer:
    """One reply's text as it streams: cut at the first stop string, holding back what could start one.

    A stop string may arrive split over several tokens, so the last ``max(len(stop))`` characters are streamed
    only once a later piece shows they are not the start of one. ``keep`` lists the stop strings that stay in
    the text (the tool-call tags the call parser needs).
    """

    def __init__(self, stop: Sequence[str], keep: Sequence[str] = ()) -> None:
        self.stop = list(stop)
        self.keep = tuple(keep)
        self.hold = max((len(s) for s in self.stop), default=0)
        self.text = ""
        self.emitted = 0

    def update(self, text: str) -> bool:
        """Take the reply's whole text so far; True when it reached a stop string (the text then ends there)."""
        hit = next((s for s in self.stop if s in text), None)
        if hit is None:
            self.text = text
            return False
        self.text = text[: text.index(hit) + (len(hit) if hit in self.keep else 0)]
        return True

    def ready(self) -> str:
        """The text that can be streamed now: none of it can be the start of a stop string."""
        safe = len(self.text) - self.hold
        if safe <= self.emitted:
            return ""
        piece, self.emitted = self.text[self.emitted:safe], safe
        return piece

    def rest(self) -> str:
        """What is left to stream once the reply has ended."""
        piece = self.text[self.emitted:]
        self.emitted = max(self.emitted, len(self.text))
        return piece


class BaseRuntime:
    """The shared half of every runtime; a subclass implements ``complete_stream``, ``chat_stream``,
    ``score``, ``health`` and ``info``, and frees what it holds in ``_release``."""

    name: str = "runtime"
    OPTIONS: ClassVar[Collection[str]] = GenerationOptions.NAMES
    """The generation options this backend accepts; any other is an ``InvalidRequestError``."""
    OPTION_DEFAULTS: ClassVar[Mapping[str, Any]] = {}
    """Defaults that differ from :class:`GenerationOptions`' (none of today's backends needs one)."""

    # Class-level defaults, so the flags exist before a subclass's __init__ has run (or when it failed).
    _closed: bool = False
    _released: bool = False
    _gate: ModelGate | None = None

    # ------------------------------------------------------------------ requests
    def complete_stream(self, prompt: str, **options: Any) -> Stream:
        raise NotImplementedError

    def chat_stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        tool_choice: ToolChoice = "auto",
        **options: Any,
    ) -> Stream:
        raise NotImplementedError

    def complete(self, prompt: str, **options: Any) -> Result:
        """Continue ``prompt``; the options are ``complete_stream``'s."""
        stream = self.complete_stream(prompt, **options)  # a bad request fails here, cancelling nothing
        with self._whole_request():
            stream.text()
        assert stream.result is not None
        return stream.result

    def chat(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        tool_choice: ToolChoice = "auto",
        **options: Any,
    ) -> Result:
        """Reply to a conversation. With ``tools``, ``tool_choice="auto"`` lets the model decide whether to call
        one; a tool name (or ``"required"``) forces a call where the backend can (``info().capabilities``
        lists ``tools_forced``)."""
        stream = self.chat_stream(messages, tools=tools, tool_choice=tool_choice, **options)
        with self._whole_request():
            stream.text()
        assert stream.result is not None
        return stream.result

    def _whole_request(self) -> AbstractContextManager[Any]:
        """What one whole call holds: the model's gate in-process, nothing over HTTP."""
        return self._gate.hold() if self._gate is not None else nullcontext()

    def _parse_options(self, options: Mapping[str, Any]) -> GenerationOptions:
        return GenerationOptions.parse(options, runtime=self.name, known=self.OPTIONS, defaults=self.OPTION_DEFAULTS)

    # ------------------------------------------------------------------ tool calls
    def _finish_chat(self, result: Result, mode: str, specs: list[ToolSpec]) -> Result:
        """Turn the ``<tool_call>`` text of a finished reply into tool calls.

        ``mode`` is :func:`~edgeagents.runtimes.requests.resolve_tool_choice`'s. A forced call (named or
        required) is the reply's whole text, opened by the runtime and written under a grammar; in auto mode the
        model may write calls among its text. A result that already carries calls is left as it is.
        """
        if result.tool_calls:
            return result
        text = result.text
        calls: list[ToolCall] = []
        if mode in ("named", "required"):
            if result.finish_reason == "length":
                raise ToolCallError(
                    "The forced tool call ran out of tokens before its JSON closed.",
                    raw=text,
                    hint="Raise max_tokens for tool calls with long arguments.",
                )
            calls = [parse_call_json(text[len(TOOL_CALL_OPEN):], specs, raw=text)]
            text = ""
        elif mode == "auto" and TOOL_CALL_OPEN in text:
            if TOOL_CALL_CLOSE not in text and result.finish_reason == "stop":
                text += TOOL_CALL_CLOSE  # the stop string was the closing tag
            text, calls = parse_tool_calls(text, specs)
        if calls:
            return replace(result, text=text, tool_calls=tuple(calls), finish_reason="tool_calls")
        return result

    # ------------------------------------------------------------------ lifecycle
    def _closed_error(self) -> RuntimeClosedError:
        return RuntimeClosedError(f"This {self.name} runtime was closed.")

    def _check_open(self, pending: Any = None) -> None:
        """Raise :class:`RuntimeClosedError` after close(); a pending response (``pending``) is closed first."""
        if self._closed:
            if pending is not None:
                pending.close()
            raise self._closed_error()

    def close(self) -> None:
        """Retire the runtime and free what it holds. Safe to call twice; every later request raises
        :class:`RuntimeClosedError`."""
        self._closed = True
        if not self._released:
            self._released = True
            self._release()

    def _release(self) -> None:
        """Free what the backend holds (its model, its connections); called once, by the first close()."""

    def __enter__(self) -> BaseRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _repr_model(self) -> str:
        return str(getattr(self, "model", ""))

    def _repr_state(self) -> str:
        """The state an open runtime shows in its repr."""
        return "open"

    def __repr__(self) -> str:
        state = "closed" if self._closed else self._repr_state()
        return f"<{type(self).__name__} {self._repr_model()}: {state}>"


__all__ = ["BaseRuntime", "StopBuffer"]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities from one row of logits, shifted by the maximum so that exp() cannot overflow."""
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())
