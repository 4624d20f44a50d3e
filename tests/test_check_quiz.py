from __future__ import annotations

import pytest

from edgeagents import check
from edgeagents.quiz import Question, Quiz


def test_checks_report_without_raising(monkeypatch):
    monkeypatch.delenv("EDGEAGENTS_STRICT_CHECKS", raising=False)
    assert check.that("x.1", True)
    result = check.that("x.2", lambda: 1 / 0, hint="try again")
    assert not result and "ZeroDivisionError" in result.message
    assert "❌" in repr(result) and "Exercise x.2" in result._repr_html_()


def test_strict_checks_raise(monkeypatch):
    monkeypatch.setenv("EDGEAGENTS_STRICT_CHECKS", "1")
    with pytest.raises(check.ExerciseFailed):
        check.that("x.3", False)


def test_helpers():
    assert check.not_done(...) and check.not_done(None) and not check.not_done(0)
    assert check.close_to(1.04, 1.0) and not check.close_to("1", 1.0)


def test_quiz_grades():
    quiz = Quiz("99", [Question("2+2?", ["3", "4"], 1, "Arithmetic."), Question("Sky?", ["blue", "green"], 0, "Rayleigh.")])
    score, feedback = quiz.grade([1, 1])
    assert score == 1 and feedback[0].startswith("✅") and feedback[1].startswith("❌")
    assert "Q2. Sky?" in quiz.text()
    assert quiz.widget() is not None
