"""Start, wait for, and stop a real Ollama server on 127.0.0.1 (a free port).

>>> with OllamaServer() as server:      # the project's server, or a stock `ollama` on PATH
...     server.base_url                  # http://127.0.0.1:PORT
...     server.pids()                    # the server and its model runner(s)

Which binary: ``$EDGEAGENTS_OLLAMA_BIN`` if set (a stock Ollama), then the one that
``make ollama-server`` installed under ``$EDGEAGENTS_HOME/ollama-server``, then ``ollama`` on PATH.

The server runs in its own process group; :meth:`OllamaServer.stop` signals the whole group
(the server and the model runners it spawns), so nothing is left behind. Its models live in a
folder of the course's (``$EDGEAGENTS_HOME/ollama/models``), never in your own ``~/.ollama``.

To use an Ollama you already run instead, don't start anything: ``OllamaManager()`` reads
``OLLAMA_HOST`` (default ``http://127.0.0.1:11434``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import time
import weakref
from pathlib import Path

import httpx
import psutil

from edgeagents.errors import RuntimeUnavailableError
from edgeagents.ollama.install import ServerInstall, installed
from edgeagents.runtimes.llamacpp_server import check_port, free_port, listens_on, require_free_port
from edgeagents.settings import load_settings

HOW_TO_START = (
    "Start an Ollama server: `make ollama-server` installs the course's copy (then OllamaServer().start()), "
    "or install Ollama (https://ollama.com/download) and run `ollama serve`; set OLLAMA_HOST if it is not on 127.0.0.1:11434."
)


def find_server() -> ServerInstall:
    """The Ollama binary this machine has (see the module doc for the order), or a typed error."""
    env_bin = os.environ.get("EDGEAGENTS_OLLAMA_BIN", "").strip()
    if env_bin:
        path = Path(env_bin).expanduser()
        if not path.is_file():
            raise RuntimeUnavailableError(f"EDGEAGENTS_OLLAMA_BIN={env_bin} is not a file.", hint=HOW_TO_START)
        return ServerInstall(path.parent, path, None, "?", "system")
    project = installed()
    if project is not None:
        return project
    on_path = shutil.which("ollama")
    if on_path:
        return ServerInstall(Path(on_path).parent, Path(on_path), None, "?", "system")
    raise RuntimeUnavailableError("No Ollama server binary on this machine.", hint=HOW_TO_START)


class OllamaServer:
    """One ``ollama serve`` process on 127.0.0.1, in its own process group."""

    def __init__(
        self,
        *,
        port: int | None = None,
        models_dir: Path | None = None,
        context_length: int | None = None,
        keep_alive: str = "10m",
        log_path: str | Path | None = None,
        binary: ServerInstall | None = None,
    ) -> None:
        settings = load_settings()
        self.host = "127.0.0.1"
        self.port = check_port(port) if port is not None else free_port()
        self.models_dir = Path(models_dir or settings.home / "ollama" / "models")
        self.context_length = context_length or settings.n_ctx
        self.keep_alive = keep_alive
        self.log_path = Path(log_path) if log_path else settings.home / "logs" / f"ollama-server-{self.port}.log"
        self._binary = binary
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def binary(self) -> ServerInstall:
        if self._binary is None:
            self._binary = find_server()
        return self._binary

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            **self.binary.env(),
            "OLLAMA_HOST": f"{self.host}:{self.port}",
            "OLLAMA_MODELS": str(self.models_dir),
            "OLLAMA_NUM_PARALLEL": "1",  # one request at a time: a small machine, and honest timings
            "OLLAMA_MAX_LOADED_MODELS": "1",
            "OLLAMA_KEEP_ALIVE": self.keep_alive,
            "OLLAMA_CONTEXT_LENGTH": str(self.context_length),
        }

    def start(self, timeout: float = 60.0) -> OllamaServer:
        """Launch ``ollama serve`` and wait until it answers ``/api/version`` on its port (or raise with the log's tail)."""
        if self.process is not None and self.process.poll() is None:
            return self
        require_free_port(self.port, self.host, "ollama serve")
        self.models_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(self.binary.binary), "serve"], env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        atexit.register(_stop_at_exit, weakref.ref(self))  # a kernel that exits takes its server along
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeUnavailableError(
                    f"ollama serve exited with code {self.process.returncode}:\n{self.log_tail()}", hint=HOW_TO_START
                )
            if self.ready():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeUnavailableError(f"ollama serve did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def ready(self) -> bool:
        """This server's process is alive, listens on the port, and answers ``/api/version``.

        (Another Ollama on the same port, e.g. your own, does not make this one ready.)
        """
        if not listens_on(self.process, self.port):
            return False
        try:
            return httpx.get(f"{self.base_url}/api/version", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def version(self) -> str:
        return httpx.get(f"{self.base_url}/api/version", timeout=5.0).json().get("version", "?")

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def pids(self) -> list[int]:
        """Every live process of the server's group (the server and its model runners)."""
        if self.process is None:
            return []
        pgid = self.process.pid
        found = []
        for proc in psutil.process_iter(["pid"]):
            try:
                if os.getpgid(proc.info["pid"]) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                    found.append(proc.info["pid"])
            except (ProcessLookupError, psutil.Error, OSError):
                continue
        return sorted(found)

    def kill_runner(self) -> list[int]:
        """Kill the model runner(s) but not the server (to see how clients fail mid-request)."""
        killed = []
        for pid in self.pids():
            if pid != self.pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                except ProcessLookupError:
                    pass
        return killed

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server's whole process group: SIGTERM, then SIGKILL after ``timeout``."""
        proc = self.process
        if proc is None:
            return
        pgid = proc.pid
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        # runners may outlive the server for a moment: make sure the group is gone
        deadline = time.monotonic() + timeout
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.pids():
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=timeout)

    def __enter__(self) -> OllamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:  # a forgotten server must not outlive the notebook
        try:
            self.stop(timeout=2.0)
        except Exception:
            pass


def _stop_at_exit(ref: weakref.ref[OllamaServer]) -> None:
    server = ref()
    if server is not None:
        try:
            server.stop(timeout=3.0)
        except Exception:  # noqa: BLE001
            pass
