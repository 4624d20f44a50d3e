"""Scoring a model on the held-out agent set (``edgeagents/data/heldout_agent_eval.jsonl``).

The held-out items were written by hand, apart from the generator's templates (other phrasings,
ids, products, urgency words). The same scorer serves every backend: anything with
``reply(messages, tools) -> raw text`` and ``score(prompt, continuations) -> log-probs``.
Decoding is greedy and stops at ``<end_of_turn>`` (or after ``</tool_call>``).

Metrics (each a fraction of the items it applies to):

- ``valid_json``: tool items answered with a ``<tool_call>`` whose body is a JSON object with a name and arguments;
- ``right_tool``: ... naming the expected tool;
- ``right_args``: ... the expected tool, the expected ids/enums/dates exactly, and the tool's schema satisfied;
- ``priority``: ticket items whose ``priority`` is the expected one;
- ``no_invented_call``: no-tool and missing-id items answered without a tool call;
- ``complexity``: router prompts (:class:`edgeagents.agents.multi.IntentRouter`, calibrated as it does) labelled right.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from edgeagents.errors import InvalidRequestError, ToolCallError
from edgeagents.runtimes.base import Message, ToolSpec
from edgeagents.runtimes.chat_template import TOOL_CALL_CLOSE, TOOL_CALL_OPEN, format_tool_call

TARGETS = {"valid_json": 0.95, "right_tool": 0.90, "right_args": 0.85, "priority": 0.80,
           "no_invented_call": 0.90, "complexity": 0.90}
METRIC_KINDS = {"valid_json": ("tool", "ticket"), "right_tool": ("tool", "ticket"), "right_args": ("tool", "ticket"),
                "priority": ("ticket",), "no_invented_call": ("no_tool", "ask_id"), "complexity": ("complexity",)}


class Backend(Protocol):
    def reply(self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None) -> str: ...

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]: ...


def load_heldout(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The held-out items (a list of dicts), from the library's data folder unless ``path`` is given."""
    if path is None:
        text = resources.files("edgeagents.data").joinpath("heldout_agent_eval.jsonl").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    items = [json.loads(line) for line in text.splitlines() if line.strip()]
    if not items:
        raise InvalidRequestError("The held-out file has no items.")
    return items


def item_tools(item: dict[str, Any]) -> list[ToolSpec]:
    from edgeagents.agents.tools import TOOL_SPECS

    names = item.get("tools", "all")
    return list(TOOL_SPECS.values()) if names == "all" else [TOOL_SPECS[n] for n in names]


def first_call(text: str) -> tuple[bool, str | None, dict[str, Any] | None]:
    """``(has_call, name, arguments)`` of the first ``<tool_call>`` in raw text; name None when it is not valid JSON."""
    if TOOL_CALL_OPEN not in text:
        return False, None, None
    body = text.split(TOOL_CALL_OPEN, 1)[1].split(TOOL_CALL_CLOSE, 1)[0].strip()
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return True, None, None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(data.get("arguments", {}), dict):
        return True, None, None
    return True, data["name"], data.get("arguments", {})


def score_reply(item: dict[str, Any], text: str) -> dict[str, bool]:
    """The checks that apply to one chat item, from the model's raw reply."""
    from edgeagents.agents.tools import TOOL_SPECS
    from edgeagents.runtimes.toolcalls import schema_errors

    kind, expect = item["kind"], item["expect"]
    has_call, name, args = first_call(text)
    if kind in ("no_tool", "ask_id"):
        return {"no_invented_call": not has_call}
    out = {"valid_json": name is not None, "right_tool": name == expect["tool"]}
    ok_args = bool(out["right_tool"] and args is not None
                   and all(args.get(k) == v for k, v in expect.get("arguments", {}).items())
                   and not schema_errors(TOOL_SPECS[expect["tool"]]["function"]["parameters"], args))
    if expect["tool"] == "get_current_time" and out["right_tool"] and args is not None:
        ok_args = all(args.get(k) == v for k, v in expect["arguments"].items())
    out["right_args"] = ok_args
    if kind == "ticket":
        out["priority"] = bool(args is not None and args.get("priority") == expect.get("priority"))
    return out


@dataclass
class EvalReport:
    """Per-item rows and the metrics, for one model on one backend."""

    label: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def metrics(self) -> dict[str, float]:
        out = {}
        for metric, kinds in METRIC_KINDS.items():
            vals = [r["checks"][metric] for r in self.rows if r["kind"] in kinds and metric in r["checks"]]
            out[metric] = sum(vals) / len(vals) if vals else 0.0
        return out

    def counts(self) -> dict[str, str]:
        out = {}
        for metric, kinds in METRIC_KINDS.items():
            vals = [r["checks"][metric] for r in self.rows if r["kind"] in kinds and metric in r["checks"]]
            out[metric] = f"{sum(vals)}/{len(vals)}"
        return out

    def failures(self) -> dict[str, float]:
        """The metrics below their targets (empty when all are met)."""
        m = self.metrics()
        return {k: v for k, v in m.items() if v < TARGETS[k]}

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "metrics": {k: round(v, 3) for k, v in self.metrics().items()},
                "counts": self.counts(), "seconds": round(self.seconds, 1), "rows": self.rows}


