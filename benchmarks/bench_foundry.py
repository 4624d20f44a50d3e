"""Foundry Local against llama.cpp on the same prompts: load time, TTFT, decode tok/s, memory (RSS).

Each runtime runs in its own fresh Python process, so its memory is measured from a clean start;
the two are run one after the other, ``--rounds`` times, alternating, and the medians printed side
by side with the ratio Foundry Local / llama.cpp. Threads: ``EDGEAGENTS_THREADS`` (default 1 here).

    python benchmarks/bench_foundry.py [--rounds 2] [--max-tokens 48]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys


def child(which: str, max_tokens: int) -> None:
    from edgeagents.foundry.compare import measure

    if which == "llama.cpp":
        from edgeagents.runtimes import LlamaCppRuntime

        row = measure(lambda: LlamaCppRuntime("base"), max_tokens=max_tokens)
    else:
        from edgeagents.runtimes.foundry_local import FoundryLocalRuntime

        row = measure(lambda: FoundryLocalRuntime("course"), max_tokens=max_tokens)
    print("RESULT " + json.dumps(row))


def run_child(which: str, max_tokens: int) -> dict:
    env = {**os.environ, "EDGEAGENTS_THREADS": os.environ.get("EDGEAGENTS_THREADS", "1")}
    out = subprocess.run(
        [sys.executable, __file__, "--child", which, "--max-tokens", str(max_tokens)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"{which} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return json.loads(line[len("RESULT "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--child", choices=["llama.cpp", "foundry-local"])
    args = parser.parse_args()
    if args.child:
        child(args.child, args.max_tokens)
        return
    from edgeagents.foundry import sdk

    if not sdk.sdk_available():
        print(sdk.why_unavailable())
        return
    runs: dict[str, list[dict]] = {"llama.cpp": [], "foundry-local": []}
    for _ in range(args.rounds):
        for which in runs:
            runs[which].append(run_child(which, args.max_tokens))
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
