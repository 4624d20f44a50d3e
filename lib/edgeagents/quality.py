"""Measure what quantization costs: perplexity, KL divergence and top-1 agreement against F16, and speed.

Everything is measured on one fixed English text shipped with the library
(``edgeagents/data/eval_text.txt``, about 450 tokens) so that numbers are comparable.

* **Perplexity**: ``exp(-mean log p(next token))``; lower means the model finds the text less surprising.
* **KL divergence vs F16**: how far each level's next-token distribution drifts from the F16
  reference, averaged over positions (0 = identical).
* **Top-1 agreement**: how often the level's most likely next token is the reference's.

The logits of the 262,144-token vocabulary are read position by position from small batches
(never ``logits_all`` for the whole text, which would need gigabytes).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgeagents.errors import InvalidRequestError, ModelNotFoundError

EVAL_TEXT = Path(__file__).resolve().parent / "data" / "eval_text.txt"
CHUNK = 32


def eval_text() -> str:
    return EVAL_TEXT.read_text(encoding="utf-8").strip()


def _llama(path: Path, n_threads: int, n_ctx: int = 1024):  # noqa: ANN202
    import llama_cpp

    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"No GGUF file at {path}.", hint="Build it with `edgeagents models build --only ladder`.")
    return llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_batch=CHUNK, n_ubatch=CHUNK, n_threads=n_threads,
                           n_threads_batch=n_threads, logits_all=False, verbose=False)


def tokenize_eval(path: Path, n_tokens: int | None = None, text: str | None = None) -> list[int]:
    """The evaluation text as token ids (``<bos>`` first), cut to ``n_tokens`` when given."""
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    try:
        tokens = llm.tokenize((text or eval_text()).encode(), add_bos=True)
    finally:
        llm.close()
    if n_tokens is not None:
        if n_tokens < 8:
            raise InvalidRequestError("Evaluate on at least 8 tokens.")
        tokens = tokens[:n_tokens]
    return tokens


def _log_softmax_rows(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def iter_logprobs(path: Path, tokens: Sequence[int], *, n_threads: int = 1):  # noqa: ANN201 - generator
    """Yield (position, log-softmax row) for every position of ``tokens`` but the last, chunk by chunk."""
    import llama_cpp

    llm = _llama(path, n_threads, n_ctx=max(512, len(tokens) + 8))
    try:
        vocab = llm.n_vocab()
        pos = 0
        while pos < len(tokens) - 1:
            chunk = list(tokens[pos: min(pos + CHUNK, len(tokens) - 1)])
            llm._batch.set_batch(batch=chunk, n_past=pos, logits_all=True)
            llm._ctx.decode(llm._batch)
            rows = np.empty((len(chunk), vocab), dtype=np.float32)
            for i in range(len(chunk)):
                ptr = llama_cpp.llama_get_logits_ith(llm.ctx, i)
                rows[i] = np.ctypeslib.as_array(ptr, shape=(vocab,))
            lp = _log_softmax_rows(rows.astype(np.float64)).astype(np.float32)
            for i in range(len(chunk)):
                yield pos + i, lp[i]
            pos += len(chunk)
    finally:
        llm.close()


@dataclass(frozen=True)
class Quality:
    perplexity: float
    kl_vs_ref: float
    top1_agreement: float
    n_tokens: int


class Reference:
    """The F16 model's log-probabilities on the evaluation tokens, kept in memory (n x 262k float16)."""

    def __init__(self, path: Path, tokens: Sequence[int], *, n_threads: int = 1) -> None:
        self.tokens = list(tokens)
        rows = [lp for _, lp in iter_logprobs(path, self.tokens, n_threads=n_threads)]
        self.logprobs = np.stack(rows).astype(np.float16)
        self.quality = self.compare(rows_from=None)

    def compare(self, rows_from: Path | None, *, n_threads: int = 1) -> Quality:
        """Perplexity of ``rows_from`` (or of the reference itself) and its divergence from the reference."""
        nll, kl, agree, n = 0.0, 0.0, 0, 0
        source = ((i, self.logprobs[i].astype(np.float32)) for i in range(len(self.logprobs))) if rows_from is None \
            else iter_logprobs(rows_from, self.tokens, n_threads=n_threads)
        for i, lp in source:
            ref = self.logprobs[i].astype(np.float32)
            nxt = self.tokens[i + 1]
            nll -= float(lp[nxt])
            p = np.exp(ref)
            kl += float(np.sum(p * (ref - lp)))
            agree += int(np.argmax(lp) == np.argmax(ref))
            n += 1
        return Quality(float(np.exp(nll / n)), max(0.0, kl / n), agree / n, n)


