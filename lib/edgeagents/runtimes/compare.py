"""Edge runtimes side by side (lab 04): what the CPU offers, thread scaling, batch vs single,
llama.cpp vs ONNX Runtime GenAI, and whether Apple MLX could run here.

All numbers are measured when called; on a shared machine repeat and compare ratios.
"""

from __future__ import annotations

import os
import platform
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_tile")

PROMPTS = (
    "The capital of France is",
    "Q: What is the capital of Italy?\nA: Rome\nQ: What is the largest planet in the solar system?\nA:",
    "A short encyclopedia entry about lighthouses, written for students.\n\nLighthouses are",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
)


def cpu_simd_flags() -> dict[str, bool]:
    """Which SIMD instruction sets the CPU reports (Linux: /proc/cpuinfo; elsewhere: empty)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    m = re.search(r"^flags\s*:\s*(.*)$", text, re.M)
    flags = set(m.group(1).split()) if m else set()
    return {f: f in flags for f in SIMD_FLAGS}


def llama_system_info() -> dict[str, str]:
    """What llama.cpp was compiled to use, from ``llama_print_system_info`` (e.g. AVX2 = 1)."""
    import llama_cpp

    raw = llama_cpp.llama_print_system_info().decode()
    pairs = re.findall(r"([A-Za-z0-9_]+)\s*=\s*([^|\s]+)", raw)
    return {k: v for k, v in pairs} | {"raw": raw.strip()}


# /proc/cpuinfo flag -> the name llama_print_system_info uses for it
_LLAMA_NAMES = {"sse4_2": "SSE3", "avx": "AVX", "avx2": "AVX2", "fma": "FMA", "f16c": "F16C", "avx512f": "AVX512",
                "avx512bw": "AVX512", "avx512_vnni": "AVX512_VNNI", "avx_vnni": "AVX_VNNI", "amx_tile": "AMX_INT8"}


def simd_table() -> list[dict[str, object]]:
    """One row per instruction set: does the CPU have it, and does this llama.cpp build use it."""
    try:
        info = llama_system_info()
    except ImportError:
        info = {}
    rows = []
    for flag, has in cpu_simd_flags().items():
        name = _LLAMA_NAMES.get(flag, flag.upper())
        rows.append({"instruction set": flag, "CPU has it": has, "llama.cpp key": name,
                     "llama.cpp uses it": info.get(name) == "1"})
    return rows


def onnx_providers() -> list[str]:
    """ONNX Runtime's execution providers available in this install (empty when not installed)."""
    try:
        import onnxruntime
    except ImportError:
        return []
    return list(onnxruntime.get_available_providers())


def mlx_status() -> dict[str, Any]:
    """Apple MLX runs only on Apple Silicon (macOS, arm64). Never fails: it reports."""
    apple = platform.system() == "Darwin" and platform.machine() == "arm64"
    status: dict[str, Any] = {"platform": f"{platform.system()} {platform.machine()}", "apple_silicon": apple}
    if not apple:
        status["mlx"] = "not applicable: MLX needs an Apple Silicon Mac (M1 or later)"
        return status
    try:
        import mlx.core as mx  # pragma: no cover - only on a Mac

        status["mlx"] = f"installed, default device {mx.default_device()}"
    except ImportError:  # pragma: no cover
        status["mlx"] = "Apple Silicon present; pip install mlx mlx-lm to try it"
    return status


