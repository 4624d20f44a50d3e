"""How much does the library's llama.cpp runtime cost over raw ``llama_cpp.Llama``?

Both run the same course model, the same prompts and settings, interleaved in one process
(the machine is shared and noisy, so only side-by-side ratios mean anything). Prints decode
and prompt tokens/s for each, their ratio (target >= 0.97), TTFT, and peak RSS.

    python benchmarks/bench_llamacpp_overhead.py [--rounds 6] [--max-tokens 64] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import llama_cpp

from edgeagents.measure import peak_rss_mb, rss_mb
from edgeagents.models.course import course_model
from edgeagents.runtimes import LlamaCppRuntime

TOPICS = ["rivers", "volcanoes", "bees", "lighthouses", "glaciers", "trains", "coral reefs", "deserts", "owls", "comets"]


def prompt_for(i: int) -> str:
    topic = TOPICS[i % len(TOPICS)]
    return f"Article {i}. A short encyclopedia entry about {topic}, written for students.\n\n{topic.capitalize()} are"


def raw_run(llm: llama_cpp.Llama, prompt: str, max_tokens: int) -> dict[str, float]:
    llm.reset()
    start = time.perf_counter()
    first = None
    n = 0
    for _chunk in llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, stream=True):
        if first is None:
            first = time.perf_counter()
        n += 1
    end = time.perf_counter()
    n_prompt = len(llm.tokenize(prompt.encode()))
    assert first is not None
    return {"ttft": first - start, "prompt_tps": n_prompt / (first - start), "decode_tps": (n - 1) / (end - first), "n": n}


def lib_run(rt: LlamaCppRuntime, prompt: str, max_tokens: int) -> dict[str, float]:
    stream = rt.complete_stream(prompt, max_tokens=max_tokens)
    for _ in stream:
        pass
    t = stream.result.timings
    return {"ttft": t.ttft_s, "prompt_tps": t.prompt_tps, "decode_tps": t.decode_tps, "n": t.completion_tokens}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    spec = course_model("base")
    base_rss = rss_mb()
    raw = llama_cpp.Llama(
        model_path=str(spec.path), n_ctx=2048, n_batch=256, n_threads=args.threads, n_threads_batch=args.threads, verbose=False
    )
    ours = LlamaCppRuntime(spec, n_ctx=2048, n_threads=args.threads)
    print(f"model: {spec.label}; threads={args.threads}; rounds={args.rounds}; max_tokens={args.max_tokens}")
    print(f"RSS: {base_rss:.0f} MB before loading, {rss_mb():.0f} MB with both models loaded")

    results: dict[str, list[dict[str, float]]] = {"raw": [], "lib": []}
    lib_run(ours, prompt_for(99), 8)  # warm-up, both
    raw_run(raw, prompt_for(98), 8)
    for i in range(args.rounds):
        prompt = prompt_for(i)
        order = [("raw", lambda p=prompt: raw_run(raw, p, args.max_tokens)),
                 ("lib", lambda p=prompt: lib_run(ours, p, args.max_tokens))]
        if i % 2:
            order.reverse()  # alternate who goes first so drift hits both equally
        for name, fn in order:
            results[name].append(fn())

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    print(f"\n{'metric':<22}{'raw Llama':>12}{'edgeagents':>12}{'ratio':>8}")
    for key, label in [("decode_tps", "decode tokens/s"), ("prompt_tps", "prompt tokens/s"), ("ttft", "TTFT (ms)")]:
        scale = 1000 if key == "ttft" else 1
        r, ours_v = med("raw", key) * scale, med("lib", key) * scale
        ratio = (r / ours_v) if key == "ttft" else (ours_v / r)
        print(f"{label:<22}{r:>12.1f}{ours_v:>12.1f}{ratio:>8.3f}")
    print(f"\ndecode ratio (edgeagents / raw): {med('lib', 'decode_tps') / med('raw', 'decode_tps'):.3f}  (target >= 0.97)")
    print(f"peak RSS of this process: {peak_rss_mb():.0f} MB (two copies of the model loaded)")


if __name__ == "__main__":
    main()
