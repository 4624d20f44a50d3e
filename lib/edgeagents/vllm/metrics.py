"""vLLM's ``/metrics`` names and reader, as the vLLM lab and server use them.

The parser and the names live once, in :mod:`edgeagents.monitoring.server_metrics`, which reads llama.cpp's and
Ollama's server-side figures too; this module only gives them their vLLM-side import path.
"""

from edgeagents.monitoring.server_metrics import (
    E2E,
    GENERATION_TOKENS,
    ITL,
    KV_USAGE,
    PROMPT_TOKENS,
    RUNNING,
    SUCCESS,
    TTFT,
    WAITING,
    MetricsSampler,
    SchedulerSample,
    flatten,
    histogram_mean,
    parse_prometheus,
    sample,
    vllm_snapshot,
)

__all__ = ["E2E", "GENERATION_TOKENS", "ITL", "KV_USAGE", "PROMPT_TOKENS", "RUNNING", "SUCCESS", "TTFT", "WAITING",
           "MetricsSampler", "SchedulerSample", "flatten", "histogram_mean", "parse_prometheus", "sample",
           "vllm_snapshot"]
