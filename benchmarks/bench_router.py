"""Benchmark the router's complexity classifiers on the held-out request set.

Prints, per classifier: share kept local, misroutes each way, cost saved against sending
everything to the large model, and routing latency per request; then the targets side by side.
Not a test: numbers depend on the machine and its load.

    python benchmarks/bench_router.py [--slm-sample 40] [--model gpt-4o]
"""

from __future__ import annotations

import argparse
import os
import random
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from edgeagents.routing import (  # noqa: E402
    CostModel,
    EmbeddingClassifier,
    RuleClassifier,
    SLMClassifier,
    evaluate,
    load_cloud_prices,
    load_requests,
)
from edgeagents.routing.embeddings import default_embedder  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--slm-sample", type=int, default=40, help="held-out requests scored by the SLM (0 to skip)")
    ap.add_argument("--model", default="gpt-4o", help="cloud model from data/cloud_prices.json")
    args = ap.parse_args()
    train, test = load_requests("train"), load_requests("test")
    costs = CostModel(load_cloud_prices().get(args.model))
    print(f"request set: {len(train)} train / {len(test)} test (held-out templates); "
          f"{sum(r.label == 'local' for r in test) / len(test):.0%} of test labelled local; prices vs {args.model}")

    rows = [evaluate(RuleClassifier(), test, costs)]
    t0 = time.perf_counter()
    emb = EmbeddingClassifier(default_embedder()).fit([r.text for r in train], [r.label for r in train])
    print(f"embedding classifier: {emb.embedder.name}, fitted on train in {time.perf_counter() - t0:.1f} s")
    rows.append(evaluate(emb, test, costs))
    if args.slm_sample:
        import edgeagents

        rt = edgeagents.open_runtime()
        rng = random.Random(0)
        calib = rng.sample(train, 16)
        slm = SLMClassifier(runtime=rt).calibrate([r.text for r in calib], [r.label for r in calib])
        sample = rng.sample(test, min(args.slm_sample, len(test)))
        row = evaluate(slm, sample, costs)
        row["classifier"] += f" (sample of {len(sample)})"
        rows.append(row)

    print(f"\n{'classifier':45s} {'n':>4s} {'local':>7s} {'llm→local':>10s} {'local→llm':>10s} {'saved':>7s} {'ms/req':>9s} {'cpu ms':>8s}")
    for r in rows:
        print(f"{r['classifier'][:45]:45s} {r['n']:4d} {r['kept_local']:7.1%} {r['llm_kept_local']:10.1%} "
              f"{r['local_sent_to_llm']:10.1%} {r['cost_saved']:7.1%} {r['routing_ms']:9.2f} {r['routing_cpu_ms']:8.2f}")
    best = max(rows[:2], key=lambda r: (r["llm_kept_local"] <= 0.10, r["kept_local"]))
    print("\ntargets (measured vs target):")
    print(f"  best ({best['classifier'][:30]}): kept local {best['kept_local']:.1%} vs >= 70 %; "
          f"LLM-labelled kept local {best['llm_kept_local']:.1%} vs <= 10 %")
    load = f"cores: {os.cpu_count()}, load avg {os.getloadavg()[0]:.1f}"
    print(f"  rules latency {rows[0]['routing_ms']:.3f} ms wall / {rows[0]['routing_cpu_ms']:.3f} ms CPU vs < 1 ms")
    print(f"  embeddings latency {rows[1]['routing_ms']:.1f} ms wall / {rows[1]['routing_cpu_ms']:.1f} ms CPU vs < 30 ms ({load})")


if __name__ == "__main__":
    main()
