"""ONNX Runtime GenAI behind the shared runtime interface, on the forge's int4 build of the course model."""

from __future__ import annotations

import pytest

pytest.importorskip("onnxruntime_genai", reason="the forge extra is not installed (make setup installs it)")

from edgeagents.errors import (  # noqa: E402
    ContextOverflowError,
    InvalidRequestError,
    ModelNotFoundError,
    RuntimeClosedError,
    UnsupportedFeatureError,
)
from edgeagents.runtimes import Result, Runtime  # noqa: E402
from edgeagents.runtimes.onnx_genai import OnnxGenAIRuntime  # noqa: E402

pytestmark = pytest.mark.slow
FEW_SHOT = "Q: What is the capital of Italy?\nA: Rome\nQ: What is the largest planet in the solar system?\nA:"


@pytest.fixture(scope="module")
def ort():
    rt = OnnxGenAIRuntime(n_ctx=1024, n_threads=1)
    yield rt
    rt.close()


def test_implements_the_runtime_protocol(ort):
    assert isinstance(ort, Runtime)
    assert {"complete", "chat", "stream", "score"} <= ort.info().capabilities
    assert ort.health().ok


def test_complete_adds_bos_and_stops(ort):
    assert ort.tokenize("Hello")[0] == 2
    r = ort.complete(FEW_SHOT, max_tokens=12, stop=["\n"])
    assert isinstance(r, Result) and r.text.strip() and "\n" not in r.text
    assert r.timings.ttft_s > 0 and 1 <= r.usage.completion_tokens <= 12


def test_greedy_start_matches_llama_cpp(ort, runtime):
    """Same weights, two 4-bit formats (ONNX int4 RTN vs GGUF Q4_K_M): the greedy answer starts alike.

    Measured: the texts part after a word or two -- int4 round-to-nearest on this small model moves
    the logits more than Q4_K_M does (an fp32 ONNX build reproduces transformers exactly).
    """
    prompt = "The capital of France is"
    a = ort.complete(prompt, max_tokens=4).text.split()
    b = runtime.complete(prompt, max_tokens=4).text.split()
    assert a[:1] == b[:1], (a, b)


def test_stream_equals_complete(ort):
    stream = ort.complete_stream("One, two, three,", max_tokens=8)
    text = "".join(c.text for c in stream)
    assert text == stream.result.text == ort.complete("One, two, three,", max_tokens=8).text


def test_score_prefers_the_right_answer(ort):
    good, bad = ort.score(FEW_SHOT, [" Jupiter", " Banana"])
    assert good > bad


def test_chat_uses_the_course_template(ort):
    r = ort.chat([{"role": "user", "content": "Hello"}], max_tokens=8)
    assert r.finish_reason in ("stop", "length") and r.usage.prompt_tokens > 5


def test_unsupported_features_say_so(ort, tools):
    with pytest.raises(UnsupportedFeatureError):
        ort.complete("x", json_schema={"type": "object"})
    with pytest.raises(UnsupportedFeatureError):
        ort.complete("x", grammar='root ::= "a"')
    with pytest.raises(UnsupportedFeatureError):
        ort.chat([{"role": "user", "content": "order 7?"}], tools=tools, tool_choice="lookup_order")


def test_bad_input(ort, tmp_path):
    with pytest.raises(InvalidRequestError):
        ort.complete("")
    with pytest.raises(InvalidRequestError):
        ort.complete("hi", max_tokens=0)
    with pytest.raises(InvalidRequestError):
        ort.complete("hi", frobnicate=1)
    with pytest.raises(ContextOverflowError):
        ort.complete("hi", max_tokens=5000)
    with pytest.raises(ModelNotFoundError):
        OnnxGenAIRuntime(tmp_path)


def test_open_runtime_by_name():
    import edgeagents

    rt = edgeagents.open_runtime("onnx", n_threads=1)
    try:
        assert isinstance(rt, OnnxGenAIRuntime) and rt.info().runtime == "onnxruntime-genai"
    finally:
        rt.close()


def test_closed_runtime_refuses():
    rt = OnnxGenAIRuntime(n_threads=1)
    rt.close()
    rt.close()
    with pytest.raises(RuntimeClosedError):
        rt.complete("hi")
