"""Foundry Local beside llama.cpp on the same prompts: load time, TTFT, decode tokens/s, memory.

Both runtimes run the course model in-process with the course chat format and greedy decoding.
They do not run the same *file*: llama.cpp reads the shipped Q4_K_M GGUF, Foundry Local the forge's
int4 ONNX build. So the comparison is of two real deployments of one model, not of two engines
on identical weights. The machine is shared: read ratios, and rerun before trusting a gap.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

from edgeagents.measure import Timer, rss_mb

PROMPTS = [
    "Explain in two sentences what an AI agent is.",
    "Give three tips for writing a clear support ticket.",
    "What is the difference between RAM and disk storage?",
    "Write a short friendly greeting for a help desk chat.",
]


def measure(open_runtime: Callable[[], Any], prompts: Sequence[str] = PROMPTS, max_tokens: int = 48) -> dict[str, Any]:
    """Open a runtime (timed, with the process's memory before and after), run each prompt once, close it."""
    before = rss_mb()
    with Timer() as t:
        runtime = open_runtime()
    loaded = rss_mb()
    rows = []
    try:
        runtime.chat([{"role": "user", "content": prompts[0]}], max_tokens=4)  # warm-up, not counted
        for prompt in prompts:
            result = runtime.chat([{"role": "user", "content": prompt}], max_tokens=max_tokens, temperature=0.0)
            rows.append(result)
        peak = rss_mb()
        name = runtime.name
    finally:
        runtime.close()
    return {
        "runtime": name,
        "load_s": round(t.seconds, 2),
        "rss_load_mb": round(loaded - before, 1),
        "rss_peak_mb": round(peak - before, 1),
        "ttft_s": round(statistics.median(r.timings.ttft_s for r in rows), 4),
        "decode_tok_s": round(statistics.median(r.timings.decode_tps for r in rows), 1),
        "completion_tokens": sum(r.usage.completion_tokens for r in rows),
        "first_reply": rows[0].text.strip()[:80],
    }


def side_by_side(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The measurements with a ratio column (second runtime over the first) for the numeric fields."""
    if len(rows) != 2:
        return list(rows)
    a, b = rows
    table = []
    for key in ("load_s", "rss_load_mb", "rss_peak_mb", "ttft_s", "decode_tok_s"):
        ratio = b[key] / a[key] if a[key] else None
        table.append({"metric": key, a["runtime"]: a[key], b["runtime"]: b[key],
                      f"{b['runtime']} / {a['runtime']}": round(ratio, 2) if ratio is not None else None})
    return table


RUNTIMES = ("llama.cpp", "foundry-local")


def _open(which: str) -> Any:
    if which == "llama.cpp":
        from edgeagents.runtimes import LlamaCppRuntime

        return LlamaCppRuntime("base")
    from edgeagents.runtimes.foundry.runtime import FoundryLocalRuntime

    return FoundryLocalRuntime("course")


def measure_fresh(which: str, n_prompts: int = len(PROMPTS), max_tokens: int = 48, timeout_s: float = 600) -> dict[str, Any]:
    """:func:`measure` in a fresh Python process, so memory and load time start from nothing.

    In one long-lived process, a model loaded after others reuses their freed pages and looks cheaper.
    """
    if which not in RUNTIMES:
        from edgeagents.errors import InvalidRequestError

        raise InvalidRequestError(f"Unknown runtime {which!r}.", hint=f"Use one of {RUNTIMES}.")
    out = subprocess.run(
        [sys.executable, "-m", "edgeagents.foundry.compare", which, str(n_prompts), str(max_tokens)],
        capture_output=True, text=True, timeout=timeout_s, env=dict(os.environ),
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        from edgeagents.errors import BackendError

        raise BackendError(f"Measuring {which} failed: {(out.stderr or out.stdout)[-800:]}")
    return json.loads(line[len("RESULT "):])


if __name__ == "__main__":  # python -m edgeagents.foundry.compare <runtime> <n_prompts> <max_tokens>
    which, n, tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print("RESULT " + json.dumps(measure(lambda: _open(which), PROMPTS[:n], max_tokens=tokens)))
