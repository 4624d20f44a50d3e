"""What the servers measure themselves: vLLM's and llama.cpp's ``/metrics``, Ollama's per-response durations.

The collector sees requests from the client's side; a server knows what the client cannot: how many requests it
runs and queues, how full its KV cache is, how long prefill and decode took inside it. This module reads those
figures, in seconds and tokens/s like the rest of :mod:`edgeagents.monitoring`.

vLLM's ``/metrics`` (Prometheus text, names from ``vllm/v1/metrics/loggers.py``):

| metric                                   | kind      | meaning                                            |
|------------------------------------------|-----------|----------------------------------------------------|
| ``vllm:num_requests_running``            | gauge     | sequences in the running batch                     |
| ``vllm:num_requests_waiting``            | gauge     | requests queued behind ``--max-num-seqs``          |
| ``vllm:kv_cache_usage_perc``             | gauge     | share of KV-cache blocks in use, 0..1 (before      |
|                                          |           | vLLM 0.10: ``vllm:gpu_cache_usage_perc``)          |
| ``vllm:prompt_tokens_total``             | counter   | prompt tokens processed since start                |
| ``vllm:generation_tokens_total``         | counter   | tokens generated since start                       |
| ``vllm:request_success_total``           | counter   | finished requests, by finish reason                |
| ``vllm:time_to_first_token_seconds``     | histogram | TTFT                                               |
| ``vllm:inter_token_latency_seconds``     | histogram | time between tokens (before: ``time_per_output_    |
|                                          |           | token_seconds``)                                   |
| ``vllm:e2e_request_latency_seconds``     | histogram | end-to-end request latency                         |

llama.cpp's ``llama-server --metrics`` (``tools/server``): counters ``llamacpp:prompt_tokens_total``,
``llamacpp:prompt_seconds_total``, ``llamacpp:tokens_predicted_total``, ``llamacpp:tokens_predicted_seconds_total``,
``llamacpp:n_decode_total``; gauges ``llamacpp:prompt_tokens_seconds`` and ``llamacpp:predicted_tokens_seconds``
(mean throughput), ``llamacpp:requests_processing``, ``llamacpp:requests_deferred``, ``llamacpp:n_busy_slots_per_decode``.
The course's own server is llama-cpp-python's, which has no ``/metrics``: these are for ggml's ``llama-server``.

Ollama has no ``/metrics``; every response carries its own timings in nanoseconds (``total_duration``,
``load_duration``, ``prompt_eval_count``, ``prompt_eval_duration``, ``eval_count``, ``eval_duration``):
:func:`ollama_durations` turns them into seconds and tokens/s.

>>> from edgeagents.runtimes import server_metrics as sm
>>> sm.vllm_snapshot(server.metrics_text()).waiting      # requests queued in vLLM right now
>>> sm.ollama_durations(reply).eval_tokens_per_s         # decode speed as Ollama measured it
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from edgeagents.errors import InvalidRequestError

Parsed = dict[str, list[tuple[dict[str, str], float]]]

# ---------------------------------------------------------------------------- vLLM
RUNNING = "vllm:num_requests_running"
WAITING = "vllm:num_requests_waiting"
KV_USAGE = "vllm:kv_cache_usage_perc"
KV_USAGE_OLD = "vllm:gpu_cache_usage_perc"
PROMPT_TOKENS = "vllm:prompt_tokens_total"
GENERATION_TOKENS = "vllm:generation_tokens_total"
SUCCESS = "vllm:request_success_total"
TTFT = "vllm:time_to_first_token_seconds"
ITL = "vllm:inter_token_latency_seconds"
ITL_OLD = "vllm:time_per_output_token_seconds"
# speculative decoding (vLLM with --speculative-config): tokens drafted, and the ones the model kept
SPEC_DRAFT_TOKENS = "vllm:spec_decode_num_draft_tokens_total"
SPEC_ACCEPTED_TOKENS = "vllm:spec_decode_num_accepted_tokens_total"
E2E = "vllm:e2e_request_latency_seconds"

# ---------------------------------------------------------------------------- llama.cpp server
LLAMACPP_PROMPT_TOKENS = "llamacpp:prompt_tokens_total"
LLAMACPP_PROMPT_SECONDS = "llamacpp:prompt_seconds_total"
LLAMACPP_PREDICTED_TOKENS = "llamacpp:tokens_predicted_total"
LLAMACPP_PREDICTED_SECONDS = "llamacpp:tokens_predicted_seconds_total"
LLAMACPP_DECODE_CALLS = "llamacpp:n_decode_total"
LLAMACPP_PROMPT_TPS = "llamacpp:prompt_tokens_seconds"
LLAMACPP_PREDICTED_TPS = "llamacpp:predicted_tokens_seconds"
LLAMACPP_PROCESSING = "llamacpp:requests_processing"
LLAMACPP_DEFERRED = "llamacpp:requests_deferred"
LLAMACPP_BUSY_SLOTS = "llamacpp:n_busy_slots_per_decode"


def parse_prometheus(text: str) -> Parsed:
    """Prometheus text format -> ``{sample name: [(labels, value), ...]}`` with prometheus-client's own parser.

    Sample names are what the page shows (``..._total``, ``..._bucket``, ``..._sum``), not family names. Text the
    parser rejects raises :class:`InvalidRequestError`: a page that is not Prometheus text is worth knowing about.
    """
    out: Parsed = {}
    try:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                out.setdefault(s.name, []).append((dict(s.labels), float(s.value)))
    except (ValueError, TypeError) as exc:
        raise InvalidRequestError(f"Not Prometheus text: {exc}",
                                  hint="Is this the server's /metrics page? (llama-server needs --metrics)") from exc
    return out


def flatten(parsed: Parsed) -> dict[str, float]:
    """One number per sample name: the sum over its label sets (histogram buckets are skipped)."""
    return {name: sum(v for _, v in rows) for name, rows in parsed.items() if not name.endswith("_bucket")}


def read(text_or_flat: str | Mapping[str, float]) -> dict[str, float]:
    """:func:`flatten` of a page, or a flat mapping as it is."""
    return flatten(parse_prometheus(text_or_flat)) if isinstance(text_or_flat, str) else dict(text_or_flat)


def histogram_mean(flat: Mapping[str, float], name: str) -> float:
    """Mean of a histogram from its ``_sum`` and ``_count`` (0 when nothing was observed)."""
    count = flat.get(f"{name}_count", 0.0)
    return flat.get(f"{name}_sum", 0.0) / count if count else 0.0


def _first(flat: Mapping[str, float], *names: str) -> float:
    for name in names:
        if name in flat:
            return flat[name]
    return 0.0


def _mean(flat: Mapping[str, float], *names: str) -> float:
    for name in names:
        if f"{name}_count" in flat:
            return histogram_mean(flat, name)
    return 0.0


@dataclass(frozen=True)
class VLLMSnapshot:
    """vLLM's scheduler and latency figures at one moment (histogram means are since the server started)."""

    running: float
    waiting: float
    kv_cache_usage: float  # 0..1
    prompt_tokens: float
    generation_tokens: float
    requests: float
    ttft_mean_s: float
    inter_token_mean_s: float
    e2e_mean_s: float


