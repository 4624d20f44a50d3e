"""Automatic checks for the labs' exercises.

An exercise cell ends with a check, e.g. ``check.that("02.1", answer == 42, hint="...")``.
A check prints ✅ or ❌ with a hint and returns True/False; it never stops the notebook,
so a learner can run the whole lab with exercises still open. The worked solutions in
``labs/solutions/`` are run by the tests with ``EDGEAGENTS_STRICT_CHECKS=1``, where a failed
check raises :class:`ExerciseFailed`, so every solution is proved to pass its check.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ExerciseFailed(AssertionError):
    """Raised by a failed check when ``EDGEAGENTS_STRICT_CHECKS=1`` (the solutions' tests)."""


@dataclass(frozen=True)
class CheckResult:
    exercise: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#b35900"
        mark = "✅" if self.passed else "❌"
        return f'<div style="color:{colour}"><b>{mark} Exercise {self.exercise}</b>: {self.message}</div>'

    def __repr__(self) -> str:
        return f"{'✅' if self.passed else '❌'} Exercise {self.exercise}: {self.message}"


def strict() -> bool:
    return os.environ.get("EDGEAGENTS_STRICT_CHECKS", "") in ("1", "true", "yes")


def that(exercise: str, condition: bool | Callable[[], bool], *, ok: str = "well done.", hint: str = "not yet.") -> CheckResult:
    """Check one condition. ``condition`` may be a callable; an exception inside it counts as not passed."""
    try:
        passed = bool(condition() if callable(condition) else condition)
        message = ok if passed else hint
    except Exception as exc:  # a half-written answer should explain itself, not crash the lab
        passed, message = False, f"{hint} (the check raised {type(exc).__name__}: {exc})"
    result = CheckResult(exercise, passed, message)
    if not passed and strict():
        raise ExerciseFailed(repr(result))
    return result


def not_done(value: Any) -> bool:
    """True while an exercise placeholder (``...`` or ``None``) is still in place."""
    return value is None or value is Ellipsis


def close_to(value: Any, target: float, rel: float = 0.05) -> bool:
    """``value`` is a number within ``rel`` (relative) of ``target``."""
    return isinstance(value, (int, float)) and abs(value - target) <= rel * max(abs(target), 1e-12)
