"""Tool calling, base vs course model, on two held-out sets in one run.

1. the 20 labelled customer requests on the course's own tools: auto vs route;
2. the 210 unseen-tool items (``edgeagents/data/heldout_unseen_tools.jsonl``): tools from domains
   the course never trains on, ``tool_choice="auto"``, greedy, scored structurally.

    python benchmarks/bench_tool_calling.py            # everything (about 10-20 min per model on one core)
    python benchmarks/bench_tool_calling.py --limit 8  # one customer request per tool
    python benchmarks/bench_tool_calling.py --unseen-limit 30 --json unseen.json

Prints the per-request rows and summary of set 1, then the unseen-tool table (rates per kind and
failure categories). When no course adapter is installed, the course model is the base model and
only one is run.

Measured on 2026-12-02 (2-core shared machine, 1 thread, greedy, max_tokens 96), unseen-tool set:

    base:   single exact 0/90, right tool 0/90; choose exact 0/60; none no call 55/60
            (no call 134, invalid JSON 16, extra call 5)
    course: single exact 5/90, right tool 42/90; choose exact 1/60, right tool 16/60; none no call 37/60
            (no call 55, invalid JSON 9, wrong name 28, unknown argument 3, missing required 22,
             wrong type 13, wrong value 14, extra call 23)
"""

import argparse

from edgeagents.agents.toolbench import load_requests, run_bench, summarise
from edgeagents.models import course_model
from edgeagents.models.finetune.unseen import evaluate_unseen, format_unseen_table, load_unseen
from edgeagents.runtimes import LlamaCppRuntime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None, help="customer requests (set 1)")
    ap.add_argument("--unseen-limit", type=int, default=None, help="unseen-tool items (set 2), taken evenly across kinds")
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--json", default=None, help="also write the unseen-tool reports (every row) to this file")
    args = ap.parse_args()
    requests = load_requests(args.limit)
    items = load_unseen()
    if args.unseen_limit:
        step = max(1, len(items) // args.unseen_limit)
        items = items[::step][: args.unseen_limit]
    variants = ["base"] if course_model("course").adapter_path is None else ["base", "course"]
    frames, unseen = [], []
    for variant in variants:
        with LlamaCppRuntime(course_model(variant), n_ctx=2048) as rt:
            frames.append(run_bench(rt, requests))
            unseen.append(evaluate_unseen(rt, items, label=variant, max_tokens=args.max_tokens, progress=True))
    import pandas as pd

    df = pd.concat(frames)
    print(df[["model", "id", "strategy", "expected_tool", "tool", "args_ok", "arguments", "seconds"]].to_string())
    print()
    print(summarise(df).to_string())
    print()
    print(format_unseen_table(unseen))
    print("seconds: " + ", ".join(f"{r.label} {r.seconds:.0f}" for r in unseen))
    if args.json:
        import json
        from pathlib import Path

        Path(args.json).write_text(json.dumps([r.as_dict() for r in unseen], indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
