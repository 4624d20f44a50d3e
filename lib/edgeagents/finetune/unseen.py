"""Scoring tool calls on tools the model never saw (``edgeagents/data/heldout_unseen_tools.jsonl``).

Each item offers its own tools (full OpenAI specs) and expects one call or none:

- ``single``: one tool offered and needed; ``choose``: several offered, one fits; ``none``: none fits.

A call is compared *structurally* with the expected one (:func:`score_unseen_reply`): the first
``<tool_call>`` is parsed (:func:`edgeagents.finetune.evaluate.first_call`); the name must be
equal; every required argument present and equal; an optional argument absent, or equal to the
expected value (or to the schema's ``default`` when the request did not set it); no unknown
argument. Equality after normalisation:

- numbers: equal when both sides parse as numbers (``5 == 5.0 == "5"``): the value matters, not
  whether the model quoted it; a boolean is never a number;
- strings: case-insensitive, stripped, a leading "the " ignored ("the River Wye" == "River Wye");
- booleans: must be JSON booleans (``"yes"`` is a wrong type);
- arrays: element by element, in order; nested objects: recursively, by the same rules.

A failing item gets one category, the first that applies: ``no_call``, ``invalid_json``,
``wrong_name``, ``unknown_argument``, ``missing_required``, ``wrong_type``, ``wrong_value``; a call
on a ``none`` item is ``extra_call``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from edgeagents.errors import InvalidRequestError
from edgeagents.finetune.evaluate import Backend, RuntimeBackend, first_call

UNSEEN_KINDS = ("single", "choose", "none")
FAILURES = ("no_call", "invalid_json", "wrong_name", "unknown_argument", "missing_required", "wrong_type",
            "wrong_value", "extra_call")
METRICS = {"single_exact": "single", "single_right_tool": "single", "choose_exact": "choose",
           "choose_right_tool": "choose", "none_no_call": "none"}
_MISSING = object()


def load_unseen(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The unseen-tool items, from the library's data folder unless ``path`` is given."""
    if path is None:
        text = resources.files("edgeagents.data").joinpath("heldout_unseen_tools.jsonl").read_text(encoding="utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidRequestError(f"Cannot read {path}: {exc.strerror}.", hint="Check the path.") from None
    items = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InvalidRequestError(f"Line {n} of the unseen-tool file is not JSON ({exc.msg}).",
                                      hint="Each line must be one JSON object.") from None
    if not items:
        raise InvalidRequestError("The unseen-tool file has no items.", hint="Point it at a JSONL file with items.")
    for item in items:
        _check_item(item)
    return items


def _check_item(item: Any) -> None:
    if not isinstance(item, dict) or not {"id", "kind", "messages", "tools", "expect"} <= set(item):
        raise InvalidRequestError(f"Not an unseen-tool item: {str(item)[:120]!r}.",
                                  hint="Each item needs id, kind, messages, tools and expect.")
    if item["kind"] not in UNSEEN_KINDS:
        raise InvalidRequestError(f"Item {item['id']!r} has kind {item['kind']!r}.", hint=f"Use one of {UNSEEN_KINDS}.")
    tool = item["expect"].get("tool") if isinstance(item["expect"], dict) else _MISSING
    names = [t.get("function", {}).get("name") for t in item["tools"] if isinstance(t, dict)]
    if (item["kind"] == "none") != (tool is None) or (tool is not None and tool not in names):
        raise InvalidRequestError(f"Item {item['id']!r}: expect {item['expect']!r} does not fit its kind and tools.",
                                  hint="single/choose items expect one of their offered tools; none items expect tool null.")


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", ""))
        except ValueError:
            return None
    return None


def _norm_text(value: str) -> str:
    text = value.strip().casefold()
    return text[4:].lstrip() if text.startswith("the ") else text


def _compare(schema: dict[str, Any], expected: Any, got: Any) -> str | None:
    """None when ``got`` equals ``expected`` after normalisation, else the failure category."""
    if isinstance(expected, dict):
        return _compare_object(schema, expected, got) if isinstance(got, dict) else "wrong_type"
    if isinstance(expected, list):
        if not isinstance(got, list):
            return "wrong_type"
        if len(got) != len(expected):
            return "wrong_value"
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        for e, g in zip(expected, got):
            problem = _compare(items, e, g)
            if problem:
                return problem
        return None
    if isinstance(expected, bool):
        return None if got is expected else "wrong_value" if isinstance(got, bool) else "wrong_type"
    want, have = _as_number(expected), _as_number(got)
    if want is not None and have is not None:
        return None if abs(want - have) < 1e-9 else "wrong_value"
    if isinstance(expected, (int, float)):
        return "wrong_type"  # a number was expected and got does not parse as one
    if isinstance(expected, str):
        if not isinstance(got, str):
            return "wrong_type"
        return None if _norm_text(got) == _norm_text(expected) else "wrong_value"
    return None if got == expected else "wrong_value"


def _compare_object(schema: dict[str, Any], expected: dict[str, Any], got: dict[str, Any]) -> str | None:
    props = schema.get("properties") or {}
    required = schema.get("required") or []
    found: list[str] = []
    if props and any(k not in props for k in got):
        found.append("unknown_argument")
    if any(k not in got for k in required):
        found.append("missing_required")
    for key, value in got.items():
        want = expected.get(key, _MISSING)
        sub = props.get(key) if isinstance(props.get(key), dict) else {}
        if want is _MISSING:
            want = sub.get("default", _MISSING)
        if want is _MISSING:
            if key in props:
                found.append("wrong_value")  # an optional argument the request never asked for
            continue
        problem = _compare(sub, want, value)
        if problem:
            found.append(problem)
    order = ("unknown_argument", "missing_required", "wrong_type", "wrong_value")
    return next((f for f in order if f in found), None)


def score_unseen_reply(item: dict[str, Any], text: str) -> dict[str, Any]:
    """``{"ok", "right_tool", "failure"}`` for one item, from the model's raw reply."""
    _check_item(item)
    has_call, name, args = first_call(text or "")
    expect = item["expect"]
    if item["kind"] == "none":
        return {"ok": not has_call, "right_tool": not has_call, "failure": "extra_call" if has_call else None}
    if not has_call:
        return {"ok": False, "right_tool": False, "failure": "no_call"}
    if name is None or args is None:
        return {"ok": False, "right_tool": False, "failure": "invalid_json"}
    if name != expect["tool"]:
        return {"ok": False, "right_tool": False, "failure": "wrong_name"}
    spec = next(t["function"] for t in item["tools"] if t["function"]["name"] == name)
    problem = _compare_object(spec.get("parameters") or {}, expect.get("arguments") or {}, args)
    return {"ok": problem is None, "right_tool": True, "failure": problem}


@dataclass
class UnseenReport:
    """Per-item rows, the rates per kind and the failure categories, for one model."""

    label: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def _rate(self, kind: str, key: str) -> tuple[int, int]:
        vals = [bool(r[key]) for r in self.rows if r["kind"] == kind]
        return sum(vals), len(vals)

    def counts(self) -> dict[str, tuple[int, int]]:
        keys = {"single_exact": "ok", "single_right_tool": "right_tool", "choose_exact": "ok",
                "choose_right_tool": "right_tool", "none_no_call": "ok"}
        return {m: self._rate(kind, keys[m]) for m, kind in METRICS.items()}

    def metrics(self) -> dict[str, float]:
        return {m: (k / n if n else 0.0) for m, (k, n) in self.counts().items()}

    def failures(self) -> dict[str, int]:
        """How many items failed in each category (all kinds together)."""
        out = dict.fromkeys(FAILURES, 0)
        for r in self.rows:
            if r["failure"]:
                out[r["failure"]] += 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "metrics": {k: round(v, 3) for k, v in self.metrics().items()},
                "counts": {k: f"{a}/{b}" for k, (a, b) in self.counts().items()}, "failures": self.failures(),
                "seconds": round(self.seconds, 1), "rows": self.rows}


