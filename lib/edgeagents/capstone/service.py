"""The capstone over HTTP: an OpenAI-compatible chat endpoint, health, Prometheus metrics and a chat page.

``create_app(system)`` builds a FastAPI app over a :class:`~edgeagents.capstone.system.CapstoneSystem`:

* ``POST /v1/chat/completions`` — the OpenAI chat API, streaming (``"stream": true``, server-sent events)
  or not. The service keeps each conversation: pass ``session_id`` (with the ``openai`` client:
  ``extra_body={"session_id": ...}``) to continue one; the reply's ``session_id`` names the session it
  used. Only the last user message is the new turn — earlier messages are the session's, and a request
  that sends others says how many it ignored (``edgeagents.ignored_messages``). The reply carries what
  the agent did under ``edgeagents``: its tool calls, seconds, and who answered.
* ``GET /v1/models`` — the one model this service is.
* ``GET /health`` — 200 when the model can answer, 503 (with the reason) when it cannot.
* ``GET /metrics`` — Prometheus text: the runtime's GenAI metrics and the service's turn metrics.
* ``GET /`` — a chat page (plain HTML and JavaScript): the conversation, each turn's tool calls and latency.

Errors are the OpenAI error shape, ``{"error": {"message", "type", "hint"}}``: 400 for a bad request,
429 when ``max_pending`` turns are busy (with ``Retry-After``), 503 when the system is closed.

>>> from edgeagents.capstone.service import serve
>>> with serve(system) as server:                               # doctest: +SKIP
...     client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="local")
...     client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": "Hi"}])
"""

# no `from __future__ import annotations`: FastAPI reads the endpoint signatures at run time

import json
import time
import uuid
from collections.abc import Iterator
from importlib import resources
from typing import Any

from edgeagents.capstone.system import CapstoneSystem, Turn
from edgeagents.errors import EdgeAgentsError, InvalidRequestError, OverloadedError, RuntimeClosedError
from edgeagents.serving import AppServer

MODEL_ID = "edgeagents-capstone"
"""The model name the service answers to (any name is accepted; this one is what ``/v1/models`` lists)."""

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _status(exc: EdgeAgentsError) -> int:
    if isinstance(exc, OverloadedError):
        return 429
    if isinstance(exc, InvalidRequestError) and not isinstance(exc, RuntimeClosedError):
        return 400
    return 503


def _error_body(exc: EdgeAgentsError) -> dict[str, Any]:
    return {"error": {"message": exc.message, "type": type(exc).__name__, "hint": exc.hint}}


def parse_request(body: Any) -> tuple[str, str | None, bool, int]:
    """``(user text, session id, stream, ignored messages)`` from a chat-completions body, or a typed error."""
    if not isinstance(body, dict):
        raise InvalidRequestError("The body must be a JSON object.", hint="Send {'model': ..., 'messages': [...]}.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequestError("'messages' must be a non-empty list.")
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        raise InvalidRequestError("The last message must be the user's.",
                                  hint="The service keeps the conversation; send the user's new message last.")
    content = last.get("content")
    if isinstance(content, list):  # the OpenAI "content parts" form: text parts only
        if not all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str) for p in content):
            raise InvalidRequestError("Only text content parts are supported.")
        content = "".join(p["text"] for p in content)
    if not isinstance(content, str):
        raise InvalidRequestError("The user message's content must be text.")
    session_id = body.get("session_id", None)
    if session_id is not None and not isinstance(session_id, str):
        raise InvalidRequestError("'session_id' must be a string.")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidRequestError("'stream' must be true or false.")
    ignored = sum(1 for m in messages[:-1] if not (isinstance(m, dict) and m.get("role") == "system"))
    return content, session_id, stream, ignored


def _extension(turn: Turn, ignored: int) -> dict[str, Any]:
    return {"session_id": turn.session_id, "served_by": turn.served_by, "tool_calls": turn.tool_calls,
            "seconds": round(turn.seconds, 3), "restarts": turn.restarts, "errors": turn.errors,
            "ignored_messages": ignored}


def completion(turn: Turn, model: str, ignored: int) -> dict[str, Any]:
    """A ``chat.completion`` object for one answered turn."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": turn.text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": turn.prompt_tokens, "completion_tokens": turn.completion_tokens,
                  "total_tokens": turn.prompt_tokens + turn.completion_tokens},
        "session_id": turn.session_id,
        "edgeagents": _extension(turn, ignored),
    }


def _sse(pieces: Iterator[str | Turn], model: str, ignored: int) -> Iterator[str]:
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(body)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    try:
        for piece in pieces:
            if isinstance(piece, Turn):
                yield chunk({}, "stop", session_id=piece.session_id, edgeagents=_extension(piece, ignored),
                            usage={"prompt_tokens": piece.prompt_tokens, "completion_tokens": piece.completion_tokens,
                                   "total_tokens": piece.prompt_tokens + piece.completion_tokens})
            elif piece:
                yield chunk({"content": piece})
    except EdgeAgentsError as exc:  # the stream has begun: the error travels in it
        yield f"data: {json.dumps(_error_body(exc))}\n\n"
    yield "data: [DONE]\n\n"


def chat_page() -> str:
    """The chat page's HTML (shipped with the package)."""
    return resources.files("edgeagents.capstone").joinpath("static/chat.html").read_text(encoding="utf-8")


def create_app(system: CapstoneSystem) -> Any:
    """The FastAPI app over ``system`` (see the module docstring)."""
    try:
        from fastapi import FastAPI, Request
        from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
        from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
    except ImportError:
        from edgeagents.errors import RuntimeUnavailableError

        raise RuntimeUnavailableError("FastAPI is not installed.", hint="pip install -e '.[serve]'") from None

    app = FastAPI(title="Edge Agents Lab capstone", version="1")

    def error(exc: EdgeAgentsError) -> JSONResponse:
        status = _status(exc)
        headers = {"Retry-After": "1"} if status == 429 else None
        return JSONResponse(_error_body(exc), status_code=status, headers=headers)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:  # noqa: ANN401
        try:
            try:
                body = json.loads(await request.body())
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise InvalidRequestError(f"The body is not JSON: {exc}.") from None
            text, session_id, stream, ignored = parse_request(body)
            model = str(body.get("model") or MODEL_ID)
            # the turn runs on a worker thread: the model never blocks the loop that serves /health and /metrics
            if stream:
                pieces = await run_in_threadpool(system.chat_stream, text, session_id)  # admitted (or 429) here
                return StreamingResponse(iterate_in_threadpool(_sse(pieces, model, ignored)),
                                         media_type="text/event-stream")
            turn = await run_in_threadpool(system.chat, text, session_id)
        except EdgeAgentsError as exc:
            return error(exc)
        return JSONResponse(completion(turn, model, ignored), headers={"X-Session-Id": turn.session_id})

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "edgeagents"}]}

    @app.get("/health")
    def health() -> Any:  # noqa: ANN401
        report = system.health()
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    @app.get("/metrics")
    def metrics() -> Any:  # noqa: ANN401
        return PlainTextResponse(system.metrics_text(), media_type=PROMETHEUS_CONTENT_TYPE)

    @app.get("/")
    def page() -> Any:  # noqa: ANN401
        return HTMLResponse(chat_page())

    return app


def serve(system: CapstoneSystem, port: int | None = None) -> AppServer:
    """Start the service on 127.0.0.1 (a free port by default); use it as a context manager or call ``close()``."""
    return AppServer(create_app(system), port).start()
