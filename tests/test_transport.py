"""One transport-error mapper for every client: real exception objects of openai, ollama and httpx (built here, no
server needed) go through each backend's translation, and each rule gives the same typed error for both clients."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import ollama
import openai
import pytest

from edgeagents.errors import (
    BackendError,
    ContextOverflowError,
    InvalidRequestError,
    ModelNotFoundError,
    OverloadedError,
    RuntimeUnavailableError,
)
from edgeagents.runtimes import transport
from edgeagents.runtimes.ollama.manager import OllamaManager
from edgeagents.runtimes.openai_compat import OpenAICompatRuntime

URL = "http://127.0.0.1:9/v1"  # nothing is ever sent: the clients only build their exceptions
REQUEST = httpx.Request("POST", f"{URL}/chat/completions")
OVERFLOW = "This model's maximum context length is 512 tokens. However, you requested 900 tokens."


def _status(cls: type, code: int, text: str) -> openai.APIStatusError:
    response = httpx.Response(code, request=REQUEST, json={"error": {"message": text}})
    return cls(text, response=response, body={"error": {"message": text}})


def _httpx_status(code: int, text: str) -> httpx.HTTPStatusError:
    response = httpx.Response(code, request=REQUEST, text=text)
    return httpx.HTTPStatusError(text, request=REQUEST, response=response)


# one row per rule: (rule, the openai client's exception, the ollama client's (or httpx's) exception, typed error)
RULES = [
    ("timeout", openai.APITimeoutError(request=REQUEST), httpx.ReadTimeout("timed out", request=REQUEST),
     RuntimeUnavailableError),
    ("nothing answers", openai.APIConnectionError(request=REQUEST),
     ConnectionError("Failed to connect to Ollama. Please check that Ollama is downloaded, running and accessible."),
     RuntimeUnavailableError),
    ("unknown model", _status(openai.NotFoundError, 404, "The model `x` does not exist."),
     ollama.ResponseError('model "x" not found, try pulling it first', 404), ModelNotFoundError),
    ("context overflow", _status(openai.BadRequestError, 400, OVERFLOW), ollama.ResponseError(OVERFLOW, 400),
     ContextOverflowError),
    ("other 4xx", _status(openai.BadRequestError, 400, "temperature must be >= 0"),
     ollama.ResponseError("invalid options: temperature", 400), InvalidRequestError),
    ("429", _status(openai.RateLimitError, 429, "too many requests"), ollama.ResponseError("server busy", 429),
     OverloadedError),
    ("5xx", _status(openai.InternalServerError, 500, "llama runner process has terminated"),
     ollama.ResponseError("llama runner process has terminated", 500), BackendError),
    ("stream broken", None, httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
     BackendError),
    ("unexpected", ValueError("garbage"), ValueError("garbage"), BackendError),
]


@pytest.fixture(scope="module")
def openai_rt():
    rt = OpenAICompatRuntime(URL, "course", timeout=7)
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def manager():
    m = OllamaManager("http://127.0.0.1:9", timeout=7)
    yield m
    m.close()


def _not_subclass(err: Exception, expected: type) -> bool:
    """ContextOverflowError is an InvalidRequestError: a rule must give the exact type, not a parent or a child."""
    return type(err) is expected


@pytest.mark.parametrize(("rule", "from_openai", "from_ollama", "expected"), RULES, ids=[r[0] for r in RULES])
def test_each_rule_gives_the_same_typed_error_for_both_clients(openai_rt, manager, rule, from_openai, from_ollama,
                                                               expected):
    if from_openai is None:  # the openai client's broken stream: a connection error once the answer began
        err_openai = openai_rt._translate(openai.APIConnectionError(request=REQUEST), answering=True, chunks=3)
    else:
        err_openai = openai_rt._translate(from_openai)
    err_ollama = manager._translate(from_ollama, "x")
    assert _not_subclass(err_openai, expected) and _not_subclass(err_ollama, expected), (err_openai, err_ollama)
    for err in (err_openai, err_ollama):
        assert err.message and err.hint, err  # every one says what happened and what to do


def test_messages_name_the_server_the_model_and_the_timeout(openai_rt, manager):
    timeout = openai_rt._translate(openai.APITimeoutError(request=REQUEST))
    assert URL in timeout.message and "7 s" in timeout.message and "busy or stuck" in timeout.hint
    down = openai_rt._translate(openai.APIConnectionError(request=REQUEST))
    assert down.message == f"Nothing answers at {URL}." and "Start the server" in down.hint
    unknown = manager._translate(ollama.ResponseError('model "x" not found, try pulling it first', 404), "x")
    assert "'x'" in unknown.message and "ensure_course_model" in unknown.hint
    nobody = manager._translate(ConnectionError("Failed to connect to Ollama."))
    assert "ollama" in nobody.hint.lower() and "make ollama-server" in nobody.hint
    slow = manager._translate(httpx.ConnectTimeout("timed out", request=REQUEST), "x")
    assert "Ollama at http://127.0.0.1:9" in slow.message and "num_predict" in slow.hint


def test_a_broken_stream_says_how_far_it_got(openai_rt, manager):
    cut = openai_rt._translate(openai.APIConnectionError(request=REQUEST), answering=True, chunks=3)
    assert "closed the stream before it finished (after 3 chunk(s))" in cut.message
    assert "runtime.health()" in cut.hint
    assert "closed the stream before it finished" in openai_rt._cut_off(0).message
    for exc in (httpx.ReadError("connection reset"), httpx.RemoteProtocolError("incomplete chunked read")):
        assert type(manager._translate(exc, "x")) is BackendError
    inside = manager._translate(ollama.ResponseError("an error was encountered while running the model"), "x")
    assert type(inside) is BackendError and "while answering" in inside.message  # status -1: sent inside the stream
    assert type(manager._cut_off("x")) is BackendError


def test_ollama_offline_registry_is_unavailable_not_a_missing_model(manager):
    offline = ollama.ResponseError("pull model manifest: Get https://registry.ollama.ai/v2/x: dial tcp: lookup "
                                   "registry.ollama.ai: no such host", 500)
    err = manager._translate(offline, "x:1b")
    assert type(err) is RuntimeUnavailableError and "offline" in err.message and "create_from_gguf" in err.hint


def test_credentials_refused_and_httpx_status_errors():
    peer = transport.Peer(URL, model="course")
    refused = transport.translate(_status(openai.AuthenticationError, 401, "invalid api key"), peer)
    assert type(refused) is InvalidRequestError and "API key" in refused.hint
    assert type(transport.translate(_httpx_status(404, "no such model"), peer)) is ModelNotFoundError
    assert type(transport.translate(_httpx_status(503, "loading"), peer)) is BackendError
    # without a model in the request, a 404 is a wrong path, not a missing model
    assert type(transport.translate(_httpx_status(404, "404 page not found"), transport.Peer(URL))) is InvalidRequestError


def test_describe_is_one_small_value_per_exception():
    assert transport.describe(openai.APITimeoutError(request=REQUEST)).kind == "timeout"
    assert transport.describe(openai.APIConnectionError(request=REQUEST)).kind == "unreachable"
    assert transport.describe(openai.APIConnectionError(request=REQUEST), answering=True).kind == "stream_broken"
    f = transport.describe(_status(openai.BadRequestError, 400, OVERFLOW))
    assert (f.kind, f.status) == ("status", 400) and "maximum context length" in f.text
    f = transport.describe(ollama.ResponseError("boom", 502))
    assert (f.kind, f.status, f.text) == ("status", 502, "boom")
    assert transport.describe(TimeoutError()).kind == "timeout"
    assert transport.describe(KeyError("x")).kind == "other"


def test_a_typed_error_passes_through_and_a_closed_runtime_says_so():
    own = ModelNotFoundError("mine")
    assert transport.translate(own, transport.Peer(URL)) is own
    rt = OpenAICompatRuntime(URL, "course")
    rt.close()
    assert "closed" in rt._translate(openai.APIConnectionError(request=REQUEST)).message


class _Answers(BaseHTTPRequestHandler):
    """A server whose every path answers with the status its name says: /500, /404..."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
        code = int(self.path.strip("/").split("/")[0] or 200)
        body = b"no such route" if code == 404 else b"engine dead"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_vllm_servers_own_requests_use_the_same_rules(tmp_path):
    from edgeagents.runtimes.process import free_port
    from edgeagents.runtimes.vllm.runtime import VLLMServer

    for name, content in (("config.json", "{}"), ("model.safetensors", ""), ("tokenizer.json", "{}")):
        (tmp_path / name).write_text(content)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        server = VLLMServer(tmp_path, python="/bin/true", port=httpd.server_address[1])
        with pytest.raises(BackendError, match="vLLM failed with HTTP 500"):
            server._get("/500")
        with pytest.raises(InvalidRequestError, match="HTTP 404"):
            server._get("/404")
        assert server._get("/200").status_code == 200
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
    down = VLLMServer(tmp_path, python="/bin/true", port=free_port())
    with pytest.raises(RuntimeUnavailableError, match="Nothing answers") as info:
        down.metrics()
    assert "server.start()" in info.value.hint