def vllm_snapshot(text_or_flat: str | Mapping[str, float]) -> VLLMSnapshot:
    flat = read(text_or_flat)
    return VLLMSnapshot(
        running=flat.get(RUNNING, 0.0), waiting=flat.get(WAITING, 0.0),
        kv_cache_usage=_first(flat, KV_USAGE, KV_USAGE_OLD),
        prompt_tokens=flat.get(PROMPT_TOKENS, 0.0), generation_tokens=flat.get(GENERATION_TOKENS, 0.0),
        requests=flat.get(SUCCESS, 0.0), ttft_mean_s=histogram_mean(flat, TTFT),
        inter_token_mean_s=_mean(flat, ITL, ITL_OLD), e2e_mean_s=histogram_mean(flat, E2E),
    )


@dataclass(frozen=True)
class LlamaCppSnapshot:
    """llama-server's own counters and gauges at one moment."""

    prompt_tokens: float
    prompt_s: float
    predicted_tokens: float
    predicted_s: float
    decode_calls: float
    prompt_tokens_per_s: float  # llama.cpp's mean since start
    predicted_tokens_per_s: float
    requests_processing: float
    requests_deferred: float
    busy_slots_per_decode: float


def llamacpp_snapshot(text_or_flat: str | Mapping[str, float]) -> LlamaCppSnapshot:
    flat = read(text_or_flat)
    return LlamaCppSnapshot(
        prompt_tokens=flat.get(LLAMACPP_PROMPT_TOKENS, 0.0), prompt_s=flat.get(LLAMACPP_PROMPT_SECONDS, 0.0),
        predicted_tokens=flat.get(LLAMACPP_PREDICTED_TOKENS, 0.0),
        predicted_s=flat.get(LLAMACPP_PREDICTED_SECONDS, 0.0), decode_calls=flat.get(LLAMACPP_DECODE_CALLS, 0.0),
        prompt_tokens_per_s=flat.get(LLAMACPP_PROMPT_TPS, 0.0),
        predicted_tokens_per_s=flat.get(LLAMACPP_PREDICTED_TPS, 0.0),
        requests_processing=flat.get(LLAMACPP_PROCESSING, 0.0), requests_deferred=flat.get(LLAMACPP_DEFERRED, 0.0),
        # older servers declare this mean a counter, and prometheus-client names a counter's sample "..._total"
        busy_slots_per_decode=_first(flat, LLAMACPP_BUSY_SLOTS, f"{LLAMACPP_BUSY_SLOTS}_total"),
    )


