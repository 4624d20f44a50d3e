"""Which tasks can the small model do? A scored task set (``data/slm_tasks.json``) and its runner.

Each task type is run the way a small base model *should* be used for it:

- ``classification``: few-shot prompt, then ``runtime.score`` over the label options (no free text).
- ``extraction``: few-shot prompt with the output constrained by a JSON schema.
- ``tool_arguments``: ``runtime.chat`` with the tool forced by name (the grammar keeps the call valid;
  the question is whether the *arguments* are right).
- ``formatting``: few-shot completion, greedy, one line.
- ``reasoning`` and ``knowledge``: few-shot completion, greedy, one line — the same help, and the
  tasks a 270M model is expected to fail.

``run_task_set(runtime)`` returns one record per item: type, input, expected, got, passed, seconds.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from edgeagents.errors import EdgeAgentsError, InvalidRequestError

TASKS_FILE = Path(__file__).resolve().parent.parent / "data" / "slm_tasks.json"
SLM_FRIENDLY = ("classification", "extraction", "tool_arguments", "formatting")
SLM_HOSTILE = ("reasoning", "knowledge")


def load_tasks(path: str | Path | None = None) -> dict[str, Any]:
    return json.loads(Path(path or TASKS_FILE).read_text(encoding="utf-8"))


def _norm(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def same_arguments(got: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Arguments match when every expected key has the same value (strings compared case-insensitively)."""
    return all(_norm(got.get(k)) == _norm(v) for k, v in expected.items())


def first_number(text: str) -> str | None:
    m = re.search(r"-?\d+(?:\.\d+)?", text.replace(",", ""))
    return m.group(0) if m else None


_PRIORS: dict[tuple[int, str, tuple[str, ...]], list[float]] = {}


def _prior(runtime: Any, prompt: str, options: tuple[str, ...]) -> list[float]:
    key = (id(runtime), prompt, options)
    if key not in _PRIORS:
        _PRIORS[key] = runtime.score(prompt.format(text="N/A"), list(options))
    return _PRIORS[key]


def run_item(runtime: Any, kind: str, spec: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """Run one item of one task type; returns a record (never raises for a wrong answer)."""
    start = time.perf_counter()
    got: Any
    try:
        if kind == "classification":
            options = [" " + o for o in spec["options"]]
            scores = runtime.score(spec["prompt"].format(text=item["text"]), options)
            # contextual calibration: subtract each label's score for a content-free message,
            # so a label the model likes regardless of the input ("other") does not win by default
            prior = _prior(runtime, spec["prompt"], tuple(options))
            calibrated = [s - p for s, p in zip(scores, prior)]
            got = spec["options"][max(range(len(calibrated)), key=calibrated.__getitem__)]
            passed = got == item["answer"]
        elif kind == "extraction":
            result = runtime.complete(spec["prompt"].format(text=item["text"]), json_schema=spec["schema"], max_tokens=48)
            got = result.json()
            passed = same_arguments(got, item["answer"])
        elif kind == "tool_arguments":
            result = runtime.chat([{"role": "user", "content": item["text"]}], tools=spec["tools"], tool_choice=item["tool"], max_tokens=48)
            got = result.tool_calls[0].arguments if result.tool_calls else {}
            passed = same_arguments(got, item["answer"])
        elif kind in ("formatting", "reasoning", "knowledge"):
            result = runtime.complete(spec["prompt"].format(text=item["text"]), max_tokens=16, stop=["\n"])
            got = result.text.strip()
            if kind == "formatting":
                passed = got == item["answer"]
            elif kind == "reasoning":
                passed = first_number(got) == item["answer"]
            else:
                answers = item["answer"]
                passed = any(re.search(rf"\b{re.escape(a.lower())}\b", got.lower()) for a in answers)
        else:
            raise InvalidRequestError(f"Unknown task type {kind!r}.", hint=f"Use one of {SLM_FRIENDLY + SLM_HOSTILE}.")
    except InvalidRequestError:
        raise
    except EdgeAgentsError as exc:  # a broken output is a failed item, not a crashed lab
        got, passed = f"error: {exc.message}", False
    expected = item["answer"]
    return {
        "type": kind,
        "input": item["text"],
        "expected": expected if isinstance(expected, str) else json.dumps(expected, ensure_ascii=False),
        "got": got if isinstance(got, str) else json.dumps(got, ensure_ascii=False),
        "passed": bool(passed),
        "seconds": time.perf_counter() - start,
    }


def run_task_set(runtime: Any, kinds: Iterable[str] | None = None, limit: int | None = None, progress: bool = True) -> list[dict[str, Any]]:
    """Run every item (or the first ``limit`` of each type) and return the records."""
    tasks = load_tasks()
    chosen = list(kinds) if kinds else [*SLM_FRIENDLY, *SLM_HOSTILE]
    jobs = [(k, tasks[k], item) for k in chosen for item in tasks[k]["items"][:limit]]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc="task set")  # type: ignore[assignment]
    return [run_item(runtime, k, spec, item) for k, spec, item in jobs]


def pass_rates(records: list[dict[str, Any]]) -> dict[str, float]:
    """Pass rate per task type."""
    out: dict[str, list[bool]] = {}
    for r in records:
        out.setdefault(r["type"], []).append(r["passed"])
    return {k: sum(v) / len(v) for k, v in out.items()}
