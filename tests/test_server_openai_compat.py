"""llama.cpp's OpenAI-compatible server, started on 127.0.0.1, driven through OpenAICompatRuntime."""

from __future__ import annotations

import os

import psutil
import pytest

from edgeagents.errors import InvalidRequestError, RuntimeUnavailableError, UnsupportedFeatureError
from edgeagents.runtimes import LlamaCppServer, OpenAICompatRuntime, Runtime
from edgeagents.runtimes.llamacpp_server import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(model_spec):
    srv = LlamaCppServer(model_spec, n_ctx=512, n_threads=1).start(timeout=120)
    yield srv
    srv.stop()


def test_server_chat_stream_and_models(server):
    rt = server.runtime()
    assert isinstance(rt, Runtime)
    assert rt.health().ok and rt.models() == ["course"]
    r = rt.chat([{"role": "user", "content": "Say hello."}], max_tokens=8)
    # llama.cpp's server does not report usage while streaming; completion tokens are counted from chunks
    assert r.usage.completion_tokens > 0 and r.timings.total_s > 0
    stream = rt.chat_stream([{"role": "user", "content": "Count: one, two,"}], max_tokens=8)
    assert "".join(c.text for c in stream) == stream.result.text
    done = rt.complete("The capital of France is", max_tokens=5)
    assert done.text


def test_server_forced_tool_call(server, tools):
    rt = server.runtime()
    r = rt.chat([{"role": "user", "content": "Where is order ORD-5?"}], tools=tools, tool_choice="lookup_order", max_tokens=48)
    assert r.tool_calls and r.tool_calls[0].name == "lookup_order"


def test_features_outside_the_protocol_are_typed_errors(server):
    rt = server.runtime()
    with pytest.raises(UnsupportedFeatureError):
        rt.complete("Hello", grammar='root ::= "a"')
    with pytest.raises(UnsupportedFeatureError):
        rt.score("Hello", [" a"])
    with pytest.raises(InvalidRequestError):
        rt.chat([])


def test_nothing_listening_is_a_typed_error_not_a_hang():
    rt = OpenAICompatRuntime(f"http://127.0.0.1:{free_port()}/v1", "course", timeout=5)
    assert not rt.health().ok
    with pytest.raises(RuntimeUnavailableError, match="Nothing answers"):
        rt.chat([{"role": "user", "content": "hi"}], max_tokens=4)


def test_server_killed_mid_stream_is_a_typed_error(model_spec):
    from edgeagents.errors import BackendError, EdgeAgentsError

    srv = LlamaCppServer(model_spec, n_ctx=512, n_threads=1).start(timeout=120)
    try:
        rt = srv.runtime(timeout=10)
        stream = iter(rt.complete_stream("Once upon a time", max_tokens=400))
        next(stream)
        srv.stop()
        with pytest.raises(EdgeAgentsError) as info:
            list(stream)
        assert isinstance(info.value, (BackendError, RuntimeUnavailableError))
    finally:
        srv.stop()


def test_stop_leaves_no_process_behind(model_spec):
    srv = LlamaCppServer(model_spec, n_ctx=256, n_threads=1).start(timeout=120)
    pid = srv.pid
    assert pid and psutil.pid_exists(pid)
    srv.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    srv.stop()  # twice is fine


def test_no_endpoint_configured(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(RuntimeUnavailableError, match="No endpoint"):
        OpenAICompatRuntime()


def test_api_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-test-123")
    rt = OpenAICompatRuntime("http://127.0.0.1:9/v1", "m", api_key_env="MY_KEY")
    assert rt._client.api_key == "sk-test-123"
    assert "sk-test" not in repr(rt.info())
    os.environ.pop("MY_KEY", None)