def sample_unseen(per_kind: int, items: Sequence[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The first ``per_kind`` items of each kind (single, choose, none): a small, fixed, balanced sample."""
    if per_kind < 1:
        raise InvalidRequestError(f"per_kind={per_kind} must be at least 1.", hint="Ask for a few items of each kind.")
    items = list(items) if items is not None else load_unseen()
    return [it for kind in UNSEEN_KINDS for it in [x for x in items if x["kind"] == kind][:per_kind]]


def evaluate_unseen(model: Any, items: Sequence[dict[str, Any]] | None = None, *, label: str = "model",
                    max_tokens: int = 96, progress: bool = False, **chat_options: Any) -> UnseenReport:
    """Run every unseen-tool item through ``model`` and score it.

    ``model`` is a course runtime (anything with ``chat(messages, tools=..., tool_choice="auto")``,
    decoded greedily; ``chat_options`` such as ``tool_grammar=False`` go to every call) or a
    :class:`~edgeagents.finetune.evaluate.Backend`.
    """
    if hasattr(model, "chat"):
        backend: Backend = RuntimeBackend(model, max_tokens=max_tokens, **chat_options)
    elif chat_options:
        raise InvalidRequestError(f"Options {sorted(chat_options)} apply to a runtime, not to a Backend.",
                                  hint="Give the options to the Backend itself, or pass a runtime.")
    elif hasattr(model, "reply"):
        backend = model
    else:
        raise InvalidRequestError(f"Cannot evaluate a {type(model).__name__}.",
                                  hint="Pass a runtime (edgeagents.open_runtime()) or a Backend with reply().")
    items = list(items) if items is not None else load_unseen()
    if not items:
        raise InvalidRequestError("No items to evaluate.", hint="Leave items out to use the shipped unseen-tool set.")
    for item in items:
        _check_item(item)
    report = UnseenReport(label)
    start = time.perf_counter()
    it: Any = items
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(items, desc=f"unseen tools: {label}", leave=False)
    for item in it:
        text = backend.reply(item["messages"], item["tools"])
        report.rows.append({"id": item["id"], "kind": item["kind"], "reply": text, **score_unseen_reply(item, text)})
    report.seconds = time.perf_counter() - start
    return report


def format_unseen_table(reports: Sequence[UnseenReport]) -> str:
    """The rates and failure categories of several reports side by side."""
    lines = [f"{'unseen tools':20s}" + "".join(f"{r.label[:18]:>20s}" for r in reports)]
    for metric in METRICS:
        lines.append(f"{metric:20s}" + "".join(
            f"{r.counts()[metric][0]:>9d}/{r.counts()[metric][1]:<4d}{r.metrics()[metric]:>5.0%} " for r in reports))
    lines.append("failures")
    for failure in FAILURES:
        lines.append(f"  {failure:18s}" + "".join(f"{r.failures()[failure]:>20d}" for r in reports))
    return "\n".join(lines)
