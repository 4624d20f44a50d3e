"""llama.cpp's OpenAI-compatible server, started on 127.0.0.1 for labs that need HTTP.

>>> with LlamaCppServer() as server:          # the course model, on a free port
...     rt = server.runtime()                 # an OpenAICompatRuntime pointed at it
...     rt.chat([{"role": "user", "content": "Hi"}], max_tokens=8).text

The server is ``python -m llama_cpp.server`` (the ``[server]`` extra of llama-cpp-python).
It has no ``/health`` route: readiness is ``GET /v1/models`` answering 200 from the port that
*this* server process listens on (never another server that happens to hold the port).
It is stopped by its process id (its whole process group), never left behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from edgeagents.errors import InvalidRequestError, RuntimeUnavailableError
from edgeagents.models.course import ModelSpec, resolve_model
from edgeagents.runtimes.openai_compat import OpenAICompatRuntime
from edgeagents.settings import load_settings


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def check_port(port: object) -> int:
    """``port`` if it is a TCP port number, else a typed error."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidRequestError(
            f"port={port!r} is not a TCP port.", hint="Pass a number from 1024 to 65535, or leave port out to get a free one."
        )
    return port


def require_free_port(port: int, host: str, server: str) -> None:
    """Raise a typed error naming ``port`` if something already listens on it.

    SO_REUSEADDR, as the servers themselves set it: a port whose last connections are still in
    TIME_WAIT is free for a new server, only a live listener makes it busy.
    """
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise RuntimeUnavailableError(
                f"Port {port} on {host} is already in use ({exc.strerror}): {server} cannot listen there.",
                hint="Leave port out to get a free port, pass another one, or stop what listens there "
                f"(`ss -ltnp | grep :{port}` shows it).",
            ) from None


def listens_on(process: subprocess.Popen[bytes] | None, port: int) -> bool:
    """Whether ``process`` is alive and it (or a child of it) is the one listening on ``port``.

    A server that failed to bind (address in use) may still be starting or already dead while another
    server answers on the port: only the owner of the listening socket proves the answer is ours.
    """
    if process is None or process.poll() is not None:
        return False
    try:
        root = psutil.Process(process.pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return False
    for proc in tree:
        try:
            conns = proc.net_connections(kind="tcp")
        except psutil.Error:
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns):
            return True
    return False


class LlamaCppServer:
    """Start, wait for, and stop a llama.cpp server process serving one model."""

    def __init__(
        self,
        model: ModelSpec | str | Path | None = None,
        *,
        port: int | None = None,
        n_ctx: int | None = None,
        n_threads: int | None = None,
        alias: str = "course",
        chat_format: str = "gemma",
        log_path: str | Path | None = None,
    ) -> None:
        settings = load_settings()
        self.spec = resolve_model(model)
        self.host = "127.0.0.1"
        self.port = check_port(port) if port is not None else free_port()
        self.n_ctx = n_ctx or settings.n_ctx
        self.n_threads = n_threads or settings.n_threads
        self.alias = alias
        self.chat_format = chat_format
        self.log_path = Path(log_path) if log_path else settings.home / "logs" / f"llamacpp-server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def command(self) -> list[str]:
        cmd = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.spec.path),
            "--model_alias", self.alias,
            "--host", self.host,
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.n_threads),
            "--n_threads_batch", str(self.n_threads),
            "--chat_format", self.chat_format,
            # queue concurrent requests like a production server; by default llama-cpp-python cuts the
            # running stream short (without a finish_reason) whenever a new request arrives
            "--interrupt_requests", "False",
        ]
        if self.spec.adapter_path:
            cmd += ["--lora_path", str(self.spec.adapter_path)]
        return cmd

    def start(self, timeout: float = 120.0) -> LlamaCppServer:
        """Launch the server and wait until it answers ``/v1/models`` on its port (or raise with the log's tail)."""
        if self.process is not None and self.process.poll() is None:
            return self
        try:
            import llama_cpp.server  # noqa: F401
        except ImportError as exc:
            raise RuntimeUnavailableError(
                f"llama.cpp's server is not installed ({exc}).", hint="pip install 'llama-cpp-python[server]'"
            ) from None
        require_free_port(self.port, self.host, "the llama.cpp server")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeUnavailableError(
                    f"The llama.cpp server exited with code {self.process.returncode}:\n{self.log_tail()}"
                )
            if self.ready():
                return self
            time.sleep(0.25)
        self.stop()
        raise RuntimeUnavailableError(f"The llama.cpp server did not become ready in {timeout:.0f} s:\n{self.log_tail()}")

    def ready(self) -> bool:
        """This server's process is alive, listens on the port, and answers ``/v1/models``."""
        if not listens_on(self.process, self.port):
            return False
        try:
            return httpx.get(f"{self.base_url}/models", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def runtime(self, timeout: float = 60.0) -> OpenAICompatRuntime:
        """An OpenAI-compatible runtime talking to this server."""
        return OpenAICompatRuntime(self.base_url, self.alias, timeout=timeout, name="llama.cpp-server")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and its process group: SIGTERM, then SIGKILL after ``timeout``."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)
        except ProcessLookupError:
            pass

    def kill(self, timeout: float = 10.0) -> None:
        """Kill the server's process group at once (SIGKILL), as a crash would, and wait for it to be gone."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=timeout)

    def __enter__(self) -> LlamaCppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:  # a forgotten server must not outlive the notebook
        try:
            self.stop(timeout=2.0)
        except Exception:
            pass
