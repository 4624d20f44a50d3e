"""Short end-of-lab quizzes: interactive with ipywidgets, plain text elsewhere.

>>> q = Quiz("02", [Question("What does Q4 mean?", ["4-bit weights", "4 layers"], 0, "Bits per weight.")])
>>> q            # shows the questions (buttons in JupyterLab)
>>> q.grade([0]) # or grade answers in code
>>> Quiz.load("14")  # a lab's quiz from edgeagents/data/quizzes/14.json: the answers are not in the notebook
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

QUIZ_DIR = Path(__file__).parent / "data" / "quizzes"


@dataclass(frozen=True)
class Question:
    prompt: str
    options: Sequence[str]
    answer: int
    explanation: str = ""


class Quiz:
    def __init__(self, lab: str, questions: Sequence[Question]) -> None:
        self.lab = lab
        self.questions = list(questions)

    @classmethod
    def load(cls, lab: str, directory: Path = QUIZ_DIR) -> Quiz:
        """The quiz of ``lab`` from ``<directory>/<lab>.json`` (``{"questions": [{prompt, options, answer,
        explanation}]}``), so a learner reading the notebook does not read the answers with the questions."""
        data = json.loads((directory / f"{lab}.json").read_text(encoding="utf-8"))
        return cls(lab, [Question(q["prompt"], tuple(q["options"]), int(q["answer"]), q.get("explanation", ""))
                         for q in data["questions"]])

    def grade(self, answers: Sequence[int]) -> tuple[int, list[str]]:
        """Score a list of option indices; returns (correct count, feedback lines)."""
        feedback, score = [], 0
        for i, (q, a) in enumerate(zip(self.questions, answers), 1):
            right = a == q.answer
            score += right
            feedback.append(f"{'✅' if right else '❌'} Q{i}: {q.options[q.answer]} — {q.explanation}")
        return score, feedback

    def text(self) -> str:
        lines = [f"Lab {self.lab} quiz"]
        for i, q in enumerate(self.questions, 1):
            lines.append(f"Q{i}. {q.prompt}")
            lines += [f"   {chr(97 + j)}) {opt}" for j, opt in enumerate(q.options)]
        return "\n".join(lines)

    def widget(self):  # noqa: ANN201 - an ipywidgets box
        import ipywidgets as w

        rows = []
        for i, q in enumerate(self.questions, 1):
            choice = w.RadioButtons(options=list(q.options), value=None, layout={"width": "max-content"})
            out = w.HTML()

            def on_change(change, q=q, out=out) -> None:  # noqa: ANN001
                right = change["new"] == q.options[q.answer]
                out.value = ("✅ " if right else "❌ ") + q.explanation

            choice.observe(on_change, names="value")
            rows.append(w.VBox([w.HTML(f"<b>Q{i}.</b> {q.prompt}"), choice, out]))
        return w.VBox([w.HTML(f"<h4>Lab {self.lab} quiz</h4>"), *rows])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        try:
            display(self.widget())
        except ImportError:
            print(self.text())

    def __repr__(self) -> str:
        return self.text()
