"""The course model on two edge runtimes, side by side: llama.cpp (GGUF Q4_K_M) and ONNX Runtime GenAI (int4).

Same prompts, greedy decoding, same thread count, one process, run in turns. Prints load time,
RSS added, TTFT, prompt and decode tokens/s, the ratio ONNX / llama.cpp, and how many leading
words of each answer agree (a quality check: both are 4-bit copies of the same weights).

    python benchmarks/bench_runtimes.py [--rounds 2] [--max-tokens 48] [--threads 1]
"""

from __future__ import annotations

import argparse

import pandas as pd

from edgeagents.runtimes.compare import compare_runtimes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    frames = [pd.DataFrame(compare_runtimes(max_tokens=args.max_tokens, n_threads=args.threads)) for _ in range(args.rounds)]
    df = pd.concat(frames).groupby("runtime", sort=False).agg(
        {"load_s": "median", "rss_mb": "median", "ttft_ms": "median", "prompt_tps": "median", "decode_tps": "median",
         "same_first_words": "median", "sample": "first"})
    pd.set_option("display.width", 200)
    print(df.to_string())
    a, b = df.iloc[0], df.iloc[1]
    print(f"\nONNX / llama.cpp: decode {b.decode_tps / a.decode_tps:.2f}x, TTFT {b.ttft_ms / a.ttft_ms:.2f}x, "
          f"RSS {b.rss_mb / max(a.rss_mb, 1):.2f}x  ({args.rounds} rounds, median; {args.threads} thread(s))")


if __name__ == "__main__":
    main()
