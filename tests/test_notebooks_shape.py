"""Every lab notebook has the shape the course promises, and is committed clean.

nbval runs the notebooks (see `make test-labs`); this checks what running cannot:
outputs cleared, a title naming the lab, a run-time estimate, three or more checked
exercises of which two or more have the learner write code, a quiz loaded from its data
file (no answer key in a cell), links to the previous and next lab, and a solutions notebook.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from edgeagents.doctor import LABS
from edgeagents.labtable import RUN_BEGIN, RUN_END
from edgeagents.quiz import QUIZ_DIR, Quiz

LABS_DIR = Path(__file__).resolve().parents[1] / "labs"
NOTEBOOKS = sorted(LABS_DIR.glob("[0-9][0-9]_*.ipynb"))
KNOWN_LABS = {lab.lab for lab in LABS}


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in nb.cells)


@pytest.mark.parametrize("path", NOTEBOOKS + sorted((LABS_DIR / "solutions").glob("*.ipynb")), ids=lambda p: p.name)
def test_committed_without_outputs(path):
    for cell in _read(path).cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: clear outputs before committing"


# What `make lab-table` writes between the run-time markers: figures from a measured run, or that there is none yet.
RUN_TIME_LINE = re.compile(r"\*\*Run time:\*\* (not measured yet on this machine|(not measured|[\d.]+ (s|min)) for the "
                           r"lab, (not measured|[\d.]+ (s|min)) for its worked solutions)")


def _run_time_line(nb: nbformat.NotebookNode) -> str:
    head = nb.cells[0].source
    assert RUN_BEGIN in head and RUN_END in head, f"the first cell holds the run-time markers {RUN_BEGIN!r} … {RUN_END!r}"
    before, rest = head.split(RUN_BEGIN, 1)
    line, after = rest.split(RUN_END, 1)
    assert RUN_TIME_LINE.match(line.strip()), f"the run-time line is the generated one (make lab-table): {line.strip()!r}"
    # an estimate typed by hand next to the measured line would contradict it
    typed = re.search(r"run time|\babout \d+(–\d+)? minutes?\b|~\d+ ?(s|min)\b", before + after, re.I)
    assert not typed, f"a hand-written run-time estimate beside the measured line: {typed.group(0)!r}"
    return line.strip()


@pytest.mark.parametrize("path", NOTEBOOKS + sorted((LABS_DIR / "solutions").glob("*.ipynb")), ids=lambda p: p.name)
def test_header_shows_the_measured_run_time(path):
    assert _run_time_line(_read(path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lab_shape(path):
    number = path.name[:2]
    nb = _read(path)
    text = _text(nb)
    assert nb.cells[0].source.startswith(f"# Lab {number}"), "the first cell titles the lab"
    assert _run_time_line(nb), "the lab's header shows its measured run time"
    exercises = set(re.findall(rf'check\.that\(\s*"({number}\.\d+)"', text))
    assert len(exercises) >= 3, f"at least three checked exercises, found {sorted(exercises)}"
    assert f'Quiz.load("{number}")' in text, f'a quiz, loaded with Quiz.load("{number}")'
    assert re.search(r"summary", text, re.I), "a summary"
    links = set(re.findall(r"\((?:\.\./)?(\d\d)_[a-z0-9_]+\.ipynb\)", text))
    prev_lab, next_lab = f"{int(number) - 1:02d}", f"{int(number) + 1:02d}"
    if prev_lab in KNOWN_LABS:
        assert prev_lab in links, f"a link to the previous lab ({prev_lab})"
    if next_lab in KNOWN_LABS:
        assert next_lab in links, f"a link to the next lab ({next_lab})"
    solution = LABS_DIR / "solutions" / f"{path.stem}_solutions.ipynb"
    assert solution.exists(), f"worked solutions in {solution.relative_to(LABS_DIR.parent)}"
    solved = set(re.findall(rf'check\.that\(\s*"({number}\.\d+)"', _text(_read(solution))))
    assert exercises <= solved, f"the solutions check every exercise: missing {sorted(exercises - solved)}"


# An exercise's code cell says what the learner does in its metadata, {"edgeagents": {"exercise": "03.2", "kind": ...}}:
# "code" writes code against the lab's API (a function, a class, a call, an object built from it) that the check runs
# on cases a wrong answer fails; "calc" is a formula on values the lab measured; "lookup" reads a value off a result
# or picks one by trial.
EXERCISE_KINDS = {"code", "calc", "lookup"}


def _exercise_tags(nb: nbformat.NotebookNode, number: str) -> dict[str, str]:
    tags = {}
    for cell in nb.cells:
        tag = cell.metadata.get("edgeagents", {})
        if cell.cell_type == "code" and "exercise" in tag:
            assert tag["exercise"] not in tags, f"exercise {tag['exercise']} is tagged on two cells"
            assert re.search(rf'check\.that\(\s*"{re.escape(tag["exercise"])}"', cell.source), \
                f"the cell tagged {tag['exercise']} runs its check.that(\"{tag['exercise']}\", ...)"
            tags[tag["exercise"]] = tag.get("kind")
    return tags


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_have_the_learner_write_code(path):
    number = path.name[:2]
    nb = _read(path)
    tags = _exercise_tags(nb, number)
    checked = set(re.findall(rf'check\.that\(\s*"({number}\.\d+)"', _text(nb)))
    assert set(tags) == checked, f"tag every checked exercise's cell: untagged {sorted(checked - set(tags))}"
    assert not {k for k in tags.values()} - EXERCISE_KINDS, f"kinds are {sorted(EXERCISE_KINDS)}: {tags}"
    assert len(tags) >= 3, f"at least three exercises, found {sorted(tags)}"
    written = sorted(e for e, kind in tags.items() if kind == "code")
    assert len(written) >= 2, f"at least two exercises in which the learner writes code, found {written} in {tags}"
    solution = LABS_DIR / "solutions" / f"{path.stem}_solutions.ipynb"
    assert _exercise_tags(_read(solution), number) == tags, "the solutions tag the same exercises with the same kinds"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_say_which_lab_and_step(path):
    number = path.name[:2]
    for cell in _read(path).cells:
        if cell.cell_type == "code" and cell.source.strip():
            first = cell.source.strip().splitlines()[0]
            assert first.startswith(f"# Lab {number}"), f"{path.name}: a code cell starts without '# Lab {number} ...': {first!r}"


# What an inline quiz looked like: a Question(...) or Quiz("NN", [...]) call, or an answer index next to its question.
ANSWER_KEY = re.compile(r'\bQuestion\(|\bQuiz\(\s*"|\banswer\s*=\s*\d|"answer"\s*:\s*\d')


@pytest.mark.parametrize("path", NOTEBOOKS + sorted((LABS_DIR / "solutions").glob("*.ipynb")), ids=lambda p: p.name)
def test_no_answer_key_in_a_cell(path):
    for cell in _read(path).cells:
        found = ANSWER_KEY.search(cell.source)
        assert not found, f"{path.name} cell {cell.get('id')}: {found.group(0)!r} shows a quiz answer; keep it in {QUIZ_DIR.name}/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_quiz_data_file_parses(path):
    number = path.name[:2]
    assert (QUIZ_DIR / f"{number}.json").exists(), f"the quiz of lab {number} in {QUIZ_DIR}/{number}.json"
    quiz = Quiz.load(number)
    assert quiz.lab == number and len(quiz.questions) >= 3
    for q in quiz.questions:
        assert q.prompt and len(q.options) >= 2 and 0 <= q.answer < len(q.options) and q.explanation, q.prompt
    assert len(quiz.grade([q.answer for q in quiz.questions])[1]) == len(quiz.questions)
    quizzes = [c for c in _read(path).cells if c.cell_type == "code" and "Quiz.load(" in c.source]
    assert len(quizzes) == 1 and quizzes[0].source.count(f'Quiz.load("{number}")') == 1, "one quiz cell, loading this lab's quiz"
