"""Start, wait for, and stop a real Ollama server on 127.0.0.1 (a free port).

>>> with OllamaServer() as server:      # the project's server, or a stock `ollama` on PATH
...     server.base_url                  # http://127.0.0.1:PORT
...     server.pids()                    # the server and its model runner(s)

Which binary: ``$EDGEAGENTS_OLLAMA_BIN`` if set (a stock Ollama), then the one that
``make ollama-server`` installed under ``$EDGEAGENTS_HOME/ollama-server``, then ``ollama`` on PATH.

It is a :class:`~edgeagents.runtimes.process.ServerProcess`: :meth:`OllamaServer.stop` signals its whole
process group (the server and the model runners it spawns), so nothing is left behind. Its models live in a
folder of the course's (``$EDGEAGENTS_HOME/ollama/models``), never in your own ``~/.ollama``.

To use an Ollama you already run instead, don't start anything: ``OllamaManager()`` reads
``OLLAMA_HOST`` (default ``http://127.0.0.1:11434``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx

from edgeagents.errors import RuntimeUnavailableError
from edgeagents.runtimes.ollama.install import ServerInstall, installed
from edgeagents.runtimes.process import ServerProcess
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


class OllamaServer(ServerProcess):
    """One ``ollama serve`` process on 127.0.0.1, in its own process group.

    ``ready()`` means this server answers ``/api/version`` (another Ollama on the same port, e.g. your own,
    does not make this one ready).
    """

    name = "ollama serve"
    log_name = "ollama-server"
    ready_path = "/api/version"
    start_timeout_s = 60.0
    poll_s = 0.2
    start_hint = HOW_TO_START

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
        super().__init__(port=port, log_path=log_path)
        self.models_dir = Path(models_dir or settings.home / "ollama" / "models")
        self.context_length = context_length or settings.n_ctx
        self.keep_alive = keep_alive
        self._binary = binary

    @property
    def base_url(self) -> str:
        return self.root_url

    @property
    def openai_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def binary(self) -> ServerInstall:
        if self._binary is None:
            self._binary = find_server()
        return self._binary

    def command(self) -> list[str]:
        return [str(self.binary.binary), "serve"]

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

    def prepare(self) -> None:
        self.models_dir.mkdir(parents=True, exist_ok=True)

    def version(self) -> str:
        return httpx.get(f"{self.base_url}/api/version", timeout=5.0).json().get("version", "?")

    def kill_runner(self) -> list[int]:
        """Kill the model runner(s) but not the server (to see how clients fail mid-request)."""
        return self.kill_children()
