"""ServerProcess, the one lifecycle every server of the course uses, driven with tiny Python servers."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import psutil
import pytest

from edgeagents.errors import RuntimeUnavailableError, ServerStartError
from edgeagents.runtimes import process
from edgeagents.runtimes.process import ServerProcess, free_port

LIB = Path(__file__).resolve().parents[1] / "lib" / "edgeagents"

# A server that starts two helpers first: one in its process group that ignores SIGTERM (only SIGKILL ends it),
# one that leaves the group (its own session), as model runners and engine processes may.
_FAMILY = textwrap.dedent("""
    import http.server, subprocess, sys
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"
    subprocess.Popen([sys.executable, "-c", stubborn])
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
    print("helpers started", flush=True)
    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
""")


def _http_server(tmp_path: Path, port: int | None = None, **kwargs) -> ServerProcess:
    port = port or free_port()
    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)]
    return ServerProcess(cmd, port=port, log_path=tmp_path / "server.log", name="the test server", **kwargs)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def test_start_ready_log_and_stop(tmp_path):
    (tmp_path / "hello.txt").write_text("hello")
    server = _http_server(tmp_path)
    assert not server.running and server.pid is None and server.pids() == [] and not server.ready()
    with server:
        assert server.running and server.ready() and server.started_s is not None
        assert server.pids() == [server.pid]
        assert httpx.get(f"{server.root_url}/hello.txt").text == "hello"
        assert "GET /hello.txt" in server.log_tail(5)  # http.server logs each request to stderr
        assert server.start() is server  # starting a running server does nothing
        pid = server.pid
    assert not server.running and not _alive(pid) and server.process.poll() is not None
    assert not server.ready()


def test_a_server_that_exits_at_start_is_a_typed_error_with_its_log(tmp_path):
    cmd = [sys.executable, "-c", "import sys; print('no such flag: --frobnicate', flush=True); sys.exit(3)"]
    server = ServerProcess(cmd, log_path=tmp_path / "bad.log", name="the test server")
    with pytest.raises(ServerStartError, match="exited with code 3") as info:
        server.start(timeout=30)
    assert isinstance(info.value, RuntimeUnavailableError)
    assert info.value.returncode == 3 and "--frobnicate" in info.value.log_tail and "--frobnicate" in str(info.value)
    assert not server.running and server.pids() == []


def test_a_server_that_never_answers_times_out_and_is_stopped(tmp_path):
    server = ServerProcess([sys.executable, "-c", "print('thinking', flush=True); import time; time.sleep(300)"],
                           log_path=tmp_path / "slow.log", name="the test server")
    with pytest.raises(ServerStartError, match="did not become ready in 1 s") as info:
        server.start(timeout=1)
    assert "thinking" in info.value.log_tail and info.value.returncode is None
    assert not server.running and server.pids() == []


def test_a_command_that_cannot_run_is_a_typed_error(tmp_path):
    server = ServerProcess([str(tmp_path / "no-such-binary")], log_path=tmp_path / "x.log")
    with pytest.raises(ServerStartError, match="could not be launched"):
        server.start(timeout=5)
    assert server.process is None


def test_stop_ends_the_whole_group_and_children_that_left_it(tmp_path):
    port = free_port()
    server = ServerProcess([sys.executable, "-c", _FAMILY, str(port)], port=port, log_path=tmp_path / "family.log")
    server.start(timeout=60)
    deadline = time.monotonic() + 30
    while len(server.pids()) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    pids = server.pids()
    assert len(pids) == 3 and server.pid in pids, server.log_tail()
    server.stop(timeout=2)  # the stubborn helper outlasts SIGTERM: only the SIGKILL after 2 s ends it
    left = [p for p in pids if _alive(p)]
    assert left == [], f"left behind: {left}"
    assert server.pids() == [] and not server.running


def test_stop_is_idempotent_and_safe_before_start(tmp_path):
    never = _http_server(tmp_path)
    never.stop()
    never.kill()
    assert never.process is None
    server = _http_server(tmp_path).start(timeout=60)
    server.stop()
    server.stop()
    server.kill()
    assert not server.running and server.pids() == []


def test_kill_is_a_crash_of_the_whole_group_and_start_relaunches(tmp_path):
    server = _http_server(tmp_path).start(timeout=60)
    try:
        first = server.pid
        server.kill()
        assert server.process.returncode == -9 and not server.ready() and not server.running
        server.start(timeout=60)
        assert server.running and server.ready() and server.pid != first
    finally:
        server.stop()


def test_a_busy_port_is_a_typed_error_and_never_ready(tmp_path, busy_port):
    server = _http_server(tmp_path, port=busy_port)
    assert httpx.get(f"{server.root_url}/").status_code == 200  # something answers there...
    assert not server.ready()  # ...but it is not this server
    with pytest.raises(RuntimeUnavailableError, match=f"Port {busy_port} .*already in use") as info:
        server.start(timeout=10)
    assert "port" in info.value.hint and server.process is None


def test_a_port_taken_after_the_check_shows_the_servers_own_words(tmp_path, busy_port, monkeypatch):
    # the check and the server's bind are two moments: a listener that arrives between them makes the server fail
    monkeypatch.setattr(process, "require_free_port", lambda *a, **k: None)
    server = _http_server(tmp_path, port=busy_port)
    with pytest.raises(ServerStartError, match="exited with code") as info:
        server.start(timeout=30)
    assert "Address already in use" in info.value.log_tail


def test_a_server_left_running_stops_when_the_interpreter_exits(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        from edgeagents.runtimes.process import ServerProcess, free_port
        port = free_port()
        server = ServerProcess([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                               port=port, log_path={str(tmp_path / "left.log")!r}).start(timeout=60)
        print(server.pid, flush=True)
        sys.modules["__main__"].keep = server  # still referenced at exit: only the atexit hook can stop it
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.split()[0])
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)


def _calls(path: Path) -> set[str]:
    """The dotted names ``path`` calls or refers to (``subprocess.Popen``, ``os.killpg``...)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found.add(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module in ("subprocess", "os"):
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def test_only_process_py_launches_and_signals_servers():
    launching = {"subprocess.Popen", "os.killpg", "os.setsid", "os.setpgrp"}
    offenders = {}
    for path in LIB.rglob("*.py"):
        if path == LIB / "runtimes" / "process.py":
            continue
        hits = _calls(path) & launching
        if hits:
            offenders[str(path.relative_to(LIB))] = sorted(hits)
    assert offenders == {}, "start and stop servers with edgeagents.runtimes.process.ServerProcess"


def test_every_server_class_is_a_server_process():
    from edgeagents.monitoring.prometheus import PrometheusServer
    from edgeagents.runtimes.llamacpp.server import LlamaCppServer
    from edgeagents.runtimes.ollama.server import OllamaServer
    from edgeagents.runtimes.vllm.runtime import VLLMServer

    for cls in (LlamaCppServer, OllamaServer, VLLMServer, PrometheusServer):
        assert issubclass(cls, ServerProcess), cls
        for name in ("start", "stop", "kill", "ready", "pids", "processes", "__del__"):
            assert name not in vars(cls), f"{cls.__name__}.{name} repeats ServerProcess's lifecycle"
