"""Tool calling, base vs course model, on two held-out sets in one run.

1. the 20 labelled customer requests on the course's own tools: auto vs route;
2. the 210 unseen-tool items (``edgeagents/data/heldout_unseen_tools.jsonl``): tools from domains
   the course never trains on, ``tool_choice="auto"``, greedy, scored structurally.

    python benchmarks/bench_tool_calling.py            # everything (about 10-20 min per model on one core)
    python benchmarks/bench_tool_calling.py --limit 8  # one customer request per tool
    python benchmarks/bench_tool_calling.py --unseen-limit 30 --json unseen.json
    python benchmarks/bench_tool_calling.py --adapter run/course-lora.gguf   # a candidate adapter

Three variants side by side: the base model and the tuned model written freely
(``tool_grammar=False``), then the tuned model under the call grammar (``tool_grammar=True``, the
default on llama.cpp in-process).

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
from dataclasses import replace
from pathlib import Path
from typing import Any

from edgeagents.agents.toolbench import load_requests, run_bench, summarise
from edgeagents.finetune.unseen import (
    evaluate_unseen,
    format_unseen_table,
    load_unseen,
)
from edgeagents.models import course_model
from edgeagents.runtimes import LlamaCppRuntime


class WithOptions:
    """A runtime whose automatic-choice ``chat`` calls get ``options`` (here: ``tool_grammar``, which applies only to
    ``tool_choice="auto"``; a forced call is always written under a grammar)."""

    def __init__(self, runtime: Any, **options: Any) -> None:
        self._runtime, self._options = runtime, options

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime, name)

    def chat(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("tool_choice", "auto") == "auto":
            kwargs = {**self._options, **kwargs}
        return self._runtime.chat(*args, **kwargs)


def variants(adapter: str | None) -> list[tuple[str, Any, bool]]:
    """``(label, model spec, grammar)``: base and tuned written freely, tuned again under the call grammar."""
    base = course_model("base")
    tuned = course_model("course")
    if adapter:
        tuned = replace(base, name="gemma-3-270m-candidate", adapter_path=Path(adapter), is_base_model=False)
    out = [("base", base, False)]
    if tuned.adapter_path is not None:
        out += [("tuned", tuned, False), ("tuned+grammar", tuned, True)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None, help="customer requests (set 1)")
    ap.add_argument("--unseen-limit", type=int, default=None, help="unseen-tool items (set 2), taken evenly across kinds")
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--adapter", default=None, help="a candidate GGUF adapter instead of the shipped one")
    ap.add_argument("--only", default=None, help="comma-separated labels to run (base, tuned, tuned+grammar)")
    ap.add_argument("--json", default=None, help="also write the unseen-tool reports (every row) to this file")
    args = ap.parse_args()
    requests = load_requests(args.limit)
    items = load_unseen()
    if args.unseen_limit:
        step = max(1, len(items) // args.unseen_limit)
        items = items[::step][: args.unseen_limit]
    chosen = variants(args.adapter)
    if args.only:
        keep = set(args.only.split(","))
        chosen = [v for v in chosen if v[0] in keep]
    frames, unseen = [], []
    for label, spec, grammar in chosen:
        with LlamaCppRuntime(spec, n_ctx=2048) as raw:
            rt = WithOptions(raw, tool_grammar=grammar)
            frame = run_bench(rt, requests)
            frame["model"] = label
            frames.append(frame)
            unseen.append(evaluate_unseen(rt, items, label=label, max_tokens=args.max_tokens, progress=True))
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

        Path(args.json).write_text(json.dumps([r.as_dict() for r in unseen], indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
