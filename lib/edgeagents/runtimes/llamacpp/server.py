"""llama.cpp's OpenAI-compatible server, started on 127.0.0.1 for labs that need HTTP.

>>> with LlamaCppServer() as server:          # the course model, on a free port
...     rt = server.runtime()                 # an OpenAICompatRuntime pointed at it
...     rt.chat([{"role": "user", "content": "Hi"}], max_tokens=8).text

The server is ``python -m llama_cpp.server`` (the ``[server]`` extra of llama-cpp-python).
It has no ``/health`` route: readiness is ``GET /v1/models`` answering 200 from the port that
*this* server process listens on (never another server that happens to hold the port).
It is a :class:`~edgeagents.runtimes.process.ServerProcess`: stopped by its process group, never left behind.
"""

from __future__ import annotations

import sys
from pathlib import Path

from edgeagents.errors import RuntimeUnavailableError
from edgeagents.models.course import ModelSpec, resolve_model
from edgeagents.runtimes.openai_compat import OpenAICompatRuntime
from edgeagents.runtimes.process import ServerProcess
from edgeagents.settings import load_settings


class LlamaCppServer(ServerProcess):
    """Start, wait for, and stop a llama.cpp server process serving one model."""

    name = "the llama.cpp server"
    log_name = "llamacpp-server"
    ready_path = "/v1/models"
    start_timeout_s = 120.0

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
        super().__init__(port=port, log_path=log_path)
        self.n_ctx = n_ctx or settings.n_ctx
        self.n_threads = n_threads or settings.n_threads
        self.alias = alias
        self.chat_format = chat_format

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

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

    def prepare(self) -> None:
        try:
            import llama_cpp.server  # noqa: F401
        except ImportError as exc:
            raise RuntimeUnavailableError(
                f"llama.cpp's server is not installed ({exc}).", hint="pip install 'llama-cpp-python[server]'"
            ) from None

    def runtime(self, timeout: float = 60.0) -> OpenAICompatRuntime:
        """An OpenAI-compatible runtime talking to this server."""
        return OpenAICompatRuntime(self.base_url, self.alias, timeout=timeout, name="llama.cpp-server")
