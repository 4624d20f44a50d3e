"""Foundry Local against llama.cpp on the same prompts: load time, TTFT, decode tok/s, memory (RSS).

Each runtime runs in its own fresh Python process (``edgeagents.foundry.compare.measure_fresh``), so
its memory is measured from a clean start; the two are run one after the other, ``--rounds`` times, alternating, and the medians printed side
by side with the ratio Foundry Local / llama.cpp. Threads: ``EDGEAGENTS_THREADS`` (default 1 here).

    python benchmarks/bench_foundry.py [--rounds 2] [--max-tokens 48]
"""

from __future__ import annotations

import argparse
import os
import statistics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=48)
    args = parser.parse_args()
    os.environ.setdefault("EDGEAGENTS_THREADS", "1")
    from edgeagents.foundry.compare import PROMPTS, measure_fresh
    from edgeagents.runtimes.foundry import sdk

    if not sdk.sdk_available():
        print(sdk.why_unavailable())
        return
    runs: dict[str, list[dict]] = {"llama.cpp": [], "foundry-local": []}
    for _ in range(args.rounds):
        for which in runs:
            runs[which].append(measure_fresh(which, len(PROMPTS), args.max_tokens))
    keys = ["load_s", "rss_load_mb", "rss_peak_mb", "ttft_s", "decode_tok_s"]
    med = {w: {k: statistics.median(r[k] for r in rows) for k in keys} for w, rows in runs.items()}
    print(f"threads={os.environ.get('EDGEAGENTS_THREADS', '1')} rounds={args.rounds} max_tokens={args.max_tokens}")
    print(f"{'metric':<14}{'llama.cpp':>12}{'foundry-local':>15}{'ratio FL/llama':>16}")
    for k in keys:
        a, b = med["llama.cpp"][k], med["foundry-local"][k]
        ratio = f"{b / a:.2f}" if a else "-"
        print(f"{k:<14}{a:>12.3f}{b:>15.3f}{ratio:>16}")
    for w, rows in runs.items():
        print(f"{w} first reply: {rows[0]['first_reply']!r}")


if __name__ == "__main__":
    main()
