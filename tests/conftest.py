"""Shared fixtures: one real course-model runtime for the whole session (it is small and fast), a real browser."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import runtime_kinds

os.environ.setdefault("EDGEAGENTS_THREADS", "1")


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (it downloads no browser of its own); skips, saying why, without it."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no chromium on PATH: `make browser` installs Debian's (as root with apt)")
    with sync_api.sync_playwright() as p:
        # --no-sandbox: chromium's sandbox cannot start as root or inside most containers
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox"], headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def model_spec():
    from edgeagents.models.course import course_model

    return course_model("base")


@pytest.fixture(scope="session")
def runtime(model_spec):
    from edgeagents.runtimes import LlamaCppRuntime

    rt = LlamaCppRuntime(model_spec, n_ctx=512, n_threads=1)
    yield rt
    rt.close()


ORDER_TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order by its id.",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    },
}

TICKET_TOOL = {
    "type": "function",
    "function": {
        "name": "create_ticket",
        "description": "Open a support ticket.",
        "parameters": {
            "type": "object",
            "properties": {
                "summary": {"type": "string"},
                "priority": {"type": "string", "enum": ["low", "medium", "high"]},
            },
            "required": ["summary", "priority"],
        },
    },
}


@pytest.fixture
def tools():
    return [ORDER_TOOL, TICKET_TOOL]


class _SomeoneElsesServer(BaseHTTPRequestHandler):
    """Another server on the port: it answers every GET with 200, as a healthy one would."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b'{"version": "someone else"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def busy_port():
    """A port another HTTP server listens on and answers."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _SomeoneElsesServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


# ---------------------------------------------------------------- every runtime kind (tests/runtime_kinds.py)
@pytest.fixture(scope="module")
def llamacpp_server(model_spec):
    """llama.cpp's OpenAI-compatible server on the course's base model, for the tests of every runtime kind."""
    from edgeagents.runtimes import LlamaCppServer

    srv = LlamaCppServer(model_spec, n_ctx=512, n_threads=1).start(timeout=runtime_kinds.SAFETY_S)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def foundry_registration():
    """Foundry Local's course registration, removed when the module ends (as tests/test_foundry_local.py does)."""
    yield
    from edgeagents.runtimes.foundry import byom, sdk

    byom.unregister(f"{byom.COURSE_NAME}:1")  # the child processes registered it too
    sdk.close_manager()


@pytest.fixture(scope="module", params=runtime_kinds.KINDS)
def kind(request) -> str:
    why = runtime_kinds.why_unavailable(request.param)
    if why:
        pytest.skip(why)
    return request.param


@pytest.fixture(scope="module")
def opener(kind, request) -> Callable[[], Any]:
    base_url = request.getfixturevalue("llamacpp_server").base_url if kind == "llama.cpp-server" else ""
    if kind == "foundry":
        request.getfixturevalue("foundry_registration")
    return lambda: runtime_kinds.open_runtime(kind, base_url)


@pytest.fixture(scope="module")
def rt(opener):
    """One runtime per kind for the tests that keep it open (loading Foundry's model takes a while)."""
    runtime = opener()
    yield runtime
    runtime.close()
