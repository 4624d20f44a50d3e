"""llama.cpp's OpenAI-compatible server, started on 127.0.0.1, driven through OpenAICompatRuntime."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psutil
import pytest

from edgeagents.errors import BackendError, InvalidRequestError, RuntimeUnavailableError, UnsupportedFeatureError
from edgeagents.runtimes import LlamaCppServer, OpenAICompatRuntime, Runtime
from edgeagents.runtimes.process import free_port, listens_on

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


def test_server_killed_mid_stream_is_a_typed_error(model_spec, tmp_path):
    # A base model keeps counting "1, 2, 3, 4, 5," far past 1500 tokens: the kill lands long before the end.
    srv = LlamaCppServer(model_spec, n_ctx=2048, n_threads=1, log_path=str(tmp_path / "server.log")).start(timeout=120)
    assert srv.log_path == tmp_path / "server.log"
    try:
        rt = srv.runtime(timeout=30)
        stream = iter(rt.complete_stream("1, 2, 3, 4, 5,", max_tokens=1500))
        assert next(stream).text
        srv.kill()
        assert srv.process.poll() is not None and not srv.ready()
        with pytest.raises(BackendError) as info:
            list(stream)
        assert "runtime.health()" in info.value.hint
        assert not rt.health().ok
    finally:
        srv.stop()


def test_a_busy_port_is_a_typed_error_not_someone_elses_server(server, model_spec):
    other = LlamaCppServer(model_spec, port=server.port, n_ctx=256, n_threads=1)
    assert not other.ready()  # the port answers, but not from a process of this server
    with pytest.raises(RuntimeUnavailableError, match=f"Port {server.port} .*already in use") as info:
        other.start(timeout=60)
    assert "port" in info.value.hint
    assert other.process is None and server.ready()


@pytest.mark.parametrize("port", [0, -1, 70000, "8080", 80.5, True])
def test_a_port_that_is_not_a_port_is_a_typed_error(model_spec, port):
    with pytest.raises(InvalidRequestError, match="not a TCP port"):
        LlamaCppServer(model_spec, port=port)


_LISTENER = (
    "import socket, sys, time\n"
    "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()\n"
    "print('listening', flush=True); time.sleep(120)\n"
)


def test_readiness_belongs_to_the_process_that_listens():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        try:
            assert not listens_on(bystander, port)  # alive, but the port is someone else's
        finally:
            bystander.kill()
            bystander.wait()
        assert not listens_on(bystander, port) and not listens_on(None, port)
    port = free_port()
    owner = subprocess.Popen([sys.executable, "-c", _LISTENER, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout.readline().strip() == "listening"
        assert listens_on(owner, port)
    finally:
        owner.kill()
        owner.wait()
        owner.stdout.close()
    assert not listens_on(owner, port)


class _OneChunkThenClose(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that streams one chunk, then ends in one of three ways (``mode``):

    "cut-off": closes the connection, a clean end of an HTTP/1.0 body, with no finish_reason;
    "dropped": closes it in the middle of a chunked HTTP/1.1 body, as a server that dies does;
    "finished": sends the last chunk (finish_reason "stop") and ``[DONE]``, as a healthy server does.
    """

    mode = "cut-off"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        chat = self.path.endswith("/chat/completions")
        choice = {"index": 0, "finish_reason": None}
        choice.update({"delta": {"content": "1, 2,"}} if chat else {"text": "1, 2,"})
        chunk = {"id": "x", "object": "chat.completion.chunk" if chat else "text_completion", "created": 0,
                 "model": "course", "choices": [choice]}
        events = [chunk]
        if self.mode == "finished":
            events.append(dict(chunk, choices=[dict(choice, finish_reason="stop", **({"delta": {}} if chat else {"text": ""}))]))
        body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + ("data: [DONE]\n\n" if self.mode == "finished" else "")
        if self.mode == "dropped":
            self.protocol_version = "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        if self.mode == "dropped":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            data = body.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))  # and never the final 0-length chunk
        else:
            self.end_headers()  # HTTP/1.0, no length: the body ends when the connection closes
            self.wfile.write(body.encode())
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(params=["cut-off", "dropped", "finished"])
def one_chunk_server(request):
    handler = type("Handler", (_OneChunkThenClose,), {"mode": request.param})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", request.param == "finished"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def test_a_stream_cut_off_before_its_end_is_a_backend_error(one_chunk_server):
    url, finished = one_chunk_server
    rt = OpenAICompatRuntime(url, "course", timeout=30)
    streams = {
        "chat": lambda: rt.chat_stream([{"role": "user", "content": "Count"}], max_tokens=50),
        "complete": lambda: rt.complete_stream("1,", max_tokens=50),
    }
    for kind, open_stream in streams.items():
        stream = open_stream()
        if finished:  # the same server, ending properly: a whole answer
            assert "".join(c.text for c in stream) == "1, 2," and stream.result.finish_reason == "stop", kind
            continue
        chunks = []
        with pytest.raises(BackendError, match="closed the stream before it finished"):
            for chunk in stream:
                chunks.append(chunk.text)
        assert chunks == ["1, 2,"] and stream.result is None, kind
    rt.close()


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
