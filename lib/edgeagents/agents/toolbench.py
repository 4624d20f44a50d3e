"""Score tool calling on the course's labelled customer requests.

Two strategies, same requests, same model:

* ``"auto"``  — the tools are listed and the model decides whether to call one (``tool_choice="auto"``).
* ``"route"`` — :class:`~edgeagents.agents.framework.ScoredToolRouter` ranks the tool names by
  log-probability, then the call is forced (``tool_choice=<name>``) so the arguments are schema-valid.

Scored per request: was a call made, was it the right tool, were the arguments right (ids and
enums must match exactly; free-text fields must contain a keyword). Rerun with any model:
``run_bench(LlamaCppRuntime(course_model("course")))`` for the course model (base + course adapter).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any, Literal

from edgeagents.agents.framework import ScoredToolRouter, tool_call_arguments
from edgeagents.agents.tools import TOOL_SPECS
from edgeagents.errors import EdgeAgentsError, InvalidRequestError
from edgeagents.runtimes.base import ToolSpec

Strategy = Literal["auto", "route"]
SYSTEM = "You are the support assistant of a small electronics shop. Use a tool when one fits."


@dataclass(frozen=True)
class LabelledRequest:
    id: int
    request: str
    tool: str
    arguments: dict[str, Any]
    contains: dict[str, str]


@dataclass(frozen=True)
class BenchRow:
    id: int
    strategy: str
    model: str
    expected_tool: str
    called: bool
    tool: str | None
    tool_ok: bool
    args_ok: bool
    arguments: str
    seconds: float
    error: str = ""


def load_requests(limit: int | None = None, *, stratified: bool = True) -> list[LabelledRequest]:
    """The labelled requests shipped with the library (``data/agents/tool_requests.jsonl``).

    ``limit`` keeps a smaller set; ``stratified`` spreads it over the tools (round-robin by tool).
    """
    text = resources.files("edgeagents").joinpath("data/agents/tool_requests.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    reqs = [LabelledRequest(r["id"], r["request"], r["tool"], r.get("arguments", {}), r.get("contains", {}))
            for r in rows]
    if limit is None or limit >= len(reqs):
        return reqs
    if limit < 1:
        raise InvalidRequestError(f"limit must be at least 1, got {limit}.")
    if not stratified:
        return reqs[:limit]
    by_tool: dict[str, list[LabelledRequest]] = {}
    for r in reqs:
        by_tool.setdefault(r.tool, []).append(r)
    picked: list[LabelledRequest] = []
    while len(picked) < limit:
        for group in by_tool.values():
            if group and len(picked) < limit:
                picked.append(group.pop(0))
    return sorted(picked, key=lambda r: r.id)


def arguments_ok(req: LabelledRequest, arguments: dict[str, Any]) -> bool:
    """Exact match on the labelled arguments; case-insensitive keyword match on the ``contains`` fields."""
    for key, want in req.arguments.items():
        if arguments.get(key) != want:
            return False
    for key, word in req.contains.items():
        if word.lower() not in str(arguments.get(key, "")).lower():
            return False
    return True


def run_one(runtime: Any, req: LabelledRequest, strategy: Strategy, tools: Sequence[ToolSpec] | None = None,
            *, router: ScoredToolRouter | None = None, max_tokens: int = 32) -> BenchRow:
    """Ask one labelled request with one strategy and score the reply."""
    specs = list(tools or TOOL_SPECS.values())
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": req.request}]
    model = str(getattr(getattr(runtime, "spec", None), "label", "") or getattr(runtime, "model", ""))
    t0 = time.perf_counter()
    error = ""
    call = None
    arguments: dict[str, Any] = {}
    try:
        if strategy == "auto":
            result = runtime.chat(messages, tools=specs, tool_choice="auto", max_tokens=max_tokens)
        elif strategy == "route":
            choice = (router or ScoredToolRouter(runtime)).route(req.request, specs).tool
            result = runtime.chat(messages, tools=specs, tool_choice=choice, max_tokens=160)
        else:
            raise InvalidRequestError(f"strategy must be 'auto' or 'route', got {strategy!r}.")
        first = result.tool_calls[0] if result.tool_calls else None
        arguments = tool_call_arguments(first) if first else {}
        call = first
    except InvalidRequestError:
        raise
    except EdgeAgentsError as exc:  # a broken call counts as a miss, with its reason
        error = exc.message[:120]
    seconds = time.perf_counter() - t0
    tool_ok = call is not None and call.name == req.tool
    return BenchRow(
        id=req.id, strategy=strategy, model=model, expected_tool=req.tool, called=call is not None,
        tool=call.name if call else None, tool_ok=tool_ok,
        args_ok=tool_ok and arguments_ok(req, arguments),
        arguments=json.dumps(arguments, ensure_ascii=False) if call else "",
        seconds=round(seconds, 3), error=error,
    )


def run_bench(runtime: Any, requests: Iterable[LabelledRequest] | None = None,
              strategies: Sequence[Strategy] = ("auto", "route"), *, progress: bool = True):  # noqa: ANN201
    """Every request under every strategy; returns a pandas DataFrame of :class:`BenchRow`."""
    import pandas as pd

    reqs = list(requests if requests is not None else load_requests())
    jobs = [(r, s) for s in strategies for r in reqs]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc="tool bench")
    router = ScoredToolRouter(runtime)
    rows = [asdict(run_one(runtime, r, s, router=router)) for r, s in jobs]
    return pd.DataFrame(rows)


def summarise(df: Any) -> Any:
    """Per model and strategy: share of requests with a call, right tool, right arguments; mean seconds."""
    return (df.groupby(["model", "strategy"])
              .agg(requests=("id", "count"), called=("called", "mean"), tool_accuracy=("tool_ok", "mean"),
                   argument_accuracy=("args_ok", "mean"), mean_s=("seconds", "mean"))
              .round(3).reset_index())
