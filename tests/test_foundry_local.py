"""Foundry Local for real: the SDK in-process on the course model (the forge's ONNX folder, brought in as BYOM).

One module-scoped runtime loads the model once. Every test leaves no extra registration and no loaded
model behind; the module's teardown unregisters the course model and closes the manager.
The restart test closes the manager, so it runs last (pytest keeps file order).
"""

from __future__ import annotations

import json
import shutil
import time

import pytest

from conftest import ORDER_TOOL
from edgeagents.errors import (
    ContextOverflowError,
    CorruptModelError,
    InvalidRequestError,
    ModelInUseError,
    ModelNotFoundError,
    RuntimeClosedError,
    ToolCallError,
    UnsupportedFeatureError,
)
from edgeagents.runtimes.foundry import byom, catalog, sdk

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sdk.sdk_available(), reason=sdk.why_unavailable() or "no SDK"),
]

HELLO = [{"role": "user", "content": "Say hello to the class in one short sentence."}]


@pytest.fixture(scope="module")
def runtime():
    from edgeagents.runtimes.foundry.runtime import FoundryLocalRuntime

    if not byom.course_onnx_dir().is_dir():
        byom.build_course_onnx()
    rt = FoundryLocalRuntime("course")
    yield rt
    rt.close()
    byom.unregister(rt.model_id)
    assert not [m for m in catalog.local_models() if m["id"].startswith("edgeagents-")], "a registration was left"
    sdk.close_manager()


def test_registered_and_loaded(runtime):
    from edgeagents.runtimes import Runtime

    info = runtime.info()
    assert isinstance(runtime, Runtime)  # the course's one runtime interface
    assert runtime.is_loaded and runtime.health().ok
    assert info.model == "edgeagents-course:1" and info.details["source"] == "byom"
    assert runtime.load_s and runtime.load_s > 0
    assert any(m["id"] == runtime.model_id for m in catalog.local_models())
    assert runtime.model_id in catalog.loaded_models()


def test_chat_is_greedy_and_counts_tokens(runtime):
    a = runtime.chat(HELLO, max_tokens=16)
    b = runtime.chat(HELLO, max_tokens=16)
    assert a.text.strip() and a.text == b.text
    assert a.usage.completion_tokens > 0 and a.timings.ttft_s > 0
    assert "<end_of_turn>" not in a.text and "<start_of_turn>" not in a.text


def test_stream_gives_the_same_text_as_chat(runtime):
    stream = runtime.chat_stream(HELLO, max_tokens=16)
    chunks = [c.text for c in stream]
    assert len(chunks) > 1 and "".join(chunks) == stream.result.text
    assert stream.result.text == runtime.chat(HELLO, max_tokens=16).text


def test_complete_and_stop_strings(runtime):
    out = runtime.complete("The capital of France is", max_tokens=12, stop=["."])
    assert out.text.strip() and "." not in out.text


def test_tool_call_round_trip(runtime):
    ask = [{"role": "user", "content": "Where is my order ORD-1001?"}]
    first = runtime.chat(ask, tools=[ORDER_TOOL], tool_choice="lookup_order", max_tokens=32)
    call = first.tool_calls[0]  # built field by field: valid JSON, checked against the schema
    assert first.finish_reason == "tool_calls" and call.name == "lookup_order"
    assert isinstance(call.arguments["order_id"], str) and call.arguments["order_id"]
    follow = ask + [
        first.message,
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"status": "shipped", "eta": "Friday"})},
    ]
    answer = runtime.chat(follow, tools=[ORDER_TOOL], tool_choice="none", max_tokens=24)
    assert answer.text.strip() and not answer.tool_calls
    stream = runtime.chat_stream(ask, tools=[ORDER_TOOL], tool_choice="required", max_tokens=32)
    assert "".join(c.text for c in stream).startswith("<tool_call>") and stream.result.tool_calls[0].name == "lookup_order"
    with pytest.raises(ToolCallError):  # the base model's own "auto" call is not valid JSON: a typed error
        runtime.chat(ask, tools=[ORDER_TOOL], tool_choice="auto", max_tokens=24)


