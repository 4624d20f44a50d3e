"""Automatic tool calls with and without the call grammar, side by side (course model, llama.cpp).

    python benchmarks/bench_tool_grammar.py            # the 20 labelled requests
    python benchmarks/bench_tool_grammar.py --limit 8  # one request per tool
    python benchmarks/bench_tool_grammar.py --unseen   # 8 requests for 3 tools the adapter never saw

Every request runs with ``tool_choice="auto"`` twice: ``tool_grammar=True`` (a call the model
starts is written under a grammar from the tools' schemas) and ``tool_grammar=False`` (written
freely, checked afterwards). Per setting: calls started, valid calls, right tool, seconds.
"""

from __future__ import annotations

import argparse
import time

from edgeagents.agents.toolbench import SYSTEM, load_requests
from edgeagents.agents.tools import TOOL_SPECS
from edgeagents.errors import ToolCallError
from edgeagents.models import course_model
from edgeagents.runtimes import LlamaCppRuntime, ToolSpec
from edgeagents.runtimes.chat_template import TOOL_CALL_OPEN


def _tool(name: str, description: str, parameters: dict) -> ToolSpec:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


UNSEEN_TOOLS = [
    _tool("convert_temperature", "Convert a temperature to the other unit.", {
        "type": "object",
        "properties": {"value": {"type": "number"}, "unit": {"type": "string", "enum": ["C", "F"]}},
        "required": ["value", "unit"]}),
    _tool("add_to_playlist", "Add songs to the user's playlist.", {
        "type": "object",
        "properties": {"songs": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 5}},
        "required": ["songs"]}),
    _tool("book_table", "Book a restaurant table.", {
        "type": "object",
        "properties": {
            "restaurant": {"type": "string"},
            "party": {"type": "object", "properties": {"adults": {"type": "integer"}, "children": {"type": "integer"}},
                      "required": ["adults"]},
            "note": {"type": "string"}},
        "required": ["restaurant", "party"]}),
]
UNSEEN_REQUESTS = [
    (1, "Convert 100 Fahrenheit to Celsius.", "convert_temperature"),
    (2, "Please convert 451 F to C using the tool.", "convert_temperature"),
    (3, "Add the songs Yesterday and Hey Jude to my playlist.", "add_to_playlist"),
    (4, "Add Yesterday and Let It Be to my playlist.", "add_to_playlist"),
    (5, "Put 'Bohemian Rhapsody' on my playlist please.", "add_to_playlist"),
    (6, "Book a table at Nando's for 3 adults.", "book_table"),
    (7, "Book a table at Chez Paul for two adults and two children, note: birthday.", "book_table"),
    (8, "Book a table at Luigi's for 2 adults and 1 child.", "book_table"),
]


def run(rt: LlamaCppRuntime, request: str, tools: list[ToolSpec], grammar: bool) -> tuple[bool, str | None, float]:
    """(call started, name of the valid call or None, seconds) for one request."""
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": request}]
    t0 = time.perf_counter()
    stream = rt.chat_stream(messages, tools=tools, max_tokens=96, tool_grammar=grammar)
    try:
        raw = "".join(chunk.text for chunk in stream)
        name = stream.result.tool_calls[0].name if stream.result.tool_calls else None
    except ToolCallError as exc:
        raw, name = exc.raw or "", None
    return TOOL_CALL_OPEN in raw, name, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--unseen", action="store_true", help="tools the course adapter never saw in training")
    args = ap.parse_args()
    if args.unseen:
        tools, requests = UNSEEN_TOOLS, UNSEEN_REQUESTS[: args.limit]
    else:
        tools = list(TOOL_SPECS.values())
        requests = [(r.id, r.request, r.tool) for r in load_requests(args.limit)]
    totals = {True: [0, 0, 0, 0.0], False: [0, 0, 0, 0.0]}  # started, valid, right tool, seconds
    print(f"{'id':>3} {'expected':<24} {'grammar on':<26} {'grammar off':<26}")
    with LlamaCppRuntime(course_model("course"), n_ctx=2048) as rt:
        for req_id, request, expected in requests:
            cells = []
            for grammar in (True, False):
                started, name, seconds = run(rt, request, tools, grammar)
                t = totals[grammar]
                t[0] += started
                t[1] += name is not None
                t[2] += name == expected
                t[3] += seconds
                shown = name or ("INVALID" if started else "-")
                cells.append(f"{shown:<19} {seconds:5.1f}s")
            print(f"{req_id:>3} {expected:<24} {cells[0]:<26} {cells[1]:<26}")
    print()
    print(f"{'':<12} {'started':>8} {'valid':>6} {'right tool':>11} {'seconds':>8}")
    for grammar in (True, False):
        started, valid, right, seconds = totals[grammar]
        label = "grammar on" if grammar else "grammar off"
        print(f"{label:<12} {started:>8} {valid:>6} {right:>11} {seconds:>8.1f}   of {len(requests)} requests")


if __name__ == "__main__":
    main()
