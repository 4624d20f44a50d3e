"""Every runtime this machine has, on the same prompts: TTFT, single-stream tok/s, aggregate tok/s at 8
concurrent requests, and the server's resident memory. Absent runtimes are listed with the reason.

Each runtime runs as an OpenAI-compatible server (or in-process where it has no server), one at a
time, so they never compete for the CPU or memory. The machine is shared and noisy: read the
ratios side by side, not the absolute numbers.

    python benchmarks/bench_all_runtimes.py [--max-tokens 32] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psutil

from edgeagents.errors import EdgeAgentsError
from edgeagents.vllm.load import DEFAULT_PROMPTS, measure


def tree_rss_mb(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 1e6
    except psutil.Error:
        return float("nan")


def http_row(name: str, base_url: str, model: str, pid: int | None, args: argparse.Namespace, ignore_eos: bool,
             extra_body: dict | None = None) -> dict:
    kw = {"ignore_eos": ignore_eos, "extra_body": extra_body}
    measure(base_url, model, concurrency=1, max_tokens=4, **kw)  # warm-up
    single = measure(base_url, model, concurrency=1, requests=3, max_tokens=args.max_tokens, **kw)
    many = measure(base_url, model, concurrency=args.concurrency, max_tokens=args.max_tokens, **kw)
    return {
        "runtime": name, "ttft_ms": 1000 * single.mean_ttft_s, "single_tok_s": single.aggregate_tps,
        f"aggregate_tok_s@{args.concurrency}": many.aggregate_tps, "batching_gain": many.aggregate_tps / single.aggregate_tps,
        "rss_mb": tree_rss_mb(pid) if pid else float("nan"), "tokens_per_request": many.completion_tokens / many.requests,
    }


def inprocess_row(name: str, rt: Any, args: argparse.Namespace) -> dict:
    msgs = lambda i: [{"role": "user", "content": DEFAULT_PROMPTS[i % len(DEFAULT_PROMPTS)]}]  # noqa: E731
    rt.chat(msgs(0), max_tokens=4)
    singles = [rt.chat(msgs(i), max_tokens=args.max_tokens) for i in range(3)]
    tok = sum(r.usage.completion_tokens for r in singles)
    secs = sum(r.timings.total_s for r in singles)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        many = list(pool.map(lambda i: rt.chat(msgs(i), max_tokens=args.max_tokens), range(args.concurrency)))
    wall = time.perf_counter() - t0
    many_tok = sum(r.usage.completion_tokens for r in many)
    return {
        "runtime": name, "ttft_ms": 1000 * sum(r.timings.ttft_s for r in singles) / 3, "single_tok_s": tok / secs,
        f"aggregate_tok_s@{args.concurrency}": many_tok / wall, "batching_gain": (many_tok / wall) / (tok / secs),
        "rss_mb": psutil.Process().memory_info().rss / 1e6, "tokens_per_request": many_tok / len(many),
    }


def run_llamacpp(args: argparse.Namespace) -> dict:
    from edgeagents.runtimes import LlamaCppServer

    with LlamaCppServer() as server:
        # llama.cpp's server has no ignore_eos: its replies end when the model ends its turn (see tokens_per_request)
        return http_row("llama.cpp (server)", server.base_url, server.alias, server.pid, args, ignore_eos=False)


def run_onnx(args: argparse.Namespace) -> dict:
    try:
        from edgeagents.runtimes import onnx_genai  # type: ignore[attr-defined]  # added by the model forge
    except ImportError as exc:
        raise LookupError(f"the ONNX Runtime GenAI runtime is not in this library ({exc})") from None
    rt = onnx_genai.open_course_model() if hasattr(onnx_genai, "open_course_model") else onnx_genai.OnnxGenAIRuntime()
    try:
        return inprocess_row("ONNX Runtime GenAI (in-process)", rt, args)
    finally:
        rt.close()


def run_ollama(args: argparse.Namespace) -> dict:
    host = os.environ.get("OLLAMA_HOST", "127.0.0.1:11434")
    root = host if host.startswith("http") else f"http://{host}"
    try:
        tags = httpx.get(f"{root}/api/tags", timeout=2).json().get("models", [])
    except httpx.HTTPError:
        raise LookupError(f"no Ollama server answers at {root}") from None
    model = os.environ.get("EDGEAGENTS_OLLAMA_MODEL") or (tags[0]["name"] if tags else "")
    if not model:
        raise LookupError("the Ollama server has no model (see lab 09)")
    pid = next((p.pid for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("ollama")), None)
    return http_row(f"Ollama ({model})", f"{root}/v1", model, pid, args, ignore_eos=False)


def run_vllm(args: argparse.Namespace) -> dict:
    from edgeagents.runtimes.vllm import VLLMServer, vllm_python

    if vllm_python() is None:
        raise LookupError("vLLM is not installed (make vllm)")
    avail = psutil.virtual_memory().available / 1e9
    if avail < 8:
        raise LookupError(f"vLLM needs ~8 GB free RAM; {avail:.1f} GB free now")
    with VLLMServer(max_model_len=2048) as server:
        return http_row("vLLM (CPU, float32)" if not server.gpu else "vLLM (GPU)", server.base_url, "course",
                        server.pid, args, ignore_eos=True)


RUNTIMES: dict[str, Callable[[argparse.Namespace], dict]] = {
    "llama.cpp": run_llamacpp, "onnx": run_onnx, "ollama": run_ollama, "vllm": run_vllm,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--only", nargs="*", choices=sorted(RUNTIMES), default=sorted(RUNTIMES))
    args = parser.parse_args()
    import pandas as pd

    rows, skipped = [], []
    for name in args.only:
        t0 = time.perf_counter()
        try:
            rows.append(RUNTIMES[name](args))
            print(f"{name}: measured in {time.perf_counter() - t0:.0f} s", flush=True)
        except LookupError as exc:
            skipped.append((name, str(exc)))
        except EdgeAgentsError as exc:  # a runtime that is not installed or cannot start here
            skipped.append((name, exc.message.splitlines()[0]))
        except Exception as exc:  # a broken runtime is reported, the others still run
            skipped.append((name, f"failed: {type(exc).__name__}: {str(exc)[:200]}"))
    pd.set_option("display.width", 160)
    if rows:
        print(pd.DataFrame(rows).round(2).to_string(index=False))
        print("tok/s include the time to first token; runtimes without ignore_eos stop when the model ends its turn,"
              " so compare tokens_per_request before comparing speeds.")
    for name, why in skipped:
        print(f"skipped {name}: {why}")


if __name__ == "__main__":
    main()
