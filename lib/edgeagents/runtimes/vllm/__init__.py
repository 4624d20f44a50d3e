"""vLLM (lab 10): the course's server in its own environment (:mod:`.runtime`), the guide's deployment templates
checked against vLLM's own argument parser (:mod:`.templates`), and n-gram speculative decoding
(:class:`NgramSpeculation`, :func:`acceptance`).
"""

from edgeagents.runtimes.server_metrics import SPEC_ACCEPTED_TOKENS, SPEC_DRAFT_TOKENS
from edgeagents.runtimes.vllm.runtime import NgramSpeculation, VLLMServer, acceptance, vllm_available, vllm_python

__all__ = ["SPEC_ACCEPTED_TOKENS", "SPEC_DRAFT_TOKENS", "NgramSpeculation", "VLLMServer", "acceptance",
           "vllm_available", "vllm_python"]
