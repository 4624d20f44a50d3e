"""Ollama vs llama.cpp on the same F16 GGUF, the same prompts, greedy: ratios side by side.

Starts the course's Ollama server (or uses $OLLAMA_HOST if one answers), creates the course model
from the local GGUF, and runs each prompt on llama.cpp (in-process) and on Ollama, interleaved.
Prints TTFT and decode tok/s per runtime, their ratio, and whether the greedy texts match.
Not a test: the numbers depend on the machine and its load.

    python benchmarks/bench_ollama_vs_llamacpp.py [--max-tokens 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics

from edgeagents.ollama.service import compare_runtimes
from edgeagents.runtimes import LlamaCppRuntime
from edgeagents.runtimes.ollama import COURSE_MODEL, connect
from edgeagents.runtimes.ollama.manager import course_f16_gguf
from edgeagents.runtimes.ollama.runtime import OllamaRuntime

PROMPTS = ["Q: What is the capital of Italy?\nA:", "The three primary colours are", "def add(a, b):\n    return"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-tokens", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    manager, server = connect()
    if manager is None:
        raise SystemExit(1)
    try:
        print(manager.ensure_course_model(num_predict=16))
        rows = []
        with LlamaCppRuntime(course_f16_gguf(), n_ctx=256) as lc, OllamaRuntime(COURSE_MODEL, manager.host) as ol:
            for _ in range(args.rounds):
                rows += compare_runtimes({"llama.cpp": lc, "ollama": ol}, PROMPTS, max_tokens=args.max_tokens)
    finally:
        if server is not None:
            server.stop()
    print(f"{'runtime':10} {'ttft_s':>8} {'decode tok/s':>13}")
    med = {}
    for name in ("llama.cpp", "ollama"):
        mine = [r for r in rows if r["runtime"] == name]
        med[name] = (statistics.median(r["ttft_s"] for r in mine), statistics.median(r["decode_tok_s"] for r in mine))
        print(f"{name:10} {med[name][0]:8.3f} {med[name][1]:13.2f}")
    if med["ollama"][1] > 0:
        print(f"decode ratio llama.cpp / ollama: {med['llama.cpp'][1] / med['ollama'][1]:.1f}x; "
              f"TTFT ratio ollama / llama.cpp: {med['ollama'][0] / max(med['llama.cpp'][0], 1e-9):.1f}x")
    texts = {}
    for r in rows:
        texts.setdefault(r["prompt"], set()).add(r["text"])
    print("same greedy text on both runtimes:", all(len(t) == 1 for t in texts.values()))


if __name__ == "__main__":
    main()
