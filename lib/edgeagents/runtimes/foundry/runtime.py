"""Foundry Local in-process: Microsoft's edge runtime through its Python SDK (``foundry-local-sdk`` 2.x).

On Linux there is no Foundry Local CLI or service to install: the SDK loads Foundry Local's native
library (and ONNX Runtime GenAI) into this Python process. The course model comes in as a
*bring-your-own* model from the forge's ONNX folder (see :mod:`edgeagents.runtimes.foundry.byom`); with a
network, an alias from Microsoft's public catalog (``phi-4-mini``, ``qwen2.5-0.5b``…) goes through
the same code path.

>>> from edgeagents.runtimes.foundry.runtime import FoundryLocalRuntime
>>> rt = FoundryLocalRuntime()                  # the course model, registered and loaded
>>> rt.chat([{"role": "user", "content": "Hi"}], max_tokens=16).text
>>> rt.unload(); rt.close()

How requests run: every request opens a fresh ``ChatSession`` (so requests never share history),
sends the prompt the course rendered itself, streams the items, and closes the session.

Tool calls: the course model writes ``<tool_call>{...}</tool_call>`` as text, parsed by
:mod:`edgeagents.runtimes.toolcalls`. Foundry's *native* tool calling (``ToolCallItem``) needs
a model whose ``genai_config.json`` declares tool-call marker tokens that are single tokens of its
vocabulary, which the base Gemma model does not have. A forced call (``tool_choice=<name>``)
starts the reply with ``<tool_call>`` but, unlike llama.cpp, no grammar keeps the JSON valid,
so a weak model's broken call becomes a :class:`~edgeagents.errors.ToolCallError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from edgeagents.errors import (
    BackendError,
    ContextOverflowError,
    EdgeAgentsError,
    InvalidRequestError,
    ModelInUseError,
    ModelNotFoundError,
    RuntimeClosedError,
    ToolCallError,
    UnsupportedFeatureError,
)
from edgeagents.measure import Timer, rss_mb
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
from edgeagents.runtimes.chat_template import END, TOOL_CALL_CLOSE, TOOL_CALL_OPEN, render_chat_text
from edgeagents.runtimes.core import BaseRuntime, StopBuffer
from edgeagents.runtimes.foundry import byom, catalog, sdk
from edgeagents.runtimes.gate import ModelGate
from edgeagents.runtimes.toolcalls import tool_call
from edgeagents.settings import load_settings

CAPABILITIES = frozenset({"complete", "chat", "stream", "tools_auto", "tools_forced"})
BOS = "<bos>"
KNOWN_OPTIONS = {"max_tokens", "temperature", "top_p", "top_k", "seed", "stop"}


class FoundryStream(Stream):
    """A :class:`Stream` that can be closed early (which ends its Foundry session)."""

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()


class FoundryLocalRuntime(BaseRuntime):
    """A model served by Foundry Local in this process.

    Args:
        model: ``"course"`` (default): the course model from the forge's ONNX folder, registered
            as ``edgeagents-course:1``; a path to any ONNX Runtime GenAI folder (registered under
            ``name``); or a public-catalog alias (``"phi-4-mini"``), downloaded when not cached.
        n_ctx: context window (default ``EDGEAGENTS_N_CTX``); written into the registration.
        load: load the model now (default) or later with :meth:`load`.
        name: local registration name for a path (default ``edgeagents-course``).
    """

    name = "foundry-local"
    OPTIONS = KNOWN_OPTIONS

    def __init__(
        self,
        model: str | Path | None = "course",
        *,
        n_ctx: int | None = None,
        load: bool = True,
        name: str | None = None,
        version: int = 1,
    ) -> None:
        self.n_ctx = int(n_ctx or load_settings().n_ctx)
        self._gate = ModelGate(self.name)
        self._sessions: set[Any] = set()  # the Foundry sessions of unfinished requests
        self._loaded_here = False  # runtimes on one registration share its loaded model
        self.load_s: float | None = None
        self.load_rss_mb: float | None = None
        sdk.manager()
        self._model, self.source = self._resolve(model, name, version)
        self.model_id: str = self._model.id
        sdk.on_close(self)
        if load:
            self.load()

    # ------------------------------------------------------------------ model
    def _resolve(self, model: str | Path | None, name: str | None, version: int) -> tuple[Any, str]:
        if model is None or model == "course":
            return byom.ensure_registered(name=name or byom.COURSE_NAME, version=version, n_ctx=self.n_ctx), "byom"
        text = str(model)
        if isinstance(model, Path) or "/" in text or text.startswith(("~", ".")):
            reg = byom.ensure_registered(model, name=name or byom.COURSE_NAME, version=version, n_ctx=self.n_ctx)
            return reg, "byom"
        rq.check_text(text, "model alias")
        local = byom.find_registered(text) if ":" in text else None
        if local is not None:
            return local, "byom"
        snap = catalog.public_catalog()
        found = sdk.manager().catalog.get_model(text) if snap.online else None
        if found is None:
            where = "the public catalog is offline (no network)" if not snap.online else "the public catalog has no such alias"
            raise ModelNotFoundError(
                f"Foundry Local has no model {text!r}: {where}, and no local model is registered under that id.",
                hint="Use model='course' (the course model, offline), a registered 'name:version', "
                "or with a network an alias such as 'phi-4-mini' (see catalog.public_catalog().aliases).",
            )
        if not found.is_cached:
            found.download()
        return found, "catalog"

    def load(self) -> float:
        """Load the model (no-op when loaded). Returns the load time in seconds."""
        self._check_open()
        if self._model.is_loaded:
            return 0.0
        before = rss_mb()
        try:
            with Timer() as t:
                self._model.load()
        except Exception as exc:
            from edgeagents.errors import CorruptModelError

            raise CorruptModelError(
                f"Foundry Local could not load {self.model_id}: {sdk.sdk_error_text(exc)}",
                hint="Rebuild the ONNX folder (`edgeagents models build --only onnx`) and register it again.",
            ) from None
        self.load_s = t.seconds
        self.load_rss_mb = rss_mb() - before
        self._loaded_here = True
        return t.seconds

    def unload(self) -> None:
        """Unload the model (keeps the registration). Refused while a stream is still open."""
        if self._closed:
            return
        if self._sessions:
            raise ModelInUseError(f"{self.model_id} has {len(self._sessions)} unfinished stream(s).")
        if self._model.is_loaded:
            byom.unload_model(self._model)

    @property
    def is_loaded(self) -> bool:
        return not self._closed and bool(self._model.is_loaded)

    # ------------------------------------------------------------------ helpers
    def _closed_error(self) -> RuntimeClosedError:
        return RuntimeClosedError(f"This {self.name} runtime ({self.model_id}) was closed.")

    def _check_open(self, pending: Any = None) -> None:
        super()._check_open(pending)
        if sdk.current_manager() is None:
            self._closed = True
            raise RuntimeClosedError("The Foundry Local manager was closed, so this runtime cannot serve requests.")

    def _manager_closing(self) -> None:
        """The manager is about to end every session: stop ours first, so none outlives it."""
        self._closed = True
        self._gate.close(lambda: None)

    def _end_session(self, session: Any) -> None:
        """Close a request's session; a streaming request still running natively is cancelled and joined."""
        self._sessions.discard(session)
        try:
            session._close()
        except Exception:  # closing is best effort: the session may already be gone with the manager
            pass

    def _options(self, options: dict[str, Any]) -> dict[str, Any]:
        unknown = set(options) - KNOWN_OPTIONS
        if unknown:
            if unknown & {"json_schema", "grammar", "response_format", "logprobs"}:
                raise UnsupportedFeatureError(
                    f"Foundry Local's SDK has no {sorted(unknown)} (no constrained decoding or log-probabilities).",
                    hint="Use the llama.cpp runtime for grammars, JSON schemas and logprobs.",
                )
        o = self._parse_options(options)  # an unknown option that is not a constrained one fails here
        return {"max_tokens": o.max_tokens, "temperature": o.temperature, "top_p": o.top_p, "top_k": o.top_k,
                "seed": o.seed, "stop": list(o.stop)}

    def _request_options(self, opts: dict[str, Any]):  # noqa: ANN202
        fl = sdk.require_sdk()
        greedy = opts["temperature"] == 0
        search = fl.SearchOptions(
            max_output_tokens=opts["max_tokens"],
            do_sample=not greedy,
            temperature=None if greedy else opts["temperature"],
            top_p=None if greedy else opts["top_p"],
            top_k=None if greedy else (opts["top_k"] or None),
            seed=opts["seed"],
        )
        return fl.RequestOptions(search=search)

    # ------------------------------------------------------------------ generation
    def _generate(
        self, prompt: str, opts: dict[str, Any], *, prefix_text: str = "", keep_stop: Sequence[str] = ()
    ) -> Iterator[StreamChunk | Result]:
        """One request: a fresh session, the prompt as one message, streamed items, then the Result."""
        fl = sdk.require_sdk()
        self._check_open()
        if not self._model.is_loaded:
            raise InvalidRequestError(
                f"{self.model_id} is not loaded.", hint="Call runtime.load() first (unload() frees it)."
            )
        buf = StopBuffer(opts["stop"], keep_stop)
        session = None
        try:
            session = fl.ChatSession(self._model)
            self._sessions.add(session)
            # Foundry keeps generating in a thread of its own: a request that cancels this stream ends it.
            self._gate.on_cancel(lambda: self._end_session(session))
            session.set_options(self._request_options(opts))
            session.set_streaming(True)
            with fl.Request().add_item(fl.MessageItem.user(BOS + prompt)) as request:
                try:
                    budget = session.preflight_request(request)
                except Exception:
                    budget = None
                if budget is not None and not budget.fits:
                    raise ContextOverflowError(budget.prompt_tokens, opts["max_tokens"], budget.context_limit_tokens)
                prompt_tokens = budget.prompt_tokens if budget is not None else 0
                watch = Stopwatch()
                finish, pieces = "length", 0
                if prefix_text:
                    yield StreamChunk(prefix_text)
                stream = session.process_streaming_request(request)
                with stream:
                    hit = False
                    for item in stream:
                        self._gate.check()
                        if not isinstance(item, fl.TextItem) or item.type == fl.TextItemType.REASONING:
                            continue
                        watch.mark_token()
                        pieces += 1
                        hit = buf.update(buf.text + item.text)
                        if hit:
                            finish = "stop"
                            break  # leaving the loop cancels the native request
                        if piece := buf.ready():
                            yield StreamChunk(piece)
                    usage = None
                    if not hit:
                        with stream.final_response as final:
                            reason = final.finish_reason
                            usage = final.get_usage()
                        finish = "stop" if reason == fl.FinishReason.STOP else "length"
                        if reason == fl.FinishReason.ERROR:
                            raise BackendError(f"Foundry Local reported an error finishing the reply to {self.model_id}.")
                if END in buf.text:  # the end-of-turn marker, if the tokenizer let it through
                    buf.text, finish = buf.text[: buf.text.index(END)], "stop"
                if piece := buf.rest():
                    yield StreamChunk(piece)
                completion = usage.completion_tokens if usage is not None else pieces
                prompt_tokens = usage.prompt_tokens if usage is not None and usage.prompt_tokens else prompt_tokens
                yield Result(
                    text=prefix_text + buf.text,
                    finish_reason=finish,  # type: ignore[arg-type]
                    usage=Usage(prompt_tokens, completion),
                    timings=watch.timings(prompt_tokens, completion),
                    model=self.model_id,
                    runtime=self.name,
                )
        except EdgeAgentsError:
            raise
        except Exception as exc:
            if self._closed or sdk.current_manager() is None:
                raise RuntimeClosedError(f"The runtime closed during the request: {sdk.sdk_error_text(exc)}") from None
            raise BackendError(f"Foundry Local failed while generating: {sdk.sdk_error_text(exc)}") from exc
        finally:
            if session is not None:
                self._end_session(session)

    # ------------------------------------------------------------------ completion
    def complete_stream(self, prompt: str, **options: Any) -> FoundryStream:
        """Continue ``prompt`` (raw text; ``<bos>`` is added). Options: max_tokens, temperature, top_p, top_k, seed, stop."""
        self._check_open()
        rq.check_text(prompt)
        opts = self._options(options)
        return FoundryStream(self._gate.guard(self._generate(prompt, opts)), origin=(self.name, self.model_id),
                             operation="text_completion")

    # ------------------------------------------------------------------ chat
    def _chat_plan(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None, tool_choice: ToolChoice, options: dict
    ) -> tuple[str, dict[str, Any], str, list[ToolSpec], str | None]:
        self._check_open()
        msgs = rq.check_messages(messages)
        specs = rq.check_tools(tools)
        mode, forced = rq.resolve_tool_choice(specs, tool_choice)
        opts = self._options(options)
        prompt = render_chat_text(msgs, specs if mode != "none" else [], escape=True)
        if mode == "auto":
            opts["stop"] = [*opts["stop"], TOOL_CALL_CLOSE]
        return prompt, opts, mode, specs, forced

    def _step(self, prompt: str, opts: dict[str, Any], stop: list[str], max_tokens: int) -> Iterator[StreamChunk | Result]:
        step_opts = {**opts, "stop": stop, "max_tokens": max_tokens}
        return self._generate(prompt, step_opts)

    def _guided_call(
        self, prompt: str, opts: dict[str, Any], specs: list[ToolSpec], forced: str | None
    ) -> Iterator[StreamChunk | Result]:
        """A forced tool call without a grammar: the runtime writes the JSON skeleton, the model fills each value.

        Foundry's SDK cannot constrain decoding, and a small base model rarely writes valid call JSON
        on its own. So the call is built field by field: ``{"name": "<tool>", "arguments": {"key": "``
        is written into the prompt and the model writes only the value, stopping at its closing quote
        (strings) or at a delimiter (numbers, booleans). The result is checked against the tool's
        schema like any other call. One short request per argument.
        """
        by_name = {t["function"]["name"]: t["function"] for t in specs}
        text = TOOL_CALL_OPEN + '{"name": "'
        results: list[Result] = []
        yield StreamChunk(text)

        def run_step(stop: list[str], max_tokens: int) -> str:
            piece = ""
            for item in self._step(prompt + text, opts, stop, max_tokens):
                if isinstance(item, Result):
                    results.append(item)
                    piece = item.text
            return piece

        if forced is None and len(by_name) == 1:
            forced = next(iter(by_name))
        if forced is None:  # "required" among several: the model names the tool, which must be one of them
            said = run_step(['"'], 16).strip()
            forced = next((n for n in by_name if n == said), None) or next(
                (n for n in by_name if said and (n.startswith(said) or said.startswith(n))), None
            )
            if forced is None:
                raise ToolCallError(f"The model named no known tool: {said!r}.", raw=text + said)
        fn = by_name[forced]
        head = f'{forced}", "arguments": {{'
        text += head
        yield StreamChunk(head)
        params = fn.get("parameters") or {}
        props = params.get("properties", {})
        args: dict[str, Any] = {}
        for i, key in enumerate(params.get("required", [])):
            kind = (props.get(key) or {}).get("type", "string")
            lead = (", " if i else "") + json.dumps(key) + ": " + ('"' if kind == "string" else "")
            text += lead
            yield StreamChunk(lead)
            if kind == "string":
                raw = run_step(['"', "\n"], 48)
                value: Any = raw
                text += json.dumps(raw)[1:]  # the value, escaped, and its closing quote
                yield StreamChunk(json.dumps(raw)[1:])
            elif kind in ("integer", "number", "boolean"):
                raw = run_step([",", "}", "\n"], 12).strip()
                try:
                    value = json.loads(raw)
                except json.JSONDecodeError:
                    raise ToolCallError(f"The model wrote {raw!r} for {key!r}, not a {kind}.", raw=text + raw, tool_name=forced) from None
                text += raw
                yield StreamChunk(raw)
            else:
                raise UnsupportedFeatureError(
                    f"A forced call needs flat arguments; {key!r} is of type {kind!r}.",
                    hint="Use tool_choice='auto', or the llama.cpp runtime (its grammar handles nested schemas).",
                )
            args[key] = value
        tail = "}}" + TOOL_CALL_CLOSE
        text += tail
        yield StreamChunk(tail)
        call = tool_call(forced, args, specs, raw=text)
        usage = Usage(results[0].usage.prompt_tokens if results else 0, sum(r.usage.completion_tokens for r in results))
        first = results[0].timings if results else None
        total = sum(r.timings.total_s for r in results)
        from edgeagents.runtimes.base import Timings

        yield Result(
            text="",
            finish_reason="tool_calls",
            usage=usage,
            timings=Timings(first.ttft_s if first else 0.0, total, usage.prompt_tokens, usage.completion_tokens),
            model=self.model_id,
            runtime=self.name,
            tool_calls=(call,),
        )

    def chat_stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        tool_choice: ToolChoice = "auto",
        **options: Any,
    ) -> FoundryStream:
        """Stream a reply in the course chat format; tool calls are parsed when the stream ends.

        ``tool_choice="auto"`` lets the model write ``<tool_call>`` text; a tool name or ``"required"``
        builds the call field by field (see :meth:`_guided_call`).
        """
        prompt, opts, mode, specs, forced = self._chat_plan(messages, tools, tool_choice, options)

        def run() -> Iterator[StreamChunk | Result]:
            if mode in ("named", "required"):
                gen = self._guided_call(prompt, opts, specs, forced)
            else:
                gen = self._generate(prompt, opts, keep_stop=(TOOL_CALL_CLOSE,))
            try:
                for item in gen:
                    yield self._finish_chat(item, mode, specs) if isinstance(item, Result) else item
            finally:
                gen.close()  # an abandoned stream ends its Foundry session now

        return FoundryStream(self._gate.guard(run()), origin=(self.name, self.model_id))

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        raise UnsupportedFeatureError(
            "Foundry Local's SDK returns text, not log-probabilities, so it cannot score continuations.",
            hint="Score with the llama.cpp runtime (LlamaCppRuntime.score).",
        )

    # ------------------------------------------------------------------ lifecycle
    def health(self) -> Health:
        """OK while the manager is open and the model registered; loaded or not is in the detail (and ``is_loaded``)."""
        if self._closed or sdk.current_manager() is None:
            return Health(False, "closed")
        watch = Stopwatch()
        try:
            loaded = bool(self._model.is_loaded)
        except Exception as exc:
            return Health(False, f"the SDK did not answer: {sdk.sdk_error_text(exc)}")
        detail = f"{self.model_id} {'loaded' if loaded else 'registered, not loaded (load() on demand)'} in-process"
        return Health(True, detail, watch.timings(0, 0).total_s)

    def info(self) -> RuntimeInfo:
        details: dict[str, Any] = {
            "model_id": self.model_id,
            "source": self.source,
            "closed": self._closed,
            "load_s": self.load_s,
            "load_rss_mb": self.load_rss_mb,
            **sdk.versions(),
        }
        if not self._closed:
            try:
                details.update(catalog.describe(self._model))
                details["path"] = self._model.get_path()
            except Exception:
                pass
        return RuntimeInfo(self.name, self.model_id, self.n_ctx, CAPABILITIES, details)

    def _release(self) -> None:
        """close() unloads the model (if this runtime loaded it) and retires the runtime; the registration stays.

        From any thread: a request running in another thread stops at its next token with
        :class:`RuntimeClosedError` and is waited for; a half-read stream's session is ended first.
        """
        self._gate.close(self._unload_own)

    def _unload_own(self) -> None:
        if self._loaded_here and sdk.current_manager() is not None and not self._sessions:
            if self._model.is_loaded:
                self._model.unload()

    def _repr_model(self) -> str:
        return self.model_id

    def _repr_state(self) -> str:
        return "loaded" if self._model.is_loaded else "not loaded"


__all__ = ["FoundryLocalRuntime", "FoundryStream"]
