"""ONNX Runtime GenAI in-process: the course model's second runtime.

Runs the forge's int4 ONNX build of the course model (``edgeagents models build --only onnx``)
with ``onnxruntime-genai``, behind the same :class:`~edgeagents.runtimes.base.Runtime`
interface as llama.cpp: ``complete``, ``chat`` (the course chat format), streaming, tool calls
the model writes itself (``tool_choice="auto"``) and ``score``.

What it cannot do here raises :class:`~edgeagents.errors.UnsupportedFeatureError`: JSON-schema
or grammar constrained output, forced tool calls (they need a grammar) and per-token
log-probabilities of generated text.

Two facts of ONNX Runtime GenAI with this model, handled here:

* its tokenizer does not add ``<bos>``: the runtime puts token 2 in front of every prompt;
* Gemma's sliding-window attention needs a KV cache of at least 512 positions, so the search
  ``max_length`` is never set below 512 (the answer still stops at ``max_tokens``).

>>> from edgeagents.runtimes.onnx_genai import OnnxGenAIRuntime
>>> rt = OnnxGenAIRuntime()          # the forge's ONNX folder, built if missing
>>> rt.complete("The capital of France is", max_tokens=8).text
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgeagents.errors import (
    BackendError,
    CorruptModelError,
    EdgeAgentsError,
    InvalidRequestError,
    ModelNotFoundError,
    RuntimeUnavailableError,
    UnsupportedFeatureError,
)
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
from edgeagents.runtimes.chat_template import (
    END,
    TOOL_CALL_CLOSE,
    Segment,
    escape_markers,
    render_chat,
)
from edgeagents.runtimes.core import BaseRuntime, StopBuffer, log_softmax
from edgeagents.runtimes.gate import ModelGate
from edgeagents.settings import load_settings

CAPABILITIES = frozenset({"complete", "chat", "stream", "tools_auto", "score"})
BOS_ID = 2
EOS_ID = 1
MIN_SEARCH_LENGTH = 512  # Gemma's sliding window: ORT GenAI needs a KV cache this long


def _import_og():  # noqa: ANN202
    try:
        import onnxruntime_genai as og
    except ImportError:
        raise RuntimeUnavailableError(
            "onnxruntime-genai is not installed.", hint="Install the forge extra: pip install -e '.[forge]' (or `make setup`)."
        ) from None
    return og


class OnnxGenAIRuntime(BaseRuntime):
    """A model folder built for ONNX Runtime GenAI (``genai_config.json``), run in-process.

    Args:
        model: ``None`` for the course model's ONNX int4 build (built by the forge if missing),
            or the path of an ONNX Runtime GenAI folder.
        n_ctx: the longest prompt + answer accepted (default ``EDGEAGENTS_N_CTX`` or 2048).
        n_threads: intra-op threads (default ``EDGEAGENTS_THREADS``).
    """

    name = "onnxruntime-genai"

    def __init__(self, model: str | Path | None = None, *, n_ctx: int | None = None, n_threads: int | None = None) -> None:
        settings = load_settings()
        og = _import_og()
        self._og = og
        if model is None:
            from edgeagents.models.forge import build_onnx

            folder = build_onnx(progress=True)
        else:
            folder = Path(model).expanduser()
        if not (folder / "genai_config.json").is_file():
            raise ModelNotFoundError(
                f"{folder} is not an ONNX Runtime GenAI folder (no genai_config.json).",
                hint="Build the course model's one with `edgeagents models build --only onnx`.",
            )
        self.folder = folder
        self.n_ctx = int(n_ctx or settings.n_ctx)
        self.n_threads = int(n_threads or settings.n_threads)
        try:
            config = og.Config(str(folder))
            config.clear_providers()  # CPU
            config.overlay(json.dumps({"model": {"decoder": {"session_options": {
                "intra_op_num_threads": self.n_threads, "inter_op_num_threads": 1}}}}))
            self._model = og.Model(config)
            self._tokenizer = og.Tokenizer(self._model)
        except Exception as exc:
            raise CorruptModelError(f"ONNX Runtime GenAI could not load {folder}: {exc}",
                                    hint="Rebuild it: `edgeagents models build --only onnx --force`.") from None
        end_ids = list(self._tokenizer.encode(END))
        self._eog = {EOS_ID} | ({end_ids[0]} if len(end_ids) == 1 else set())
        self._gate = ModelGate(self.name)

    # ------------------------------------------------------------------ helpers
    def tokenize(self, text: str, *, add_bos: bool = True) -> list[int]:
        """Token ids of ``text`` (``<bos>`` first by default, as the model needs)."""
        self._check_open()
        rq.check_text(text, "text", allow_empty=True)
        ids = [int(t) for t in self._tokenizer.encode(text)] if text else []
        return [BOS_ID, *ids] if add_bos else ids

    def detokenize(self, tokens: Sequence[int]) -> str:
        self._check_open()
        return self._tokenizer.decode(np.asarray(list(tokens), dtype=np.int32))

    def _segments_to_tokens(self, segments: Sequence[Segment]) -> list[int]:
        tokens = [BOS_ID]
        for seg in segments:
            if seg.text:  # its tokenizer reads markers anywhere: break the ones a user typed
                text = seg.text if seg.special else escape_markers(seg.text)
                tokens += [int(t) for t in self._tokenizer.encode(text)]
        return tokens

    def _options(self, options: dict[str, Any]) -> dict[str, Any]:
        for feature in ("json_schema", "grammar", "response_format"):
            if options.get(feature) is not None:
                raise UnsupportedFeatureError(
                    f"{self.name} here cannot constrain output ({feature}).",
                    hint="Use the llama.cpp runtime for JSON-schema or grammar constrained output.",
                )
        if options.get("logprobs"):
            raise UnsupportedFeatureError(f"{self.name} does not report per-token log-probabilities here.",
                                          hint="Use runtime.score(...) or the llama.cpp runtime.")
        o = self._parse_options(options)  # min_p is accepted and has no effect here
        return {"max_tokens": o.max_tokens, "temperature": o.temperature, "top_p": o.top_p, "top_k": o.top_k,
                "seed": o.seed, "stop": list(o.stop), "repeat_penalty": o.repeat_penalty}

    def _params(self, n_tokens: int, opts: dict[str, Any]):  # noqa: ANN202
        og = self._og
        params = og.GeneratorParams(self._model)
        search: dict[str, Any] = {
            "max_length": max(MIN_SEARCH_LENGTH, min(self.n_ctx, n_tokens + opts["max_tokens"])),
            "do_sample": opts["temperature"] > 0,
            "repetition_penalty": opts["repeat_penalty"],
        }
        if opts["temperature"] > 0:
            search.update(temperature=opts["temperature"], top_p=opts["top_p"], top_k=opts["top_k"] or 0)
            if opts["seed"] is not None:
                search["random_seed"] = int(opts["seed"])
        params.set_search_options(**search)
        return params

    # ------------------------------------------------------------------ generation
    def _generate(self, tokens: list[int], opts: dict[str, Any], *, prefix_text: str = "",
                  keep_stop: Sequence[str] = ()) -> Iterator[StreamChunk | Result]:
        max_tokens = opts["max_tokens"]
        if len(tokens) + max_tokens > self.n_ctx:
            from edgeagents.errors import ContextOverflowError

            raise ContextOverflowError(len(tokens), max_tokens, self.n_ctx)
        stop = opts["stop"]
        # The native generator and decoder live only here: a newer request or close() that cancels this
        # stream clears them, so nothing native outlives the model.
        native: dict[str, Any] = {}
        try:
            watch = Stopwatch()
            native["generator"] = self._og.Generator(self._model, self._params(len(tokens), opts))
            native["decoder"] = self._tokenizer.create_stream()
            self._gate.on_cancel(native.clear)
            native["generator"].append_tokens(np.asarray(tokens, dtype=np.int32))
            out: list[int] = []
            buf, finish = StopBuffer(stop, keep_stop), "length"
            if prefix_text:
                yield StreamChunk(prefix_text)
            while not native["generator"].is_done():
                self._gate.check()
                native["generator"].generate_next_token()
                token = int(native["generator"].get_next_tokens()[0])
                watch.mark_token()
                if token in self._eog:
                    finish = "stop"
                    break
                out.append(token)
                if buf.update(buf.text + native["decoder"].decode(token)):
                    finish = "stop"
                    break
                if len(out) >= max_tokens:
                    break
                if piece := buf.ready():
                    yield StreamChunk(piece)
            native.clear()
            if piece := buf.rest():
                yield StreamChunk(piece)
            yield Result(text=prefix_text + buf.text, finish_reason=finish,  # type: ignore[arg-type]
                         usage=Usage(len(tokens), len(out)), timings=watch.timings(len(tokens), len(out)),
                         model=self.folder.name, runtime=self.name)
        except EdgeAgentsError:
            raise
        except Exception as exc:
            raise BackendError(f"ONNX Runtime GenAI failed while generating: {exc}") from exc

    def complete_stream(self, prompt: str, **options: Any) -> Stream:
        """Continue ``prompt``. Options: max_tokens (256), temperature (0 = greedy), top_p, top_k, seed, stop."""
        self._check_open()
        rq.check_text(prompt)
        opts = self._options(options)
        return Stream(self._gate.guard(self._generate(self.tokenize(prompt), opts)), origin=(self.name, self.folder.name),
                      operation="text_completion")

    # ------------------------------------------------------------------ chat
    def chat_stream(self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] | None = None,
                    tool_choice: ToolChoice = "auto", **options: Any) -> Stream:
        """Reply in the course chat format; tool calls the model writes are parsed at the end."""
        self._check_open()
        msgs = rq.check_messages(messages)
        specs = rq.check_tools(tools)
        mode, _ = rq.resolve_tool_choice(specs, tool_choice)
        if mode in ("named", "required"):
            raise UnsupportedFeatureError(
                f"{self.name} cannot force a tool call here: that needs grammar-constrained decoding.",
                hint="Use tool_choice='auto' (the model may call a tool) or the llama.cpp runtime.",
            )
        opts = self._options(options)
        if mode == "auto":
            opts["stop"] = [*opts["stop"], TOOL_CALL_CLOSE]
        tokens = self._segments_to_tokens(render_chat(msgs, specs if mode != "none" else []))
        keep = (TOOL_CALL_CLOSE,) if mode == "auto" else ()

        def run() -> Iterator[StreamChunk | Result]:
            for item in self._generate(tokens, opts, keep_stop=keep):
                yield self._finish_chat(item, mode, specs) if isinstance(item, Result) else item

        return Stream(self._gate.guard(run()), origin=(self.name, self.folder.name))

    # ------------------------------------------------------------------ scoring
    def _last_logprobs(self, generator) -> np.ndarray:  # noqa: ANN001
        logits = np.asarray(generator.get_logits(), dtype=np.float64).reshape(-1)
        return log_softmax(logits)

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Total log-probability of each continuation after ``prompt`` (higher is likelier)."""
        self._check_open()
        rq.check_text(prompt)
        if isinstance(continuations, str) or not continuations:
            raise InvalidRequestError("continuations must be a non-empty list of strings.")
        prefix = self.tokenize(prompt)
        conts = [self.tokenize(rq.check_text(c, "continuation"), add_bos=False) for c in continuations]
        longest = max(len(c) for c in conts)
        if len(prefix) + longest > self.n_ctx:
            from edgeagents.errors import ContextOverflowError

            raise ContextOverflowError(len(prefix), longest, self.n_ctx)
        opts = {"max_tokens": longest + 1, "temperature": 0.0, "repeat_penalty": 1.0, "seed": None}
        with self._gate.hold():
            try:
                scores = []
                for toks in conts:
                    self._gate.check()
                    generator = self._og.Generator(self._model, self._params(len(prefix), opts))
                    generator.append_tokens(np.asarray(prefix, dtype=np.int32))
                    total = 0.0
                    for i, tok in enumerate(toks):
                        total += float(self._last_logprobs(generator)[tok])
                        if i + 1 < len(toks):
                            self._gate.check()
                            generator.append_tokens(np.asarray([tok], dtype=np.int32))
                    scores.append(total)
                    del generator
                return scores
            except EdgeAgentsError:
                raise
            except Exception as exc:
                raise BackendError(f"ONNX Runtime GenAI failed while scoring: {exc}") from exc

    # ------------------------------------------------------------------ lifecycle
    def health(self) -> Health:
        if self._closed:
            return Health(False, "closed")
        watch = Stopwatch()
        try:
            self._tokenizer.encode("ping")
        except Exception as exc:  # pragma: no cover
            return Health(False, f"tokenizer failed: {exc}")
        return Health(True, f"{self.folder.name} loaded in-process", watch.timings(0, 0).total_s)

    def info(self) -> RuntimeInfo:
        import onnxruntime_genai as og

        size = sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())
        return RuntimeInfo(
            runtime=self.name, model=self.folder.name, context_length=self.n_ctx, capabilities=CAPABILITIES,
            details={"model_path": str(self.folder), "folder_size_mb": round(size / 1e6, 1),
                     "onnxruntime_genai": og.__version__, "adds_bos": "by the runtime (token 2)",
                     "closed": self._closed},
        )

    def _release(self) -> None:
        """close() frees the model, from any thread.

        A generation running in another thread stops at its next token with :class:`RuntimeClosedError`
        and is waited for; every pending stream raises ``RuntimeClosedError`` on its next read.
        """
        self._gate.close(self._free)

    def _free(self) -> None:
        del self._tokenizer
        del self._model

    def _repr_model(self) -> str:
        return str(self.folder)


__all__ = ["OnnxGenAIRuntime"]
