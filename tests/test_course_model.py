"""The course model: assembled once, verified, movable by an environment variable."""

from __future__ import annotations

import shutil

import pytest

from edgeagents.errors import CorruptModelError, InvalidRequestError, ModelNotFoundError
from edgeagents.models import course
from edgeagents.settings import default_threads, load_settings


def test_prepare_is_idempotent_and_verified():
    first = course.prepare_base_model(progress=False)
    assert course.prepare_base_model(progress=False) == first
    assert first.stat().st_size == course.BASE_SIZE
    assert course.verify_base_model(first) == first


def test_models_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("EDGEAGENTS_MODELS_DIR", str(tmp_path / "elsewhere"))
    assert course.models_dir() == tmp_path / "elsewhere"
    with pytest.raises(ModelNotFoundError):
        course.verify_base_model()


def test_truncated_model_is_detected_and_rebuilt(monkeypatch, tmp_path):
    src = course.prepare_base_model(progress=False)
    monkeypatch.setenv("EDGEAGENTS_MODELS_DIR", str(tmp_path))
    broken = tmp_path / course.BASE_FILENAME
    with src.open("rb") as fh:
        broken.write_bytes(fh.read(1_000_000))
    with pytest.raises(CorruptModelError, match="truncated"):
        course.verify_base_model(broken)
    rebuilt = course.prepare_base_model(progress=False)  # replaces the broken file
    assert rebuilt.stat().st_size == course.BASE_SIZE
    assert not list(tmp_path.glob(".assemble-*"))  # no partial file left behind


def test_a_damaged_byte_is_caught_by_the_hash(monkeypatch, tmp_path):
    src = course.prepare_base_model(progress=False)
    monkeypatch.setenv("EDGEAGENTS_MODELS_DIR", str(tmp_path))
    copy = tmp_path / course.BASE_FILENAME
    shutil.copyfile(src, copy)
    with copy.open("r+b") as fh:
        fh.seek(5_000_000)
        fh.write(b"\xff\xff\xff\xff")
    with pytest.raises(CorruptModelError, match="sha256"):
        course.verify_base_model(copy, full=True)


def test_course_model_variants(monkeypatch):
    base = course.course_model("base")
    assert base.is_base_model and base.adapter_path is None
    default = course.course_model()
    if course.course_adapter_path() is None:
        assert default == base  # until the course adapter ships, "course" is the base model
    else:
        assert default.adapter_path == course.course_adapter_path() and not default.is_base_model
    monkeypatch.setenv("EDGEAGENTS_MODEL", "base")
    assert course.course_model() == base
    with pytest.raises(ModelNotFoundError):
        course.course_model("huge")  # type: ignore[arg-type]


def test_settings(monkeypatch):
    assert default_threads(2) == 1 and default_threads(1) == 1 and default_threads(16) == 4
    monkeypatch.setenv("EDGEAGENTS_THREADS", "3")
    assert load_settings().n_threads == 3
    for bad in ("zero", "0", "-2"):
        monkeypatch.setenv("EDGEAGENTS_THREADS", bad)
        with pytest.raises(InvalidRequestError, match="EDGEAGENTS_THREADS"):
            load_settings()
    monkeypatch.delenv("EDGEAGENTS_THREADS")
    monkeypatch.setenv("EDGEAGENTS_MODEL", "giant")
    with pytest.raises(InvalidRequestError, match="EDGEAGENTS_MODEL"):
        load_settings()


def test_gguf_metadata_is_readable():
    from gguf import GGUFReader

    reader = GGUFReader(course.prepare_base_model(progress=False))
    arch = reader.fields["general.architecture"]
    assert bytes(arch.parts[arch.data[0]]).decode() == "gemma3"
    assert "tokenizer.chat_template" not in reader.fields  # a base model ships no chat template
