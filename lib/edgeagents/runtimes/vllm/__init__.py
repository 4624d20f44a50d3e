"""vLLM (lab 10): the course's server in its own environment (:mod:`.runtime`), the guide's deployment templates
checked against vLLM's own argument parser (:mod:`.templates`).
"""

from edgeagents.runtimes.vllm.runtime import VLLMServer, vllm_available, vllm_python

__all__ = ["VLLMServer", "vllm_available", "vllm_python"]
