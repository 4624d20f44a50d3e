"""Decode speed of the course model with and without its LoRA adapter, measured side by side.

llama.cpp applies an adapter at run time (two extra small matmuls per adapted matrix and token),
so the adapter costs decode speed. :func:`decode_ratio` loads the base Q4_K_M alone and with each
adapter in one process and times them in interleaved rounds, so that load changes on a shared
machine hit every variant alike; only the ratio means much.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from edgeagents.errors import InvalidRequestError
from edgeagents.models.course import prepare_base_model

PROMPT = "<start_of_turn>user\nWrite three sentences about rivers.<end_of_turn>\n<start_of_turn>model\n"


def decode_tps(llm: Any, max_tokens: int = 64) -> float:
    """Tokens/s after the first token of one greedy completion (``llm`` is a ``llama_cpp.Llama``)."""
    llm.reset()
    first, n = None, 0
    for _ in llm.create_completion(PROMPT, max_tokens=max_tokens, temperature=0.0, stream=True):
        first = first or time.perf_counter()
        n += 1
    end = time.perf_counter()
    return (n - 1) / (end - first) if n > 1 and first and end > first else 0.0


def compare_decode(adapters: dict[str, Path | None], rounds: int = 5, max_tokens: int = 64,
                   threads: int = 1) -> dict[str, float]:
    """Median decode tok/s of the base model with each adapter (``None`` = no adapter), interleaved."""
    import llama_cpp

    if rounds < 1 or max_tokens < 2:
        raise InvalidRequestError(f"rounds={rounds}, max_tokens={max_tokens} is too little to time.",
                                  hint="Use at least 1 round of at least 2 tokens (defaults: 5 x 64).")
    base = prepare_base_model(progress=False)
    models = {name: llama_cpp.Llama(model_path=str(base), lora_path=str(a) if a else None, n_ctx=512,
                                    n_threads=threads, n_threads_batch=threads, verbose=False)
              for name, a in adapters.items()}
    speeds: dict[str, list[float]] = {name: [] for name in models}
    try:
        for _ in range(rounds):
            for name, llm in models.items():
                speeds[name].append(decode_tps(llm, max_tokens))
    finally:
        for llm in models.values():
            llm.close()
    return {name: statistics.median(v) for name, v in speeds.items()}


def decode_ratio(adapter: Path, rounds: int = 5, max_tokens: int = 64, threads: int = 1) -> dict[str, Any]:
    """``{"base_tok_s", "adapter_tok_s", "ratio", "how"}`` for one adapter, for the training card."""
    tps = compare_decode({"base": None, "adapter": Path(adapter)}, rounds, max_tokens, threads)
    rounds_text = f"{rounds} interleaved round" + ("s" if rounds != 1 else "")
    return {"base_tok_s": round(tps["base"], 1), "adapter_tok_s": round(tps["adapter"], 1),
            "ratio": round(tps["adapter"] / tps["base"], 2) if tps["base"] else 0.0,
            "how": f"{threads} thread(s), median of {rounds_text}, {max_tokens} tokens"}
