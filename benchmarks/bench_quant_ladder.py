"""The quantization ladder of the course model, measured side by side in one run.

Builds (or reuses from the forge cache) the F16 reference and every level, then prints one
table: file size, bits per weight, load time, RSS added, prompt and decode tokens/s, and
quality on the library's fixed evaluation text (perplexity, KL divergence and top-1 agreement
against F16). Ratios against F16 are printed too: on a shared, noisy machine only those
side-by-side comparisons mean much.

Remember: the F16 is the expanded Q4_K_M course model, so every level is a requantization.

    python benchmarks/bench_quant_ladder.py [--tokens 450] [--threads 1] [--levels Q8_0 Q4_0]
"""

from __future__ import annotations

import argparse

import pandas as pd

from edgeagents.models.forge import LADDER
from edgeagents.quality import measure_ladder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=450, help="evaluation tokens (the whole text is ~450)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-tokens", type=int, default=48, help="tokens generated for the speed test")
    ap.add_argument("--levels", nargs="*", default=list(LADDER), choices=list(LADDER))
    args = ap.parse_args()
    rows = measure_ladder(args.levels, n_tokens=args.tokens, n_threads=args.threads, max_tokens=args.max_tokens)
    df = pd.DataFrame(rows).set_index("level")
    ref = df.loc["F16"]
    df["size_vs_f16"] = (df["size_mb"] / ref["size_mb"]).round(3)
    df["decode_vs_f16"] = (df["decode_tps"] / ref["decode_tps"]).round(2)
    df["ppl_vs_f16"] = (df["perplexity"] / ref["perplexity"]).round(3)
    pd.set_option("display.width", 200)
    print(df.drop(columns=["eval_tokens"]).to_string())
    print(f"\n{int(ref['eval_tokens'])} evaluation tokens, {args.threads} thread(s). "
          "F16 = the Q4_K_M course model expanded: every level is a requantization.")


if __name__ == "__main__":
    main()
