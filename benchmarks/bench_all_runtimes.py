"""Every runtime this machine has, on the same work: TTFT, single-stream tok/s, aggregate tok/s at N concurrent
requests, and resident memory, with the ratios to llama.cpp in-process beside them. Absent runtimes are listed
with the reason.

Same work means the same number of generated tokens. The runtimes' shared options have no "ignore end of turn",
so every request is a raw completion of a prompt that has no natural end (counting, the alphabet): the model keeps
going until ``max_tokens``. The table reports the tokens each runtime actually generated per request; compare
speeds only between rows where that column agrees.

Every figure comes from :class:`edgeagents.monitoring.Collector` (the runtimes' own request events) and
:func:`edgeagents.monitoring.load.run_load` (wall clock for the aggregate), one runtime at a time so they never
compete for the CPU or memory. llama.cpp runs in-process and as llama-cpp-python's server; Ollama is the one at
$OLLAMA_HOST when it answers, otherwise the course's own server (``make ollama-server``) started for the run. The
machine may be shared and noisy: read the ratios side by side, not the absolute numbers.

    python benchmarks/bench_all_runtimes.py [--max-tokens 32] [--concurrency 8] [--only llama.cpp llama.cpp-server]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psutil

from edgeagents.errors import EdgeAgentsError
from edgeagents.monitoring import Collector
from edgeagents.monitoring.load import run_load

# Prompts with no natural end, so a model continues them to max_tokens instead of ending its turn.
PROMPTS = (
    "Counting from one to five hundred: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,",
    "The alphabet, over and over: a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f",
    "Even numbers: 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,",
    "Counting down from one thousand: 1000, 999, 998, 997, 996, 995,",
)
REFERENCE = "llama.cpp"


def tree_rss_mb(pid: int | None) -> float:
    """Resident memory of a process and its children (a server and its runner), in MB."""
    if pid is None:
        return float("nan")
    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 1e6
    except psutil.Error:
        return float("nan")


def measure(label: str, rt: Any, args: argparse.Namespace, pid: int | None) -> dict[str, Any]:
    """One row: a warm-up, then 3 requests one at a time and ``concurrency`` at once, read from a collector."""
    def send(i: int) -> Any:
        return rt.complete(PROMPTS[i % len(PROMPTS)], max_tokens=args.max_tokens, temperature=0.0)

    rt.complete(PROMPTS[0], max_tokens=4)  # loads weights and caches: not part of the figures
    with Collector(window_s=3600).attach() as single:
        run_load(send, n=3, concurrency=1)
    with Collector(window_s=3600).attach() as many:
        load = run_load(send, n=args.concurrency, concurrency=args.concurrency)
    s, m = _one(single), _one(many)
    aggregate = load.summary()["output_tokens_per_s"]
    return {
        "runtime": label, "tokens_per_request": (s.completion_tokens + m.completion_tokens) / (s.requests + m.requests),
        "failed": s.errors + m.errors, "ttft_p50_s": s.ttft_p50_s, "single_tok_s": s.output_tokens_per_s,
        f"aggregate_tok_s@{args.concurrency}": aggregate,
        "batching_gain": aggregate / s.output_tokens_per_s if s.output_tokens_per_s else None,
        "rss_mb": tree_rss_mb(pid),
    }


def _one(collector: Collector) -> Any:
    stats = collector.stats()
    if len(stats) != 1:
        raise RuntimeError(f"expected one runtime's events, got {[(x.runtime, x.model) for x in stats]}")
    return stats[0]


@contextmanager
def llamacpp() -> Iterator[tuple[Any, int | None]]:
    from edgeagents.runtimes import LlamaCppRuntime

    rt = LlamaCppRuntime()
    try:
        yield rt, os.getpid()
    finally:
        rt.close()


@contextmanager
def llamacpp_server() -> Iterator[tuple[Any, int | None]]:
    from edgeagents.runtimes import LlamaCppServer

    with LlamaCppServer() as server:
        yield server.runtime(), server.pid


@contextmanager
def onnx() -> Iterator[tuple[Any, int | None]]:
    try:
        from edgeagents.runtimes.onnx_genai import OnnxGenAIRuntime
    except ImportError as exc:
        raise LookupError(f"ONNX Runtime GenAI is not installed ({exc})") from None
    rt = OnnxGenAIRuntime()
    try:
        yield rt, os.getpid()
    finally:
        rt.close()


@contextmanager
def ollama() -> Iterator[tuple[Any, int | None]]:
    from edgeagents.runtimes.ollama.manager import OllamaManager
    from edgeagents.runtimes.ollama.runtime import OllamaRuntime
    from edgeagents.runtimes.ollama.server import OllamaServer

    server = None
    manager = OllamaManager(timeout=120)
    if not manager.health().ok:  # nothing at $OLLAMA_HOST: the course's own server
        manager.close()
        server = OllamaServer().start(timeout=120)
        manager = OllamaManager(server.base_url, timeout=120)
    try:
        name = manager.ensure_course_model()["name"]
        pid = server.process.pid if server is not None else next(
            (p.pid for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("ollama")), None)
        rt = OllamaRuntime(name, manager.host)
        try:
            yield rt, pid
        finally:
            rt.close()
    finally:
        manager.close()
        if server is not None:
            server.stop()


@contextmanager
def vllm() -> Iterator[tuple[Any, int | None]]:
    from edgeagents.runtimes.vllm.runtime import VLLMServer, vllm_python

    if vllm_python() is None:
        raise LookupError("vLLM is not installed (make vllm)")
    avail = psutil.virtual_memory().available / 1e9
    if avail < 8:
        raise LookupError(f"vLLM needs ~8 GB free RAM; {avail:.1f} GB free now")
    with VLLMServer(max_model_len=2048) as server:
        yield server.runtime(), server.pid


RUNTIMES: dict[str, Callable[[], Any]] = {
    "llama.cpp": llamacpp, "llama.cpp-server": llamacpp_server, "onnx": onnx, "ollama": ollama, "vllm": vllm,
}
LABELS = {"llama.cpp": "llama.cpp (in-process)", "llama.cpp-server": "llama.cpp (server)",
          "onnx": "ONNX Runtime GenAI (in-process)", "ollama": "Ollama (course server)", "vllm": "vLLM (server)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--only", nargs="*", choices=list(RUNTIMES), default=list(RUNTIMES))
    args = parser.parse_args()
    import pandas as pd

    rows, skipped = [], []
    for name in args.only:
        t0 = time.perf_counter()
        try:
            with RUNTIMES[name]() as (rt, pid):
                rows.append({"key": name, **measure(LABELS[name], rt, args, pid)})
            print(f"{name}: measured in {time.perf_counter() - t0:.0f} s", flush=True)
        except LookupError as exc:
            skipped.append((name, str(exc)))
        except EdgeAgentsError as exc:  # a runtime that is not installed or cannot start here
            skipped.append((name, exc.message.splitlines()[0]))
        except Exception as exc:  # a broken runtime is reported, the others still run
            skipped.append((name, f"failed: {type(exc).__name__}: {str(exc)[:200]}"))
    pd.set_option("display.width", 200)
    if rows:
        table = pd.DataFrame(rows)
        ref = table[table.key == REFERENCE]
        if len(ref):
            agg = f"aggregate_tok_s@{args.concurrency}"
            table[f"single_vs_{REFERENCE}"] = table.single_tok_s / ref.single_tok_s.iloc[0]
            table[f"aggregate_vs_{REFERENCE}"] = table[agg] / ref[agg].iloc[0]
        print(table.drop(columns="key").round(3).to_string(index=False))
        same = table.tokens_per_request.round(1).nunique() == 1
        print(f"every row generated {table.tokens_per_request.iloc[0]:.1f} tokens per request (max_tokens "
              f"{args.max_tokens})" if same else "the rows generated different numbers of tokens per request: "
              "compare their speeds with care")
        print("tok/s include the time to first token; single = mean of 3 requests one at a time (collector), "
              f"aggregate = tokens / wall clock of {args.concurrency} at once; rss_mb of an in-process row is this "
              "whole process.")
    for name, why in skipped:
        print(f"skipped {name}: {why}")


if __name__ == "__main__":
    main()