def thread_scaling(threads: Sequence[int] | None = None, *, model=None, max_tokens: int = 32,  # noqa: ANN001
                   cap_s: float = 20.0, prompt: str = PROMPTS[2]) -> list[dict[str, Any]]:
    """Decode and prompt speed for each thread count; a run slower than ``cap_s`` is cut short and flagged."""
    from edgeagents.runtimes.llamacpp.runtime import LlamaCppRuntime

    threads = list(threads or range(1, (os.cpu_count() or 1) + 1))
    rows = []
    for n in threads:
        rt = LlamaCppRuntime(model, n_ctx=512, n_threads=n, n_threads_batch=n)
        try:
            stream = rt.complete_stream(prompt, max_tokens=max_tokens)
            t0 = time.perf_counter()
            first, count, capped = None, 0, False
            for _chunk in stream:
                count += 1
                first = first or time.perf_counter()
                if time.perf_counter() - t0 > cap_s:
                    capped = True
                    stream._chunks.close()  # noqa: SLF001 - stop generating now
                    break
            end = time.perf_counter()
            if stream.result is not None and not capped:
                tm = stream.result.timings
                rows.append({"threads": n, "prompt_tps": round(tm.prompt_tps, 1), "decode_tps": round(tm.decode_tps, 1),
                             "tokens": tm.completion_tokens, "capped": False})
            else:
                dec = (count - 1) / (end - first) if first and count > 1 and end > first else 0.0
                rows.append({"threads": n, "prompt_tps": None, "decode_tps": round(dec, 1), "tokens": count,
                             "capped": True})
        finally:
            rt.close()
    return rows


def batch_vs_single(*, model=None, n_tokens: int = 128, n_threads: int = 1) -> dict[str, float]:  # noqa: ANN001
    """Evaluate the same tokens as one batch (like a prompt) and one at a time (like decoding)."""
    from edgeagents.runtimes.llamacpp.runtime import LlamaCppRuntime

    rt = LlamaCppRuntime(model, n_ctx=512, n_threads=n_threads, n_threads_batch=n_threads)
    try:
        tokens = rt.tokenize(" ".join(["lighthouse keeper notes the weather"] * 60))[:n_tokens]
        llm = rt._llm  # noqa: SLF001 - the measurement needs llama.cpp directly
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(tokens)
        batch_s = time.perf_counter() - t0
        llm.reset()
        t0 = time.perf_counter()
        for tok in tokens:
            llm.eval([tok])
        single_s = time.perf_counter() - t0
        llm.reset()
    finally:
        rt.close()
    return {"tokens": len(tokens), "batch_tps": round(len(tokens) / batch_s, 1),
            "single_tps": round(len(tokens) / single_s, 1), "speedup": round(single_s / batch_s, 2)}


def _common_prefix_words(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.split(), b.split()):
        if x != y:
            break
        n += 1
    return n


def compare_runtimes(prompts: Sequence[str] = PROMPTS, *, max_tokens: int = 32, n_threads: int = 1) -> list[dict[str, Any]]:
    """The course model on llama.cpp (Q4_K_M GGUF) and ONNX Runtime GenAI (int4), greedy, same prompts.

    One row per runtime: load time, RSS added, mean TTFT, mean decode tok/s, and how many words
    of each answer agree with llama.cpp's (the quality check).
    """
    from edgeagents.measure import rss_mb
    from edgeagents.runtimes.llamacpp.runtime import LlamaCppRuntime
    from edgeagents.runtimes.onnx_genai import OnnxGenAIRuntime

    openers = {"llama.cpp (GGUF Q4_K_M)": lambda: LlamaCppRuntime("base", n_ctx=1024, n_threads=n_threads),
               "ONNX Runtime GenAI (int4)": lambda: OnnxGenAIRuntime(n_ctx=1024, n_threads=n_threads)}
    texts: dict[str, list[str]] = {}
    rows = []
    for name, open_ in openers.items():
        before = rss_mb()
        t0 = time.perf_counter()
        rt = open_()
        load_s = time.perf_counter() - t0
        try:
            results = [rt.complete(p, max_tokens=max_tokens) for p in prompts]
            rss = rss_mb() - before
        finally:
            rt.close()
        texts[name] = [r.text for r in results]
        n = len(results)
        rows.append({"runtime": name, "load_s": round(load_s, 2), "rss_mb": round(rss, 0),
                     "ttft_ms": round(1000 * sum(r.timings.ttft_s for r in results) / n, 1),
                     "decode_tps": round(sum(r.timings.decode_tps for r in results) / n, 1),
                     "prompt_tps": round(sum(r.timings.prompt_tps for r in results) / n, 1)})
    ref = texts[next(iter(texts))]
    for row in rows:
        mine = texts[row["runtime"]]
        row["same_first_words"] = round(sum(_common_prefix_words(a, b) for a, b in zip(mine, ref)) / len(ref), 1)
        row["sample"] = mine[0][:60]
    return rows