def test_unload_refused_while_a_stream_is_open(runtime):
    stream = runtime.chat_stream(HELLO, max_tokens=32)
    next(iter(stream))
    with pytest.raises(ModelInUseError):
        runtime.unload()
    stream.close()
    runtime.unload()
    assert not runtime.is_loaded
    with pytest.raises(InvalidRequestError, match="not loaded"):
        runtime.chat(HELLO, max_tokens=4)
    runtime.load()
    assert runtime.chat(HELLO, max_tokens=4).text


def test_prompt_beyond_the_context_is_refused(runtime):
    long = [{"role": "user", "content": "word " * (runtime.n_ctx + 100)}]
    with pytest.raises(ContextOverflowError) as info:
        runtime.chat(long, max_tokens=16)
    assert info.value.context_length <= runtime.n_ctx


def test_unsupported_options_and_scoring(runtime):
    with pytest.raises(UnsupportedFeatureError):
        runtime.chat(HELLO, json_schema={"type": "object"})
    with pytest.raises(UnsupportedFeatureError):
        runtime.score("The sky is", ["blue", "green"])


def test_unknown_alias_offline_is_typed_and_fast(runtime):
    from edgeagents.runtimes.foundry.runtime import FoundryLocalRuntime

    snap = catalog.public_catalog()
    if snap.online:
        assert snap.models
    else:
        assert snap.models == () and "offline" in snap.note and snap.seconds < 60
    start = time.perf_counter()
    with pytest.raises(ModelNotFoundError):
        FoundryLocalRuntime("no-such-model-alias")
    assert time.perf_counter() - start < 2  # the catalog answer is cached per process


def test_missing_and_corrupt_folders(runtime, tmp_path):
    from edgeagents.runtimes.foundry.runtime import FoundryLocalRuntime

    with pytest.raises(ModelNotFoundError):
        FoundryLocalRuntime(tmp_path / "nowhere", name="edgeagents-test-missing")
    broken = tmp_path / "broken"
    shutil.copytree(byom.course_onnx_dir(), broken, copy_function=shutil.copy)
    weights = json.loads((broken / "genai_config.json").read_text())["model"]["decoder"]["filename"]
    (broken / weights).write_bytes(b"not an onnx graph" * 200)
    try:
        with pytest.raises(CorruptModelError):
            FoundryLocalRuntime(broken, name="edgeagents-test-corrupt")
    finally:
        byom.unregister("edgeagents-test-corrupt:1")
        byom.remove_folder("edgeagents-test-corrupt")
    assert byom.find_registered("edgeagents-test-corrupt:1") is None


def test_request_after_close(runtime):
    from edgeagents.runtimes.foundry.runtime import FoundryLocalRuntime

    other = FoundryLocalRuntime("course", load=False)  # same registration, not loaded
    other.close()
    with pytest.raises(RuntimeClosedError):
        other.chat(HELLO)
    assert runtime.is_loaded  # closing the other one did not touch this one


def test_web_service_does_not_serve_byom_offline(runtime):
    probe = sdk.web_service_probe(runtime.model_id)
    assert probe["urls"] and probe["models_status"] == 200
    # 2.2.1 offline: the built-in service knows no bring-your-own model (the lab shows this answer)
    assert probe["chat_status"] in (200, 404)


def test_registration_survives_a_restart(runtime):
    from edgeagents.runtimes.foundry.runtime import FoundryLocalRuntime

    sdk.close_manager()
    with pytest.raises(RuntimeClosedError):
        runtime.chat(HELLO, max_tokens=4)
    assert byom.find_registered(runtime.model_id) is not None  # persisted in Foundry's cache dir
    again = FoundryLocalRuntime("course")
    try:
        assert again.chat(HELLO, max_tokens=8).text.strip()
    finally:
        again.close()
