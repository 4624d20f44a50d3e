"""Load measurements against any OpenAI-compatible server: TTFT, single-stream and concurrent throughput.

Every request streams, so the time to first token is measured as the client sees it; the
completion tokens come from the server's usage report. ``ignore_eos`` (vLLM's extension) makes
every request produce exactly ``max_tokens`` tokens, so runs at different concurrency levels
do the same work.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from edgeagents.errors import InvalidRequestError

DEFAULT_PROMPTS = (
    "Write one sentence about the sea.",
    "List three fruits.",
    "Explain what a CPU does in one sentence.",
    "Give a short tip for writing clear emails.",
    "Describe a cat in one sentence.",
    "Name two uses of a small language model.",
    "What is a kilometre? One sentence.",
    "Say something kind about Mondays.",
)


@dataclass(frozen=True)
class RequestStats:
    ttft_s: float
    total_s: float
    completion_tokens: int


@dataclass(frozen=True)
class LoadResult:
    concurrency: int
    requests: int
    wall_s: float
    completion_tokens: int
    aggregate_tps: float
    mean_ttft_s: float
    per_request_tps: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def one_request(client: Any, model: str, prompt: str, max_tokens: int, extra_body: dict[str, Any] | None) -> RequestStats:
    t0 = time.perf_counter()
    first = None
    tokens = 0
    pieces = 0
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens, temperature=0.0,
        stream=True, stream_options={"include_usage": True}, extra_body=extra_body or None,
    )
    for chunk in stream:
        if getattr(chunk, "usage", None) is not None:
            tokens = chunk.usage.completion_tokens
        if chunk.choices and chunk.choices[0].delta.content:
            pieces += 1
            if first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    return RequestStats((first or end) - t0, end - t0, tokens or pieces)


def measure(
    base_url: str,
    model: str,
    *,
    concurrency: int = 1,
    requests: int | None = None,
    max_tokens: int = 32,
    prompts: Sequence[str] = DEFAULT_PROMPTS,
    ignore_eos: bool = True,
    extra_body: dict[str, Any] | None = None,
    timeout: float = 300.0,
) -> LoadResult:
    """Send ``requests`` (default = ``concurrency``) requests, ``concurrency`` at a time; aggregate the numbers.

    ``extra_body`` adds server-specific fields (e.g. a ``logit_bias`` that bans the end tokens on a server
    without ``ignore_eos``).
    """
    import openai

    if concurrency < 1 or max_tokens < 1:
        raise InvalidRequestError("concurrency and max_tokens must be at least 1.")
    n = requests or concurrency
    client = openai.OpenAI(base_url=base_url, api_key="not-needed", timeout=timeout, max_retries=0)
    extra = {"ignore_eos": True, "min_tokens": max_tokens} if ignore_eos else None
    if extra_body:
        extra = {**(extra or {}), **extra_body}
    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(one_request, client, model, prompts[i % len(prompts)], max_tokens, extra) for i in range(n)]
        stats = [f.result() for f in futures]
    wall = time.perf_counter() - t0
    tokens = sum(s.completion_tokens for s in stats)
    per_req = [
        (s.completion_tokens - 1) / (s.total_s - s.ttft_s) for s in stats if s.completion_tokens > 1 and s.total_s > s.ttft_s
    ]
    return LoadResult(
        concurrency=concurrency, requests=n, wall_s=wall, completion_tokens=tokens,
        aggregate_tps=tokens / wall if wall > 0 else 0.0,
        mean_ttft_s=sum(s.ttft_s for s in stats) / len(stats),
        per_request_tps=sum(per_req) / len(per_req) if per_req else 0.0,
    )


def sweep(base_url: str, model: str, levels: Sequence[int] = (1, 2, 4, 8), **kwargs: Any):  # noqa: ANN201 - DataFrame
    """Throughput against concurrency: one :func:`measure` per level, as a table."""
    import pandas as pd

    return pd.DataFrame([measure(base_url, model, concurrency=c, **kwargs).as_dict() for c in levels])
