"""Tool calling on the 20 labelled customer requests: auto vs route, base vs course model.

    python benchmarks/bench_tool_calling.py            # all 20 requests, both strategies
    python benchmarks/bench_tool_calling.py --limit 8  # one request per tool

Prints the per-request rows and the summary (called / right tool / right arguments / seconds).
When no course adapter is installed, the course model is the base model and only one is run.
"""

import argparse

from edgeagents.agents.toolbench import load_requests, run_bench, summarise
from edgeagents.models import course_model
from edgeagents.runtimes import LlamaCppRuntime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    requests = load_requests(args.limit)
    variants = ["base"] if course_model("course").adapter_path is None else ["base", "course"]
    frames = []
    for variant in variants:
        with LlamaCppRuntime(course_model(variant), n_ctx=2048) as rt:
            frames.append(run_bench(rt, requests))
    import pandas as pd

    df = pd.concat(frames)
    print(df[["model", "id", "strategy", "expected_tool", "tool", "args_ok", "arguments", "seconds"]].to_string())
    print()
    print(summarise(df).to_string())


if __name__ == "__main__":
    main()
