"""The model forge against the real course model: every conversion, caching, integrity, clear errors.

The builds land in the shared EDGEAGENTS_HOME (the Makefile's), so a warm cache makes these fast;
on a cold cache the first run builds everything once (about 5 min on 2 cores).
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from edgeagents.errors import (
    ConversionError,
    CorruptModelError,
    InvalidRequestError,
    ModelNotFoundError,
    RuntimeUnavailableError,
)
from edgeagents.models import forge
from edgeagents.models.forge import cache

pytestmark = pytest.mark.slow


# --------------------------------------------------------------------------- cache helpers (unit)
def test_atomic_file_leaves_nothing_when_the_block_fails(tmp_path):
    target = tmp_path / "out.gguf"
    with pytest.raises(RuntimeError):
        with cache.atomic_file(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_replaces_only_on_success(tmp_path):
    target = tmp_path / "hf"
    with cache.atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("one")
    with pytest.raises(RuntimeError):
        with cache.atomic_dir(target) as tmp:
            (tmp / "a.txt").write_text("two")
            raise RuntimeError("boom")
    assert (target / "a.txt").read_text() == "one"
    assert [p.name for p in tmp_path.iterdir()] == ["hf"]


def test_stamp_detects_truncation_and_changed_inputs(tmp_path):
    f = tmp_path / "m.gguf"
    f.write_bytes(b"x" * 100)
    cache.write_stamp(f, {"recipe": "r1"})
    assert cache.is_fresh(f, {"recipe": "r1"}, full=True)
    assert not cache.is_fresh(f, {"recipe": "r2"})
    f.write_bytes(b"x" * 50)
    assert not cache.is_fresh(f, {"recipe": "r1"})
    f.write_bytes(b"y" * 100)  # same size, other bytes: only the full check sees it
    assert cache.is_fresh(f, {"recipe": "r1"}) and not cache.is_fresh(f, {"recipe": "r1"}, full=True)


def test_missing_extra_is_a_clear_error():
    from edgeagents.models.forge.hf import require

    with pytest.raises(RuntimeUnavailableError, match="not_a_real_module") as exc:
        require("json", "not_a_real_module")
    assert "forge" in exc.value.hint


def test_unknown_step_and_level_are_rejected():
    with pytest.raises(InvalidRequestError):
        forge.build_all("gptq")
    with pytest.raises(InvalidRequestError):
        forge.build_level("Q1_X")


# --------------------------------------------------------------------------- bad input (real files)
def test_truncated_gguf_gives_a_clear_error_and_no_partial_file(tmp_path):
    from edgeagents.models.course import base_model_path
    from edgeagents.models.forge.f16 import convert_to_f16

    bad = tmp_path / "truncated.gguf"
    with base_model_path().open("rb") as src:
        bad.write_bytes(src.read(50_000_000))
    out = tmp_path / "out" / "f16.gguf"
    with pytest.raises(CorruptModelError, match="not a readable GGUF"):
        convert_to_f16(bad, out, progress=False)
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_garbage_and_missing_inputs(tmp_path):
    from edgeagents.models.forge.f16 import convert_to_f16

    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a gguf at all" * 100)
    with pytest.raises(CorruptModelError):
        convert_to_f16(junk, tmp_path / "o.gguf", progress=False)
    with pytest.raises(ModelNotFoundError):
        convert_to_f16(tmp_path / "nope.gguf", tmp_path / "o.gguf", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.gguf"]


def test_hf_build_refuses_a_damaged_source(tmp_path):
    junk = tmp_path / "gemma-3-270m-q4_k_m.gguf"
    junk.write_bytes(b"GGUF" + b"\0" * 1000)
    with pytest.raises(CorruptModelError, match="truncated or replaced"):
        forge.build_hf(source=junk, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [junk.name]


def test_quantizer_failure_leaves_no_partial_file(tmp_path):
    from edgeagents.models.forge.ladder import LADDER, quantize

    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF" + b"\0" * 1000)
    with pytest.raises(ConversionError):
        quantize(junk, tmp_path / "q.gguf", LADDER["Q4_0"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.gguf"]


# --------------------------------------------------------------------------- the real conversions
@pytest.fixture(scope="module")
def f16():
    return forge.build_f16(progress=False)


def test_f16_keeps_every_tensor_bos_and_metadata(f16):
    import gguf

    from edgeagents.models.course import base_model_path

    src, out = gguf.GGUFReader(base_model_path()), gguf.GGUFReader(f16)
    assert len(out.tensors) == len(src.tensors) == 236
    allowed = {gguf.GGMLQuantizationType.F16, gguf.GGMLQuantizationType.F32}
    assert {t.tensor_type for t in out.tensors} <= allowed
    assert out.get_field("tokenizer.ggml.bos_token_id").contents() == 2
    assert out.get_field("general.file_type").contents() == 1
    skip = {"general.file_type"}
    names = {f for f in src.fields if not f.startswith("GGUF.")} - skip
    assert names <= set(out.fields)
    for key in ("gemma3.block_count", "gemma3.embedding_length", "tokenizer.ggml.add_bos_token"):
        assert out.get_field(key).contents() == src.get_field(key).contents()


def test_cached_rebuild_is_a_no_op(f16):
    import time

    mtime = f16.stat().st_mtime_ns
    t0 = time.perf_counter()
    assert forge.build_f16(progress=False) == f16
    assert time.perf_counter() - t0 < 5
    assert f16.stat().st_mtime_ns == mtime


def test_f16_and_q4_level_generate_the_same_greedy_answer(f16):
    from edgeagents.runtimes import LlamaCppRuntime

    q4 = forge.build_level("Q4_K_M", progress=False)
    prompt = "Q: What is the capital of Italy?\nA: Rome\nQ: What is the largest planet in the solar system?\nA:"
    answers = []
    for path in (f16, q4):
        with LlamaCppRuntime(path, n_ctx=256, n_threads=1) as rt:
            answers.append(rt.complete(prompt, max_tokens=5, stop=["\n"]).text)
    assert all("Jupiter" in a for a in answers), answers


def test_ladder_levels_have_their_types_and_shrink():
    import gguf

    built = forge.build_ladder(["Q8_0", "Q4_0", "Q4_0-embQ4"], progress=False)
    sizes = {k: p.stat().st_size for k, p in built.items()}
    assert sizes["Q8_0"] > sizes["Q4_0"] > sizes["Q4_0-embQ4"]
    emb = {t.name: t.tensor_type for t in gguf.GGUFReader(built["Q4_0-embQ4"]).tensors}["token_embd.weight"]
    assert emb == gguf.GGMLQuantizationType.Q4_0
    assert all(cache.is_fresh(p, cache.read_stamp(p)["inputs"], full=True) for p in built.values())


def test_hf_folder_tokenizer_adds_bos_and_config_is_plain():
    from edgeagents.models.forge.hf import verify_hf

    folder = forge.build_hf(progress=False)
    facts = verify_hf(folder)
    assert facts["first_ids"][0] == 2
    assert (folder / "model.safetensors").stat().st_size > 1_000_000_000  # float32 weights
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["Gemma3ForCausalLM"] and config["vocab_size"] == 262144


def test_onnx_folder_loads_in_onnxruntime_genai():
    folder = forge.build_onnx(progress=False)
    config = json.loads((folder / "genai_config.json").read_text())
    assert config["search"]["max_length"] >= 512
    assert config["model"]["bos_token_id"] == 2
    assert (folder / "model.onnx").is_file()


def test_truncated_output_is_detected_and_rebuilt(tmp_path, monkeypatch):
    """In a private home (F16 linked from the shared one), a truncated ladder file is noticed and rebuilt."""
    real_f16, real_q4 = forge.build_f16(progress=False), forge.build_level("Q4_0", progress=False)
    monkeypatch.setenv("EDGEAGENTS_HOME", str(tmp_path / "home"))
    f16, q4 = forge.f16_path(), forge.ladder_path("Q4_0")
    f16.parent.mkdir(parents=True)
    q4.parent.mkdir(parents=True)
    os.symlink(real_f16, f16)
    shutil.copy2(cache.stamp_path(real_f16), cache.stamp_path(f16))
    shutil.copy2(real_q4, q4)
    shutil.copy2(cache.stamp_path(real_q4), cache.stamp_path(q4))
    assert forge.status()["ladder/Q4_0"]
    with q4.open("r+b") as fh:
        fh.truncate(1000)
    assert not forge.status()["ladder/Q4_0"]
    assert forge.build_level("Q4_0", progress=False).stat().st_size == real_q4.stat().st_size
    assert forge.status()["ladder/Q4_0"]


def test_cli_builds_one_step(capsys):
    from edgeagents import cli

    assert cli.main(["models", "build", "--only", "f16", "--quiet"]) == 0
    assert "f16:" in capsys.readouterr().out
    assert cli.main(["models", "status"]) == 0
    assert json.loads(capsys.readouterr().out)["f16"] is True
