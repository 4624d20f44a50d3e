"""Ollama (lab 09): a real server, the official client and the runtime.

- :mod:`~edgeagents.runtimes.ollama.install`: ``make ollama-server`` installs a real Ollama from PyPI.
- :class:`~edgeagents.runtimes.ollama.server.OllamaServer`: start/stop one on 127.0.0.1 (process group).
- :class:`~edgeagents.runtimes.ollama.manager.OllamaManager`: health, models, create from GGUF, chat, stream, ps.
- :class:`~edgeagents.runtimes.ollama.runtime.OllamaRuntime`: the course's Runtime over Ollama's native API.
- :func:`connect`: the server a lab should use (yours if one answers, else the course's).
"""

from __future__ import annotations

# Names are loaded on first use, so `python -m edgeagents.runtimes.ollama.install` runs without importing the rest.
_LAZY = {
    "COURSE_MODEL": "manager", "ModelFile": "manager", "OllamaManager": "manager", "OllamaReply": "manager",
    "default_host": "manager", "HOW_TO_START": "server", "OllamaServer": "server", "find_server": "server",
    "OllamaRuntime": "runtime",
}


def __getattr__(name: str):  # noqa: ANN202
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"edgeagents.runtimes.ollama.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'edgeagents.runtimes.ollama' has no attribute {name!r}")

__all__ = ["COURSE_MODEL", "HOW_TO_START", "ModelFile", "OllamaManager", "OllamaReply", "OllamaRuntime", "OllamaServer", "connect",
           "default_host", "find_server"]


def connect(*, timeout: float = 120.0, verbose: bool = True):
    """The Ollama a lab talks to: ``$OLLAMA_HOST`` (default 127.0.0.1:11434) if it answers, else the
    course's own server started on a free port, else ``(None, None)`` after printing how to get one.

    Returns ``(manager, server)``; ``server`` is None when the Ollama is yours (the lab never stops it).
    """
    from edgeagents.errors import EdgeAgentsError
    from edgeagents.runtimes.ollama.manager import OllamaManager, default_host
    from edgeagents.runtimes.ollama.server import HOW_TO_START, OllamaServer

    say = print if verbose else (lambda *_: None)
    try:
        mine = OllamaManager(default_host(), timeout=timeout)
    except EdgeAgentsError as exc:  # the ollama client package is missing
        say(f"Ollama client missing: {exc.message} -> {exc.hint}")
        return None, None
    health = mine.health()
    if health.ok:
        say(f"Using the Ollama that already runs here: {health.detail}")
        return mine, None
    try:
        server = OllamaServer().start()
    except EdgeAgentsError as exc:
        say(f"No Ollama server here ({exc.message.splitlines()[0]}).\n{HOW_TO_START}")
        return None, None
    say(f"Started the course's Ollama {server.version()} at {server.base_url} (binary: {server.binary.binary})")
    return OllamaManager(server.base_url, timeout=timeout), server
