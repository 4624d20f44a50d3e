"""Runtimes: one interface (:class:`Runtime`) over every way the course runs a model.

- :class:`LlamaCppRuntime`: llama.cpp in-process (the default; no server).
- :class:`LlamaCppServer`: llama.cpp's OpenAI-compatible server on 127.0.0.1, for labs that need HTTP.
- :class:`~edgeagents.runtimes.onnx_genai.OnnxGenAIRuntime`: ONNX Runtime GenAI in-process (the forge extra).
- :class:`OpenAICompatRuntime`: any OpenAI-compatible endpoint (llama.cpp server, Ollama, vLLM, a cloud API).

What a client's failure means (timeout, nothing listening, unknown model, context overflow, a broken stream...)
is decided in one place for every backend: :mod:`edgeagents.runtimes.transport`.
"""

from edgeagents.runtimes.base import (
    Health,
    Message,
    Result,
    Runtime,
    RuntimeInfo,
    Stream,
    StreamChunk,
    Timings,
    TokenLogprob,
    ToolCall,
    ToolSpec,
    Usage,
)
from edgeagents.runtimes.core import BaseRuntime
from edgeagents.runtimes.llamacpp.runtime import LlamaCppRuntime
from edgeagents.runtimes.llamacpp.server import LlamaCppServer
from edgeagents.runtimes.openai_compat import OpenAICompatRuntime
from edgeagents.runtimes.tools import function_tool

__all__ = [
    "BaseRuntime",
    "Health",
    "LlamaCppRuntime",
    "LlamaCppServer",
    "Message",
    "OpenAICompatRuntime",
    "Result",
    "Runtime",
    "RuntimeInfo",
    "Stream",
    "StreamChunk",
    "Timings",
    "TokenLogprob",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "function_tool",
    "open_runtime",
]


def open_runtime(name: str = "llama.cpp", model=None, **settings) -> Runtime:  # noqa: ANN001
    """Open a runtime by name: ``"llama.cpp"`` (in-process, default), ``"openai"`` (an endpoint),
    ``"onnx"`` (ONNX Runtime GenAI, forge extra) or ``"foundry-local"`` (Foundry Local's SDK in-process).

    >>> rt = open_runtime()                  # the course model on llama.cpp
    >>> rt = open_runtime("openai", base_url="http://127.0.0.1:8080/v1", model="course")
    """
    from edgeagents.errors import RuntimeUnavailableError

    key = name.lower().replace("_", "").replace("-", "").replace(".", "")
    if key in ("llamacpp", "llama"):
        return LlamaCppRuntime(model, **settings)
    if key in ("openai", "openaicompat"):
        return OpenAICompatRuntime(model=model, **settings)
    # --- ONNX Runtime GenAI (forge extra) ---
    if key in ("onnx", "onnxgenai", "onnxruntimegenai", "ort"):
        from edgeagents.runtimes.onnx_genai import OnnxGenAIRuntime

        return OnnxGenAIRuntime(model, **settings)
    if key in ("foundry", "foundrylocal"):  # Foundry Local in-process (lab 08; needs the foundry extra)
        from edgeagents.runtimes.foundry.runtime import FoundryLocalRuntime
        from edgeagents.runtimes.foundry.sdk import require_sdk

        require_sdk()
        return FoundryLocalRuntime(model or "course", **settings)
    # --- Ollama (lab 09): a model on an Ollama server ($OLLAMA_HOST), native API ---
    if key == "ollama":
        from edgeagents.runtimes.ollama.runtime import OllamaRuntime

        return OllamaRuntime(model or "edgeagents-course", **settings)
    raise RuntimeUnavailableError(
        f"Unknown runtime {name!r}.",
        hint="Use 'llama.cpp', 'onnx', 'foundry-local', 'ollama' or 'openai'; `edgeagents doctor` lists what this machine has.",
    )
