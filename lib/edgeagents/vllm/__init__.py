"""The guide's vLLM patterns (lab 10) over the course's vLLM server: the multi-agent batch manager
(:mod:`.multiagent`), the production FastAPI service (:mod:`.service`), monitoring with autoscaling advice
(:mod:`.monitoring`) and load measurements (:mod:`.load`).

The server, its deployment templates and its CLI validation live in :mod:`edgeagents.runtimes.vllm`; its
``/metrics`` reader in :mod:`edgeagents.runtimes.server_metrics`.
"""
