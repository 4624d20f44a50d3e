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


def test_complete_adds_bos_and_answers(ort):
    assert ort.tokenize("Hello")[0] == 2
    r = ort.complete(FEW_SHOT, max_tokens=6, stop=["\n"])
    assert isinstance(r, Result) and "Jupiter" in r.text and "\n" not in r.text
    assert r.timings.ttft_s > 0 and r.usage.completion_tokens >= 1


def test_greedy_prefix_matches_llama_cpp(ort, runtime):
    """Same model (int4 ONNX vs Q4_K_M GGUF), same prompt: the first greedy words agree."""
    prompt = "The capital of France is"
    a = ort.complete(prompt, max_tokens=4).text.split()
    b = runtime.complete(prompt, max_tokens=4).text.split()
    assert a[:2] == b[:2], (a, b)


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


def test_closed_runtime_refuses():
    rt = OnnxGenAIRuntime(n_threads=1)
    rt.close()
    rt.close()
    with pytest.raises(RuntimeClosedError):
        rt.complete("hi")
