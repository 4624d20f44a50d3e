"""Which labs run on Binder, the line the others print there, the measured runs and the README's lab table."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import nbformat
import pytest

from edgeagents import binder, labtable
from edgeagents.doctor import LABS
from edgeagents.labrun import LabRun, load_timings, record_run, run_notebook

REPO = Path(__file__).resolve().parents[1]
LAB_FILES = sorted((REPO / "labs").glob("[0-9][0-9]_*.ipynb"))
ALL_NOTEBOOKS = LAB_FILES + sorted((REPO / "labs" / "solutions").glob("[0-9][0-9]_*.ipynb"))


def first_code_cell(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])


def test_every_lab_notebook_has_a_doctor_record():
    known = {needs.lab for needs in LABS}
    assert {p.name[:2] for p in LAB_FILES} <= known


def test_each_notebook_runs_in_exactly_one_place():
    on, off = binder.notebooks(True), binder.notebooks(False)
    assert not set(on) & set(off)
    assert sorted(on + off) == sorted(ALL_NOTEBOOKS)
    assert {p.name[:2] for p in on} == set(binder.binder_labs()) & {p.name[:2] for p in LAB_FILES}


def test_the_command_line_lists_labs_and_solutions_apart(capsys):
    assert binder.main(["elsewhere", "--only", "labs"]) == 0
    labs = capsys.readouterr().out.split()
    assert binder.main(["elsewhere", "--only", "solutions"]) == 0
    solutions = capsys.readouterr().out.split()
    assert labs and solutions and not any("solutions" in p for p in labs)
    assert all("/solutions/" in p for p in solutions)
    assert {p.split("/")[-1][:2] for p in labs} == {p.split("/")[-1][:2] for p in solutions}


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_labs_that_cannot_run_on_binder_say_so_at_their_top(path):
    lab = path.name[:2]
    call = f'binder_note("{lab}")'
    if lab in binder.binder_labs():
        assert "binder_note" not in first_code_cell(path)
    else:
        assert call in first_code_cell(path), f"{path.name}'s first code cell should call {call}"


def test_binder_note_is_one_line_on_binder_and_silent_elsewhere(monkeypatch, capsys):
    for name in ("BINDER_LAUNCH_HOST", "BINDER_REQUEST", "EDGEAGENTS_ON_BINDER"):
        monkeypatch.delenv(name, raising=False)
    assert binder.binder_note("10") is None
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("BINDER_LAUNCH_HOST", "https://mybinder.org/")
    line = binder.binder_note("10")
    assert line and "vLLM" in line and "\n" not in line
    assert capsys.readouterr().out.strip() == line
    assert binder.binder_note("00") is None  # lab 00 runs whole on Binder
    with pytest.raises(KeyError, match="the labs are"):
        binder.binder_note("99")


def test_runs_are_recorded_per_section_and_the_last_one_wins(tmp_path):
    path = tmp_path / "lab_timings.json"
    record_run(LabRun("00_start_here", "labs", 40.0, 500.0, ok=True), path)
    record_run(LabRun("00_start_here", "labs", 30.0, 450.0, ok=True), path)
    record_run(LabRun("00_start_here", "binder", 50.0, 600.0, ok=True), path)
    data = load_timings(path)
    assert data["labs"]["00_start_here"]["seconds"] == 30.0
    assert data["binder"]["00_start_here"]["peak_rss_mb"] == 600.0
    assert {"measured_at", "cpus", "threads"} <= set(data["labs"]["00_start_here"])
    with pytest.raises(ValueError, match="section"):
        record_run(LabRun("x", "elsewhere", 1.0, 1.0, ok=True), path)


def test_concurrent_records_lose_nothing(tmp_path):
    path = tmp_path / "lab_timings.json"
    threads = [threading.Thread(target=record_run, args=(LabRun(f"nb{i}", "labs", i, i, ok=True), path))
               for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(load_timings(path)["labs"]) == 16


def test_a_missing_or_broken_timings_file_reads_as_nothing_measured(tmp_path):
    assert load_timings(tmp_path / "absent.json") == {}
    (tmp_path / "bad.json").write_text("{not json")
    assert load_timings(tmp_path / "bad.json") == {}


def test_run_notebook_measures_a_real_kernel_and_reports_a_failing_cell(tmp_path):
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = bytearray(50_000_000)")]), good)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]), bad)
    run = run_notebook(good, "labs", timeout_s=120)
    assert run.ok and run.error == ""
    assert run.peak_rss_mb >= 50  # the kernel held 50 MB
    failed = run_notebook(bad, "labs", timeout_s=120)
    assert not failed.ok and "ZeroDivisionError" in failed.error


def test_lab_table_is_rendered_from_measurements_and_says_what_is_not_measured():
    timings = {
        "binder": {"00_start_here": {"seconds": 40.4, "peak_rss_mb": 485, "cpus": 2, "threads": "1",
                                     "measured_at": "2026-12-03T07:00:00Z"}},
        "labs": {"10_vllm": {"seconds": 300.0, "peak_rss_mb": 9100, "cpus": 2, "threads": "1",
                             "measured_at": "2026-12-03T07:10:00Z"}},
    }
    table = labtable.render(timings, REPO / "labs")
    rows = {line.split("]")[0].strip("| ["): line for line in table.splitlines() if line.startswith("| [")}
    assert len(rows) == len(LAB_FILES)
    assert "40 s / not measured" in rows["00 Start here"] and "0.5 GB" in rows["00 Start here"]
    assert "| yes |" in rows["00 Start here"]
    assert "5.0 min / not measured" in rows["10 vLLM"] and "9.1 GB" in rows["10 vLLM"]
    assert "no: vLLM needs" in rows["10 vLLM"] and "vLLM (.venv-vllm)" in rows["10 vLLM"]
    assert "not measured / not measured" in rows["01 Agents"]
    assert "2 cores" in table and "2026-12-03" in table


@pytest.mark.parametrize("page", ["README.md", "docs/instructors.md"])
def test_readme_and_instructor_page_have_the_generated_lab_table(tmp_path, page):
    text = (REPO / page).read_text()
    assert labtable.BEGIN in text and labtable.END in text
    copy = tmp_path / page
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(text)
    labtable.update_readme(copy, {})
    assert "not measured" in copy.read_text()
    # the links work from where the page lives
    link = "labs/00_start_here.ipynb" if page == "README.md" else "../labs/00_start_here.ipynb"
    rendered = labtable.render({}, REPO / "labs", "labs" if page == "README.md" else "../labs")
    assert f"]({link})" in rendered
    (tmp_path / "plain.md").write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        labtable.update_readme(tmp_path / "plain.md", {})


def test_run_time_line_in_each_notebook_comes_from_the_measurements(tmp_path):
    labs = tmp_path / "labs"
    (labs / "solutions").mkdir(parents=True)
    for name in ("00_start_here", "07_specialising_an_slm"):
        for path in (labs / f"{name}.ipynb", labs / "solutions" / f"{name}_solutions.ipynb"):
            path.write_bytes((REPO / "labs" / path.relative_to(labs)).read_bytes())
    timings = {"labs": {"07_specialising_an_slm": {"seconds": 258.2, "peak_rss_mb": 2700, "cpus": 2, "threads": "1",
                                                    "measured_at": "2026-12-03T15:40:27Z"}}}
    lab07, sol07 = labs / "07_specialising_an_slm.ipynb", labs / "solutions" / "07_specialising_an_slm_solutions.ipynb"
    before = lab07.read_text()
    for path in (lab07, sol07, labs / "00_start_here.ipynb"):
        labtable.update_notebook(path, timings, labs)
    head = nbformat.read(lab07, as_version=4).cells[0].source
    assert "**Run time:** 4.3 min for the lab, not measured for its worked solutions, peak memory 2.7 GB" in head
    assert "by `make test` on 2 cores" in head and "2026-12-03" in head and "](../README.md#the-labs)" in head
    assert "](../../README.md#the-labs)" in nbformat.read(sol07, as_version=4).cells[0].source
    # Lab 00 runs on Binder, so only a Binder measurement counts for it: none here
    assert "not measured yet on this machine" in nbformat.read(labs / "00_start_here.ipynb", as_version=4).cells[0].source
    # only the header's line changed, and a second run with the same figures changes nothing
    old, new = nbformat.read(REPO / "labs" / "07_specialising_an_slm.ipynb", as_version=4), nbformat.read(lab07, as_version=4)
    assert [c.source for c in old.cells[1:]] == [c.source for c in new.cells[1:]] and lab07.read_text() != before
    assert labtable.update_notebook(lab07, timings, labs) is False
    bare = tmp_path / "bare.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Lab 07 · no markers")]), bare)
    with pytest.raises(ValueError, match="markers"):
        labtable.update_notebook(bare, timings, labs)