# ---------------------------------------------------------------------------- Ollama
NS = 1e9


@dataclass(frozen=True)
class OllamaDurations:
    """One Ollama response's own timings, in seconds (the API gives nanoseconds)."""

    total_s: float
    load_s: float
    prompt_eval_count: int
    prompt_eval_s: float
    eval_count: int
    eval_s: float

    @property
    def prompt_tokens_per_s(self) -> float:
        return self.prompt_eval_count / self.prompt_eval_s if self.prompt_eval_s > 0 else 0.0

    @property
    def eval_tokens_per_s(self) -> float:
        """Decode speed as Ollama measured it: eval_count / eval_duration."""
        return self.eval_count / self.eval_s if self.eval_s > 0 else 0.0


def ollama_durations(response: Mapping[str, Any] | Any) -> OllamaDurations:
    """The durations of an Ollama response: a JSON dict or the ``ollama`` client's response object.

    Missing fields count as 0 (a streamed chunk before the last one has none).
    """
    def get(name: str) -> Any:
        value = response.get(name) if isinstance(response, Mapping) else getattr(response, name, None)
        return value or 0

    return OllamaDurations(total_s=get("total_duration") / NS, load_s=get("load_duration") / NS,
                           prompt_eval_count=int(get("prompt_eval_count")),
                           prompt_eval_s=get("prompt_eval_duration") / NS, eval_count=int(get("eval_count")),
                           eval_s=get("eval_duration") / NS)


# ---------------------------------------------------------------------------- polling a server while a load runs
@dataclass(frozen=True)
class SchedulerSample:
    t: float
    running: float
    waiting: float
    kv_cache_usage: float
    generation_tokens: float


def sample(flat: Mapping[str, float], t: float) -> SchedulerSample:
    """vLLM's scheduler gauges from a flat page, at ``t`` seconds."""
    return SchedulerSample(t=t, running=flat.get(RUNNING, 0.0), waiting=flat.get(WAITING, 0.0),
                           kv_cache_usage=_first(flat, KV_USAGE, KV_USAGE_OLD),
                           generation_tokens=flat.get(GENERATION_TOKENS, 0.0))


@dataclass
class MetricsSampler:
    """Polls a metrics function in a background thread: ``with MetricsSampler(server.metrics) as s: ...``."""

    read: Callable[[], dict[str, float]]
    interval_s: float = 0.25
    samples: list[SchedulerSample] = field(default_factory=list)
    errors: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(sample(self.read(), time.perf_counter() - self._t0))
            except Exception:  # a scrape that fails is counted, and the next one tried
                self.errors += 1
            self._stop.wait(self.interval_s)

    def __enter__(self) -> MetricsSampler:
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    @property
    def max_running(self) -> float:
        return max((s.running for s in self.samples), default=0.0)

    @property
    def max_waiting(self) -> float:
        return max((s.waiting for s in self.samples), default=0.0)

    def frame(self):  # noqa: ANN201 - a pandas DataFrame
        import pandas as pd

        return pd.DataFrame([s.__dict__ for s in self.samples])
