from __future__ import annotations

import json

from edgeagents import cli, doctor


def test_diagnose_sees_the_course_model():
    report = doctor.diagnose()
    assert report.model_ready
    assert report.component("llama.cpp (llama-cpp-python)").ok
    labs = report.labs
    assert {"lab", "title", "ready", "note", "how_to_fix"} <= set(labs.columns)
    assert "Labs" in report.text() and "<table>" in report._repr_html_()


def test_every_missing_component_says_how_to_get_it():
    for comp in doctor.diagnose().components:
        if not comp.ok and comp.name not in ("Apple MLX",):
            assert comp.fix, comp.name


def test_cli_doctor_json(capsys):
    assert cli.main(["doctor", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["machine"]["cpu cores (logical)"] >= 1


def test_cli_models(capsys):
    assert cli.main(["models", "prepare"]) == 0
    assert "course model ready" in capsys.readouterr().out
    assert cli.main(["models", "path"]) == 0


def test_cli_reports_errors_without_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("EDGEAGENTS_THREADS", "lots")
    assert cli.main(["models", "info"]) == 2
    assert "EDGEAGENTS_THREADS" in capsys.readouterr().err
