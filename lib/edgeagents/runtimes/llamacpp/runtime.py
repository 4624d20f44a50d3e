"""llama.cpp in-process: the course's default runtime.

Runs a GGUF model inside the notebook's own Python process through ``llama-cpp-python``:
no server to install, ~0.4 GB of memory for the course model. The generation loop is the
library's own (on top of ``Llama.generate``) so it can time the first token, stop on the
course chat format's end-of-turn marker, constrain output with a grammar, and report
log-probabilities without keeping logits for every position.

>>> from edgeagents.runtimes import LlamaCppRuntime
>>> rt = LlamaCppRuntime()                # the course model, settings from the environment
>>> rt.complete("The capital of France is", max_tokens=8).text
"""

from __future__ import annotations

import ctypes
import json
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from edgeagents.errors import (
    BackendError,
    CorruptModelError,
    EdgeAgentsError,
    InvalidRequestError,
    RuntimeClosedError,
    RuntimeUnavailableError,
)
from edgeagents.models.course import ModelSpec, resolve_model
from edgeagents.runtimes import requests as rq
from edgeagents.runtimes.base import (
    Health,
    Message,
    Result,
    RuntimeInfo,
    Stopwatch,
    Stream,
    StreamChunk,
    Timings,
    TokenLogprob,
    ToolChoice,
    ToolSpec,
    Usage,
)
from edgeagents.runtimes.chat_template import END, TOOL_CALL_CLOSE, TOOL_CALL_OPEN, Segment, render_chat
from edgeagents.runtimes.core import BaseRuntime, StopBuffer, log_softmax
from edgeagents.runtimes.gate import ModelGate
from edgeagents.runtimes.tool_grammar import call_schema, unenforced_tool_features
from edgeagents.settings import load_settings

# tools_auto_constrained: in tool_choice="auto" the model still decides whether to call, but a call it
# starts is written under a grammar from the tools' schemas (tool_grammar=False turns it off).
CAPABILITIES = frozenset(
    {
        "complete", "chat", "stream", "json_schema", "grammar", "tools_forced", "tools_auto",
        "tools_auto_constrained", "logprobs", "score",
    }
)


class _ChatPlan(NamedTuple):
    tokens: list[int]
    opts: dict[str, Any]
    mode: str
    specs: list[ToolSpec]
    prefix: str
    call_grammar: Any  # auto mode: the grammar a started call is written under (None: written freely)


_LLAMA_LOG: deque[str] = deque(maxlen=40)
"""llama.cpp's own log lines (most recent last). They are kept here instead of printed, so lab
outputs stay readable; a load error quotes the last few."""
_log_callback = None  # the ctypes callback must stay referenced while llama.cpp holds it


def _keep_llama_logs(llama_cpp) -> None:  # noqa: ANN001 - the llama_cpp module
    global _log_callback
    if _log_callback is not None:
        return

    @llama_cpp.llama_log_callback
    def _callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:  # noqa: ARG001
        line = text.decode("utf-8", "replace").rstrip()
        if line:
            _LLAMA_LOG.append(line)

    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))
    _log_callback = _callback


def llama_log_tail(n: int = 5) -> list[str]:
    """The last ``n`` lines llama.cpp logged in this process."""
    return list(_LLAMA_LOG)[-n:]


def _import_llama_cpp():  # noqa: ANN202
    try:
        import llama_cpp
    except ImportError as exc:  # pragma: no cover - the default install has it
        raise RuntimeUnavailableError(
            f"llama-cpp-python is not installed ({exc}).", hint="Run `make setup`, or pip install llama-cpp-python."
        ) from None
    _keep_llama_logs(llama_cpp)
    return llama_cpp


