"""llama.cpp (labs 00–07): in-process through llama-cpp-python (:mod:`.runtime`) and as an OpenAI-compatible
server (:mod:`.server`).
"""

from edgeagents.runtimes.llamacpp.runtime import LlamaCppRuntime
from edgeagents.runtimes.llamacpp.server import LlamaCppServer

__all__ = ["LlamaCppRuntime", "LlamaCppServer"]