@dataclass(frozen=True)
class Speed:
    load_s: float
    rss_mb: float
    prompt_tps: float
    decode_tps: float


def measure_speed(path: Path, *, prompt: str | None = None, max_tokens: int = 32, n_threads: int = 1) -> Speed:
    """Load time, resident memory added by the model, prompt and decode tokens per second (greedy)."""
    from edgeagents.measure import rss_mb
    from edgeagents.runtimes.llamacpp.runtime import LlamaCppRuntime

    before = rss_mb()
    t0 = time.perf_counter()
    rt = LlamaCppRuntime(Path(path), n_ctx=512, n_threads=n_threads)
    load_s = time.perf_counter() - t0
    try:
        r = rt.complete(prompt or eval_text()[:600], max_tokens=max_tokens)
        rss = rss_mb() - before
    finally:
        rt.close()
    return Speed(load_s, rss, r.timings.prompt_tps, r.timings.decode_tps)


def measure_ladder(levels: Sequence[str] | None = None, *, n_tokens: int | None = 160, n_threads: int = 1,
                   max_tokens: int = 32, progress: bool = True) -> list[dict[str, object]]:
    """One row per level (F16 first): size, bits per weight, load, RSS, speed, perplexity, KL, top-1.

    Builds whatever is missing (F16 and the ladder) through the forge's cache first.
    """
    from edgeagents.models.forge import LADDER, build_f16, build_level
    from edgeagents.models.forge.cache import progress_bar

    names = list(levels) if levels else list(LADDER)
    f16 = build_f16(progress=progress)
    paths = {"F16": f16, **{n: build_level(n, progress=progress) for n in names}}
    tokens = tokenize_eval(f16, n_tokens)
    bar = progress_bar(len(paths) + 1, "measuring the ladder", progress, unit="model")
    ref = Reference(f16, tokens, n_threads=n_threads)
    bar.update(1)
    rows = []
    n_params = _n_params(f16)
    try:
        for name, path in paths.items():
            bar.set_postfix_str(name)
            q = ref.quality if name == "F16" else ref.compare(path, n_threads=n_threads)
            s = measure_speed(path, n_threads=n_threads, max_tokens=max_tokens)
            size = path.stat().st_size
            rows.append({"level": name, "size_mb": round(size / 1e6, 1), "bpw": round(8 * size / n_params, 2),
                         **{k: round(v, 4) for k, v in asdict(s).items()},
                         "perplexity": round(q.perplexity, 3), "kl_vs_f16": round(q.kl_vs_ref, 5),
                         "top1_agreement": round(q.top1_agreement, 4), "eval_tokens": q.n_tokens})
            bar.update(1)
    finally:
        bar.close()
    return rows


def _n_params(path: Path) -> int:
    from edgeagents.models.gguf_info import gguf_info

    return gguf_info(path).n_params  # read once in a child process, then cached as JSON


def memory_gb(n_params_billion: float, bits_per_weight: float, overhead: float = 1.1) -> float:
    """Weights-only memory of a model at a given bits per weight, with ~10 % for buffers (a rule of thumb)."""
    if n_params_billion <= 0 or bits_per_weight <= 0:
        raise InvalidRequestError("Parameters and bits per weight must be positive.")
    return n_params_billion * 1e9 * bits_per_weight / 8 / 1e9 * overhead


def recommend(rows: Sequence[dict], *, max_kl: float = 0.05, min_top1: float = 0.9) -> dict[str, object]:
    """From measured rows: the smallest file, and the fastest decoder, whose quality stays within bounds.

    ``max_kl`` (KL divergence vs F16) and ``min_top1`` (top-1 agreement) are the quality budget;
    F16 itself is left out (it is the reference, not a deployment choice).
    """
    ok = [r for r in rows if r["level"] != "F16" and r["kl_vs_f16"] <= max_kl and r["top1_agreement"] >= min_top1]
    if not ok:
        raise InvalidRequestError(f"No level keeps KL <= {max_kl} and top-1 >= {min_top1}.",
                                  hint="Loosen the budget (a larger max_kl or a smaller min_top1).")
    smallest = min(ok, key=lambda r: r["size_mb"])
    fastest = max(ok, key=lambda r: r["decode_tps"])
    return {"within_budget": [r["level"] for r in ok], "smallest": smallest["level"], "fastest": fastest["level"],
            "max_kl": max_kl, "min_top1": min_top1}
