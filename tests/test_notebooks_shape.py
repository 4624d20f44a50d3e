"""Every lab notebook has the shape the course promises, and is committed clean.

nbval runs the notebooks (see `make test-labs`); this checks what running cannot:
outputs cleared, a title naming the lab, a run-time estimate, two or more checked
exercises, a quiz, links to the previous and next lab, and a solutions notebook.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from edgeagents.doctor import LABS

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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lab_shape(path):
    number = path.name[:2]
    nb = _read(path)
    text = _text(nb)
    assert nb.cells[0].source.startswith(f"# Lab {number}"), "the first cell titles the lab"
    assert re.search(r"run time", text, re.I), "the lab estimates its run time"
    exercises = set(re.findall(rf'check\.that\(\s*"({number}\.\d+)"', text))
    assert len(exercises) >= 2, f"at least two checked exercises, found {sorted(exercises)}"
    assert "Quiz(" in text or "Quiz.load(" in text, "a quiz"
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_say_which_lab_and_step(path):
    number = path.name[:2]
    for cell in _read(path).cells:
        if cell.cell_type == "code" and cell.source.strip():
            first = cell.source.strip().splitlines()[0]
            assert first.startswith(f"# Lab {number}"), f"{path.name}: a code cell starts without '# Lab {number} ...': {first!r}"
