"""vLLM for the course (lab 10): the server manager lives in :mod:`edgeagents.runtimes.vllm`; here are the
guide's deployment templates (:mod:`.templates`), metrics reading (:mod:`.metrics`), the multi-agent batch
manager (:mod:`.multiagent`), the production FastAPI service (:mod:`.service`), monitoring with autoscaling
advice (:mod:`.monitoring`) and load measurements (:mod:`.load`).
"""

from edgeagents.runtimes.vllm import VLLMServer, vllm_available, vllm_python

__all__ = ["VLLMServer", "vllm_available", "vllm_python"]