def evaluate(backend: Backend, label: str, items: Sequence[dict[str, Any]] | None = None, *,
             progress: bool = False, calibrate: bool = True) -> EvalReport:
    """Run every held-out item through ``backend`` and score it."""
    import time

    from edgeagents.agents.multi import TIER_EXAMPLES, _few_shot

    items = list(items) if items is not None else load_heldout()
    report = EvalReport(label)
    start = time.perf_counter()
    tiers = ("simple", "moderate", "complex")
    conts = [f" {t}" for t in tiers]
    baseline = None
    it: Any = items
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(items, desc=f"held-out: {label}", leave=False)
    for item in it:
        if item["kind"] == "complexity":
            scores = list(backend.score(_few_shot(TIER_EXAMPLES, "Complexity", item["text"]), conts))
            if calibrate:  # as IntentRouter does: subtract the scores after a content-free request
                if baseline is None:
                    baseline = list(backend.score(_few_shot(TIER_EXAMPLES, "Complexity", "N/A"), conts))
                scores = [s - b for s, b in zip(scores, baseline)]
            got = tiers[max(range(3), key=lambda i: scores[i])]
            report.rows.append({"id": item["id"], "kind": "complexity", "reply": got,
                                "checks": {"complexity": got == item["expect"]["tier"]}})
            continue
        text = backend.reply(item["messages"], item_tools(item))
        report.rows.append({"id": item["id"], "kind": item["kind"], "reply": text, "checks": score_reply(item, text)})
    report.seconds = time.perf_counter() - start
    return report


# ------------------------------------------------------------------ backends
class RuntimeBackend:
    """Any course runtime (llama.cpp in-process, an OpenAI-compatible server...): ``chat`` with tools, ``score``."""

    def __init__(self, runtime: Any, max_tokens: int = 128, **chat_options: Any) -> None:
        self.runtime = runtime
        self.max_tokens = max_tokens
        self.chat_options = chat_options  # e.g. tool_grammar=False: the same model, its calls written freely

    def reply(self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None) -> str:
        try:
            result = self.runtime.chat(list(messages), tools=list(tools or []) or None, tool_choice="auto",
                                       max_tokens=self.max_tokens, temperature=0.0, **self.chat_options)
        except ToolCallError as exc:  # a broken call still counts: score its raw text
            return exc.raw
        calls = "".join(format_tool_call(c.name, dict(c.arguments)) for c in result.tool_calls or ())
        return (result.text or "") + calls

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        return list(self.runtime.score(prompt, list(continuations)))


class TransformersBackend:
    """A transformers model (optionally with a PEFT adapter), tokenized exactly as llama.cpp does."""

    def __init__(self, model: Any, tokenizer: Any, max_tokens: int = 128) -> None:
        from edgeagents.finetune.train import make_encoder

        self.model, self.tok, self.max_tokens = model, tokenizer, max_tokens
        self.encode: Callable[[str, bool], list[int]] = make_encoder(tokenizer)
        self.end_id = tokenizer.convert_tokens_to_ids("<end_of_turn>")

    def reply(self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None) -> str:
        import torch

        from edgeagents.runtimes.chat_template import render_chat

        ids = [self.tok.bos_token_id]
        for seg in render_chat(list(messages), list(tools or []) or None):
            ids += self.encode(seg.text, seg.special)
        x = torch.tensor([ids])
        out: list[int] = []
        past = None
        with torch.no_grad():
            for _ in range(self.max_tokens):
                res = self.model(input_ids=x, past_key_values=past, use_cache=True)
                past = res.past_key_values
                nxt = int(res.logits[0, -1].argmax())
                if nxt in (self.end_id, self.tok.eos_token_id):
                    break
                out.append(nxt)
                text = self.tok.decode(out)
                if TOOL_CALL_CLOSE in text:
                    break
                x = torch.tensor([[nxt]])
        return self.tok.decode(out)

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        import torch

        prefix = [self.tok.bos_token_id] + self.encode(prompt, True)
        out = []
        with torch.no_grad():
            for c in continuations:
                cont = self.encode(c, False)
                logits = self.model(input_ids=torch.tensor([prefix + cont])).logits[0]
                lp = torch.log_softmax(logits.float(), -1)
                out.append(float(sum(lp[len(prefix) - 1 + i, t] for i, t in enumerate(cont))))
        return out


def format_table(reports: Sequence[EvalReport]) -> str:
    """Metrics of several reports side by side, with the targets."""
    head = f"{'metric':18s}" + "".join(f"{r.label[:22]:>24s}" for r in reports) + f"{'target':>9s}"
    lines = [head]
    for metric in METRIC_KINDS:
        cells = "".join(f"{r.counts()[metric]:>12s} {r.metrics()[metric]:>6.0%}     " for r in reports)
        lines.append(f"{metric:18s}{cells}{TARGETS[metric]:>6.0%}")
    return "\n".join(lines)
