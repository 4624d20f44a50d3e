"""Every runtime this machine has, opened the same way for the tests that run on all of them.

Runtimes: llama.cpp in-process (always), ONNX Runtime GenAI (when the forge's ONNX build exists), Foundry Local
(when its SDK and the course's ONNX folder are there), llama.cpp's server (HTTP). A test module imports the
helpers it needs from here; the fixtures (``kind``, ``opener``, ``rt``, ``llamacpp_server``) are in
tests/conftest.py. A runtime the machine lacks is skipped with its one-line reason.
"""

from __future__ import annotations

from typing import Any

KINDS = ["llama.cpp", "onnx", "foundry", "llama.cpp-server"]
IN_PROCESS = {"llama.cpp", "onnx", "foundry"}
SAFETY_S = 120  # a request still blocked after this long is a failure, however slow the machine


def why_unavailable(kind: str) -> str:
    """Empty when ``kind`` can run here, else the one-line reason to skip."""
    if kind == "onnx":
        try:
            import onnxruntime_genai  # noqa: F401

            from edgeagents.models import forge
        except ImportError:
            return "onnxruntime-genai is not installed (the forge extra)"
        return "" if forge.status()["onnx"] else "the forge's ONNX build is missing (edgeagents models build --only onnx)"
    if kind == "foundry":
        from edgeagents.runtimes.foundry import byom, sdk

        if not sdk.sdk_available():
            return sdk.why_unavailable()
        return "" if byom.course_onnx_dir().is_dir() else "the course's ONNX folder for Foundry Local is not built"
    return ""


def open_runtime(kind: str, base_url: str = "") -> Any:
    """A fresh runtime of ``kind`` on the course's base model (the tests close it)."""
    if kind == "llama.cpp":
        from edgeagents.models.course import course_model
        from edgeagents.runtimes import LlamaCppRuntime

        return LlamaCppRuntime(course_model("base"), n_ctx=512, n_threads=1)
    if kind == "onnx":
        from edgeagents.models.forge import onnx_dir
        from edgeagents.runtimes.onnx_genai import OnnxGenAIRuntime

        return OnnxGenAIRuntime(onnx_dir(), n_ctx=1024, n_threads=1)
    if kind == "foundry":
        from edgeagents.runtimes.foundry.runtime import FoundryLocalRuntime

        return FoundryLocalRuntime("course")
    from edgeagents.runtimes import OpenAICompatRuntime

    return OpenAICompatRuntime(base_url, "course", timeout=SAFETY_S, name="llama.cpp-server")