class LlamaCppRuntime(BaseRuntime):
    """The course model (or any GGUF) running in-process with llama.cpp.

    Args:
        model: ``None`` or ``"course"`` for the course model, ``"base"`` for the plain base
            model, a path to a ``.gguf`` file, or a :class:`ModelSpec` (file + optional LoRA adapter).
        n_ctx: context window in tokens (default ``EDGEAGENTS_N_CTX`` or 2048).
        n_threads: decode threads (default ``EDGEAGENTS_THREADS``: see :mod:`edgeagents.settings`).
        n_threads_batch: prompt-processing threads (default ``EDGEAGENTS_BATCH_THREADS``).
        n_batch: prompt tokens evaluated per step.
        seed: default sampling seed; each request can pass its own.
    """

    name = "llama.cpp"

    def __init__(
        self,
        model: ModelSpec | str | Path | None = None,
        *,
        n_ctx: int | None = None,
        n_threads: int | None = None,
        n_threads_batch: int | None = None,
        n_batch: int = 256,
        seed: int = 0,
    ) -> None:
        settings = load_settings()
        self.spec = resolve_model(model)
        self._origin = (self.name, self.spec.label)  # what this runtime's request events name
        self.n_ctx = int(n_ctx or settings.n_ctx)
        self.n_threads = int(n_threads or settings.n_threads)
        self.n_threads_batch = int(n_threads_batch or n_threads or settings.n_threads_batch)
        if self.n_ctx < 64:
            raise InvalidRequestError(f"n_ctx={self.n_ctx} is too small; use at least 64 tokens.")
        self.seed = seed
        llama_cpp = _import_llama_cpp()
        self._llama_cpp = llama_cpp
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(self.spec.path),
                lora_path=str(self.spec.adapter_path) if self.spec.adapter_path else None,
                n_ctx=self.n_ctx,
                n_batch=min(n_batch, self.n_ctx),
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads_batch,
                seed=seed,
                logits_all=False,
                verbose=False,
            )
        except ValueError as exc:
            log = "; ".join(llama_log_tail(3))
            raise CorruptModelError(
                f"llama.cpp could not load {self.spec.label}: {exc}" + (f" (llama.cpp said: {log})" if log else "")
            ) from None
        self._vocab = self._llm.n_vocab()
        self._eog = {self._llm.token_eos()}
        end_ids = self._llm.tokenize(END.encode(), add_bos=False, special=True)
        if len(end_ids) == 1:
            self._eog.add(end_ids[0])
        self._special_ids: np.ndarray | None = None
        self._gate = ModelGate(self.name)

    # ------------------------------------------------------------------ helpers
    def tokenize(self, text: str, *, add_bos: bool = True, special: bool = False) -> list[int]:
        """Token ids of ``text`` as the model sees it (with ``<bos>`` first by default)."""
        self._check_open()
        rq.check_text(text, "text", allow_empty=True)
        return self._tokens(text, add_bos=add_bos, special=special)

    def detokenize(self, tokens: Sequence[int]) -> str:
        self._check_open()
        with self._gate.reading():
            return self._llm.detokenize(list(tokens), special=True).decode("utf-8", errors="replace")

    def token_pieces(self, text: str) -> list[str]:
        """Each token of ``text`` as a string, to see how the tokenizer splits it."""
        return [self.detokenize([t]) for t in self.tokenize(text, add_bos=False)]

    def _tokens(self, text: str, *, add_bos: bool, special: bool) -> list[int]:
        """Tokenize under the gate's read guard, so a close() in another thread waits instead of freeing it."""
        with self._gate.reading():
            return self._llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=special)

    def _segments_to_tokens(self, segments: Sequence[Segment]) -> list[int]:
        tokens = [self._llm.token_bos()]
        for seg in segments:
            if seg.text:
                tokens += self._tokens(seg.text, add_bos=False, special=seg.special)
        return tokens

    def _compile_grammar(self, gbnf: str):  # noqa: ANN202
        """Check a GBNF grammar with llama.cpp before use (an invalid one would crash the sampler)."""
        lc = self._llama_cpp
        with self._gate.reading():
            sampler = lc.llama_sampler_init_grammar(self._llm._model.vocab, gbnf.encode("utf-8"), b"root")
        if not sampler:
            raise InvalidRequestError(
                "llama.cpp rejected the grammar (see the GBNF syntax: rules are `name ::= ...`, the first is `root`).",
                hint="Check the grammar text, or pass json_schema=... and let the library write the grammar.",
            )
        lc.llama_sampler_free(sampler)
        from llama_cpp.llama_grammar import LlamaGrammar

        return LlamaGrammar.from_string(gbnf, verbose=False)

    def _schema_grammar(self, schema: dict[str, Any]):  # noqa: ANN202
        from llama_cpp.llama_grammar import json_schema_to_gbnf

        try:
            gbnf = json_schema_to_gbnf(json.dumps(schema))
        except Exception as exc:  # the converter raises assorted errors on schemas it cannot express
            raise InvalidRequestError(
                f"This JSON schema cannot be turned into a grammar: {exc}",
                hint="Use plain types, properties, required, enum, arrays and $defs.",
            ) from None
        return self._compile_grammar(gbnf)

    def _last_logprobs(self) -> np.ndarray:
        ptr = self._llama_cpp.llama_get_logits_ith(self._llm.ctx, -1)
        logits = np.ctypeslib.as_array(ptr, shape=(self._vocab,)).astype(np.float64)
        return log_softmax(logits)

    def _control_token_mask(self):  # noqa: ANN202 - a llama-cpp-python logits processor list
        """Under a grammar, forbid control and unused tokens (except end-of-turn).

        A control token renders as empty text, so a grammar cannot see it and would let it
        slip into the middle of a forced JSON string. Computed once per runtime (~0.5 s).
        """
        if self._special_ids is None:
            lc = self._llama_cpp
            vocab = lc.llama_model_get_vocab(self._llm.model)
            bad = lc.LLAMA_TOKEN_ATTR_CONTROL | lc.LLAMA_TOKEN_ATTR_UNUSED | lc.LLAMA_TOKEN_ATTR_UNKNOWN
            ids = [t for t in range(self._vocab) if lc.llama_vocab_get_attr(vocab, t) & bad and t not in self._eog]
            self._special_ids = np.array(ids, dtype=np.int64)
        special = self._special_ids

        def mask(_input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
            scores[special] = -np.inf
            return scores

        return self._llama_cpp.LogitsProcessorList([mask])

    def _piece(self, token: int) -> str:
        return self._llm.detokenize([token]).decode("utf-8", errors="replace")

    # ------------------------------------------------------------------ generation
    def _generate(
        self,
        tokens: list[int],
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        top_k: int,
        min_p: float,
        repeat_penalty: float,
        seed: int | None,
        stop: Sequence[str],
        grammar: Any,
        logprobs: int | None,
        prefix_text: str = "",
        keep_stop: Sequence[str] = (),
        continue_cached: bool = False,
    ) -> Iterator[StreamChunk | Result]:
        """The one generation loop. Yields text chunks, then the :class:`Result`.

        ``continue_cached`` keeps the KV cache of the previous step of the *same* request, so only
        the tokens after the common prefix are evaluated (the grammar phase of an automatic call).

        It runs under ``self._gate`` (see :meth:`ModelGate.guard`): between two chunks another request
        may cancel it, and it checks at every token whether close() has begun.
        """
        if len(tokens) + max_tokens > self.n_ctx:
            from edgeagents.errors import ContextOverflowError

            raise ContextOverflowError(len(tokens), max_tokens, self.n_ctx)
        llm = self._llm
        try:
            llm.set_seed(self.seed if seed is None else seed)
            watch = Stopwatch()
            out_tokens: list[int] = []
            token_logprobs: list[TokenLogprob] = []
            data = bytearray()
            finish = "length"
            if prefix_text:
                yield StreamChunk(prefix_text)
            buf = StopBuffer(stop, keep_stop)
            # Evaluate the whole prompt every time. Reusing a cached prefix splits the prompt into
            # different batches, and llama.cpp's batched and single-token kernels round differently:
            # greedy output could then change between two identical requests. Within one request the
            # split is always the same, so its second phase may continue from the cache.
            if not continue_cached:
                llm.reset()
            gen = llm.generate(
                tokens,
                temp=temperature,
                top_p=top_p,
                top_k=top_k,
                min_p=min_p,
                repeat_penalty=repeat_penalty,
                grammar=grammar,
                logits_processor=self._control_token_mask() if grammar is not None else None,
            )
            try:
                for token in gen:
                    self._gate.check()
                    watch.mark_token()
                    if token in self._eog:
                        finish = "stop"
                        break
                    out_tokens.append(token)
                    if logprobs is not None:
                        lp = self._last_logprobs()
                        top_ids = np.argsort(lp)[::-1][: max(0, logprobs)]
                        token_logprobs.append(
                            TokenLogprob(
                                self._piece(token),
                                float(lp[token]),
                                tuple((self._piece(int(i)), float(lp[i])) for i in top_ids),
                            )
                        )
                    data += llm.detokenize([token])
                    if buf.update(data.decode("utf-8", errors="ignore")):
                        finish = "stop"
                        break
                    if len(out_tokens) >= max_tokens:
                        break
                    if piece := buf.ready():
                        yield StreamChunk(piece)
            finally:
                gen.close()
            if piece := buf.rest():
                yield StreamChunk(piece)
            timings = watch.timings(len(tokens), len(out_tokens))
            yield Result(
                text=prefix_text + buf.text,
                finish_reason=finish,  # type: ignore[arg-type]
                usage=Usage(len(tokens), len(out_tokens)),
                timings=timings,
                model=self.spec.label,
                runtime=self.name,
                logprobs=tuple(token_logprobs),
            )
        except EdgeAgentsError:
            raise
        except Exception as exc:  # llama.cpp failed underneath us
            raise BackendError(f"llama.cpp failed while generating: {exc}") from exc

    def _options(self, options: dict[str, Any]) -> dict[str, Any]:
        """The request's options as :meth:`_generate` takes them, with json_schema or grammar compiled."""
        o = self._parse_options(options)
        grammar = None
        if o.json_schema is not None:
            grammar = self._schema_grammar(o.json_schema)
        elif o.grammar is not None:
            grammar = self._compile_grammar(o.grammar)
        return {
            "max_tokens": o.max_tokens,
            "temperature": o.temperature,
            "top_p": o.top_p,
            "top_k": o.top_k,
            "min_p": o.min_p,
            "repeat_penalty": o.repeat_penalty,
            "seed": o.seed,
            "stop": list(o.stop),
            "grammar": grammar,
            "logprobs": o.logprobs,
        }

    # ------------------------------------------------------------------ completion
    def complete_stream(self, prompt: str, **options: Any) -> Stream:
        """Continue ``prompt`` token by token. Options: max_tokens (256), temperature (0 = greedy),
        top_p, top_k, min_p, repeat_penalty, seed, stop, json_schema, grammar, logprobs."""
        self._check_open()
        rq.check_text(prompt)
        opts = self._options(options)
        tokens = self._tokens(prompt, add_bos=True, special=True)
        return Stream(self._gate.guard(self._generate(tokens, **opts)), origin=self._origin, operation="text_completion")

    # ------------------------------------------------------------------ chat
    def _chat_plan(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None, tool_choice: ToolChoice, options: dict
    ) -> _ChatPlan:
        self._check_open()
        options = dict(options)
        tool_grammar = options.pop("tool_grammar", None)
        if tool_grammar is not None and not isinstance(tool_grammar, bool):
            raise InvalidRequestError(f"tool_grammar must be True or False, not {tool_grammar!r}.")
        msgs = rq.check_messages(messages)
        specs = rq.check_tools(tools)
        mode, forced = rq.resolve_tool_choice(specs, tool_choice)
        opts = self._options(options)
        shown = specs if mode != "none" else []
        segments = render_chat(msgs, shown)
        prefix = ""
        call_grammar = None
        if mode in ("named", "required"):
            if opts["grammar"] is not None:
                raise InvalidRequestError("A forced tool call cannot also take json_schema or grammar.")
            if tool_grammar is False:
                raise InvalidRequestError(
                    "tool_grammar=False applies to tool_choice='auto'; a forced call is always written under a grammar.",
                    hint="Drop tool_grammar, or use tool_choice='auto' to compare calls with and without the grammar.",
                )
            chosen = [t for t in specs if mode == "required" or t["function"]["name"] == forced]
            opts["grammar"] = self._schema_grammar(call_schema(chosen))
            prefix = TOOL_CALL_OPEN
            segments = [*segments, Segment(TOOL_CALL_OPEN)]
        elif mode == "auto":
            if tool_grammar and opts["grammar"] is not None:
                raise InvalidRequestError(
                    "tool_grammar=True cannot be combined with json_schema or grammar: that grammar already "
                    "governs the whole reply.",
                    hint="Drop json_schema/grammar, or pass tool_grammar=False.",
                )
            if tool_grammar is not False and opts["grammar"] is None:
                call_grammar = self._auto_call_grammar(specs)  # _auto_constrained sets its own stops
            else:
                opts["stop"] = [*opts["stop"], TOOL_CALL_CLOSE]
        tokens = self._segments_to_tokens(segments)
        return _ChatPlan(tokens, opts, mode, specs, prefix, call_grammar)

    # ---------------------------------------------- constrained automatic tool calls
    def _auto_call_grammar(self, specs: list[ToolSpec]):  # noqa: ANN202 - a LlamaGrammar
        """The grammar a call the model starts in auto mode continues under, or a typed error
        naming the schema features it could not enforce."""
        unenforced = unenforced_tool_features(specs)
        if unenforced:
            raise InvalidRequestError(
                "The call grammar cannot enforce these parts of the tools' schemas: " + "; ".join(unenforced) + ".",
                hint="Drop those keywords from the schemas, or pass tool_grammar=False: the model then writes "
                "calls freely and each call is checked against the schema after it is written.",
            )
        return self._schema_grammar(call_schema(specs))

    def _auto_constrained(self, plan: _ChatPlan) -> Iterator[StreamChunk | Result]:
        """Auto mode in two phases: the model writes freely until it opens a call, then it goes on from
        the same KV cache (prompt, its text and the opener) and writes the call under the grammar.

        One reply: the chunks of both phases, then one :class:`Result` whose usage counts every
        generated token and whose ``total_s`` covers both phases.
        """
        user_stops = plan.opts["stop"]
        free_opts = {**plan.opts, "stop": [*user_stops, TOOL_CALL_OPEN, TOOL_CALL_CLOSE]}
        free: Result | None = None
        for item in self._generate(plan.tokens, keep_stop=(TOOL_CALL_OPEN, TOOL_CALL_CLOSE), **free_opts):
            if isinstance(item, Result):
                free = item
            else:
                yield item
        assert free is not None
        if not (free.finish_reason == "stop" and free.text.endswith(TOOL_CALL_OPEN)):
            yield self._finish_chat(free, plan.mode, plan.specs)
            return
        tokens = plan.tokens + self._tokens(free.text, add_bos=False, special=False)
        budget = min(plan.opts["max_tokens"] - free.usage.completion_tokens, self.n_ctx - len(tokens))
        if budget < 1:  # no room left for the call: reported like any call cut off by max_tokens
            yield self._finish_chat(replace(free, finish_reason="length"), plan.mode, plan.specs)
            return
        call_opts = {**plan.opts, "stop": user_stops, "grammar": plan.call_grammar, "max_tokens": budget}
        call: Result | None = None
        for item in self._generate(tokens, continue_cached=True, **call_opts):
            if isinstance(item, Result):
                call = item
            else:
                yield item
        assert call is not None
        text = free.text + call.text
        if call.finish_reason == "stop":  # the grammar ended the JSON; the closing tag is the format's
            yield StreamChunk(TOOL_CALL_CLOSE)
            text += TOOL_CALL_CLOSE
        generated = free.usage.completion_tokens + call.usage.completion_tokens
        both = replace(
            call,
            text=text,
            usage=Usage(free.usage.prompt_tokens, generated),
            timings=Timings(
                ttft_s=free.timings.ttft_s,
                total_s=free.timings.total_s + call.timings.total_s,
                prompt_tokens=free.timings.prompt_tokens,
                completion_tokens=generated,
            ),
            logprobs=free.logprobs + call.logprobs,
        )
        yield self._finish_chat(both, plan.mode, plan.specs)

    def chat_stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] | None = None,
        tool_choice: ToolChoice = "auto",
        **options: Any,
    ) -> Stream:
        """Stream a reply to a conversation in the course chat format.

        Tool calls are parsed when the stream ends: ``stream.result.tool_calls``. In auto mode a
        call the model starts is written under a grammar built from the tools' schemas (so it names
        an offered tool with valid arguments); ``tool_grammar=False`` lets it write the call freely.
        """
        plan = self._chat_plan(messages, tools, tool_choice, options)
        if plan.call_grammar is not None:
            return Stream(self._gate.guard(self._auto_constrained(plan)), origin=self._origin)
        keep = (TOOL_CALL_CLOSE,) if plan.mode == "auto" else ()

        def run() -> Iterator[StreamChunk | Result]:
            for item in self._generate(plan.tokens, prefix_text=plan.prefix, keep_stop=keep, **plan.opts):
                if isinstance(item, Result):
                    yield self._finish_chat(item, plan.mode, plan.specs)
                else:
                    yield item

        return Stream(self._gate.guard(run()), origin=self._origin)

    # ------------------------------------------------------------------ scoring
    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Total log-probability of each continuation after ``prompt`` (higher is likelier).

        This is how a base model can *choose* among fixed options: score each, take the best.
        """
        self._check_open()
        rq.check_text(prompt)
        if isinstance(continuations, str) or not continuations:
            raise InvalidRequestError("continuations must be a non-empty list of strings.")
        conts = [rq.check_text(c, "continuation") for c in continuations]
        prefix = self._tokens(prompt, add_bos=True, special=True)
        cont_tokens = [self._tokens(c, add_bos=False, special=False) for c in conts]
        longest = max(len(c) for c in cont_tokens)
        if len(prefix) + longest > self.n_ctx:
            from edgeagents.errors import ContextOverflowError

            raise ContextOverflowError(len(prefix), longest, self.n_ctx)
        llm = self._llm
        with self._gate.hold():
            try:
                return self._score(llm, prefix, cont_tokens)
            except EdgeAgentsError:
                raise
            except Exception as exc:
                raise BackendError(f"llama.cpp failed while scoring: {exc}") from exc

    def _score(self, llm: Any, prefix: list[int], cont_tokens: list[list[int]]) -> list[float]:
        self._gate.check()
        llm.reset()
        llm.eval(prefix)
        first = self._last_logprobs()
        scores = []
        for toks in cont_tokens:
            lp, total = first, 0.0
            for i, tok in enumerate(toks):
                total += float(lp[tok])
                if i + 1 < len(toks):
                    self._gate.check()
                    llm.eval([tok])
                    lp = self._last_logprobs()
            scores.append(total)
            # rewind to the end of the prompt for the next continuation
            if len(toks) > 1 and not llm._ctx.kv_cache_seq_rm(-1, len(prefix), -1):
                llm.reset()
                llm.eval(prefix)
            llm.n_tokens = len(prefix)
        llm.reset()  # the next generation must not trust these logits
        return scores

    # ------------------------------------------------------------------ lifecycle
    def health(self) -> Health:
        if self._closed:
            return Health(False, "closed")
        watch = Stopwatch()
        try:
            self._tokens("ping", add_bos=False, special=False)
        except RuntimeClosedError:
            return Health(False, "closed")
        except Exception as exc:  # pragma: no cover - would mean a broken model
            return Health(False, f"tokenizer failed: {exc}")
        return Health(True, f"{self.spec.label} loaded in-process", watch.timings(0, 0).total_s)

    def info(self) -> RuntimeInfo:
        import llama_cpp

        return RuntimeInfo(
            runtime=self.name,
            model=self.spec.label,
            context_length=self.n_ctx,
            capabilities=CAPABILITIES,
            details={
                "model_path": str(self.spec.path),
                "adapter_path": str(self.spec.adapter_path) if self.spec.adapter_path else None,
                "is_base_model": self.spec.is_base_model,
                "file_size_mb": round(self.spec.path.stat().st_size / 1e6, 1),
                "n_threads": self.n_threads,
                "n_threads_batch": self.n_threads_batch,
                "vocab_size": self._vocab,
                "llama_cpp_python": llama_cpp.__version__,
                "closed": self._closed,
            },
        )

    def _release(self) -> None:
        """close() frees the model, from any thread.

        A generation running in another thread stops at its next token with :class:`RuntimeClosedError`
        and is waited for; every pending stream raises ``RuntimeClosedError`` on its next read.
        """
        self._gate.close(self._llm.close)

    def _repr_model(self) -> str:
        return self.spec.label

    def _repr_state(self) -> str:
        return f"{self.n_threads} thread(s), n_ctx={self.n_ctx}"


__all__ = ["LlamaCppRuntime"]
