"""Reading the course model's GGUF metadata and tensor table."""

import os

import pytest

from edgeagents.errors import CorruptModelError, ModelNotFoundError
from edgeagents.models.course import base_model_path
from edgeagents.models.gguf_info import GGUFInfo, gguf_info, read_gguf

MODEL = base_model_path()
needs_model = pytest.mark.skipif(not MODEL.is_file(), reason="course model not assembled (edgeagents models prepare)")


@pytest.fixture(scope="module")
def info() -> GGUFInfo:
    return read_gguf(MODEL)


@needs_model
def test_header_facts(info):
    assert info.architecture == "gemma3"
    assert (info.block_count, info.embedding_length, info.head_count, info.head_count_kv) == (18, 640, 4, 1)
    assert info.key_length == 256 and info.sliding_window == 512 and info.context_length == 32768
    assert info.vocab_size == 262_144
    assert (info.bos_token_id, info.eos_token_id, info.padding_token_id) == (2, 1, 0)
    assert info.add_bos_token is True
    assert info.has_chat_template is False  # a base model: no chat template


@needs_model
def test_tensor_table(info):
    assert info.n_tensors == 236 == len(info.tensors)
    assert info.n_params == 268_098_176
    assert sum(info.tensor_types.values()) == info.n_tensors and "Q4_K" in info.tensor_types
    embd = next(t for t in info.tensors if t.name == "token_embd.weight")
    assert embd.n_params == 640 * 262_144 and embd.n_params / info.n_params > 0.6
    assert sum(r["n_bytes"] for r in info.type_rows()) < info.file_size
    assert 7 < info.bits_per_weight < 8
    assert {"field", "value"} == set(info.summary_rows()[0]) and len(info.tensor_rows()) == 236


@needs_model
def test_isolated_and_cached_read_matches(tmp_path, info):
    link = tmp_path / "model.gguf"
    os.symlink(MODEL, link)
    first = gguf_info(link)  # child process, then cached next to the link
    assert (tmp_path / "model.gguf.info.json").exists()
    second = gguf_info(link)
    assert first == second
    assert first.n_params == info.n_params and first.tensor_types == info.tensor_types


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(ModelNotFoundError):
        read_gguf(tmp_path / "nope.gguf")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file at all" * 10)
    with pytest.raises(CorruptModelError):
        read_gguf(bad)
    with pytest.raises(CorruptModelError):
        gguf_info(bad, use_cache=False)
