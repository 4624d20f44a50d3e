"""The guide's high-throughput multi-agent manager, on a real vLLM server.

The guide runs three servers (a 0.5B "lightweight", a 3.8B "balanced", a 3B "capable" model)
and sends each request to a tier chosen by its complexity and the tiers' current load. On a
laptop CPU one server is what fits, so here the tiers are *profiles* on one or more servers:
each tier names an endpoint, a model (the base model or a LoRA module) and a token budget.
The selection logic is the guide's; the requests really run, concurrently, and vLLM batches
them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from edgeagents.errors import InvalidRequestError

COMPLEXITIES = ("simple", "moderate", "complex")


@dataclass(frozen=True)
class Tier:
    """One agent tier: where it runs and how much it may generate."""

    name: str
    base_url: str
    model: str
    max_tokens: int = 32
    max_concurrent: int = 10
    system: str = ""


GUIDE_COMPLEXITY_TO_TIER = {"simple": "lightweight", "moderate": "balanced", "complex": "capable"}


def complexity_of(text: str) -> str:
    """simple / moderate / complex from the routing lab's keyword classifier (its p_llm score)."""
    from edgeagents.routing.classifiers import RuleClassifier

    p = RuleClassifier().p_llm([text])[0]
    return "simple" if p < 0.4 else "moderate" if p < 0.75 else "complex"


class HighThroughputManager:
    """Pick a tier per request (complexity, then load) and run a batch of requests concurrently."""

    def __init__(self, tiers: Sequence[Tier], complexity_to_tier: dict[str, str] | None = None) -> None:
        if not tiers:
            raise InvalidRequestError("A manager needs at least one tier.")
        self.tiers = {t.name: t for t in tiers}
        self.complexity_to_tier = dict(complexity_to_tier or GUIDE_COMPLEXITY_TO_TIER)
        self._clients: dict[str, Any] = {}

    def get_optimal_tier(self, complexity: str, current_load: dict[str, int]) -> str:
        """The guide's rule: the preferred tier unless it is full, else the least-loaded tier with room."""
        preferred = self.complexity_to_tier.get(complexity, "balanced")
        if preferred in self.tiers and current_load.get(preferred, 0) < self.tiers[preferred].max_concurrent:
            return preferred
        room = [(name, load) for name, load in current_load.items()
                if name in self.tiers and load < self.tiers[name].max_concurrent]
        if room:
            return min(room, key=lambda x: x[1])[0]
        return preferred if preferred in self.tiers else next(iter(self.tiers))

    def plan(self, requests: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
        """Assign each request a tier (``complexity`` given, or classified from ``message``)."""
        load = {name: 0 for name in self.tiers}
        planned = []
        for req in requests:
            if not isinstance(req.get("message"), str) or not req["message"].strip():
                raise InvalidRequestError(f"Request {req.get('id')!r} has no message.")
            complexity = req.get("complexity") or complexity_of(req["message"])
            if complexity not in COMPLEXITIES:
                raise InvalidRequestError(
                    f"Complexity {complexity!r} is not one of {COMPLEXITIES}.", hint="Leave it out to classify the message."
                )
            tier = self.get_optimal_tier(complexity, load)
            load[tier] += 1
            planned.append(({**req, "complexity": complexity}, tier))
        return planned

    def _client(self, tier: Tier) -> Any:
        import openai

        if tier.base_url not in self._clients:
            self._clients[tier.base_url] = openai.AsyncOpenAI(
                base_url=tier.base_url, api_key="not-needed", timeout=300, max_retries=0
            )
        return self._clients[tier.base_url]

    async def _one(self, req: dict[str, Any], tier_name: str) -> dict[str, Any]:
        tier = self.tiers[tier_name]
        messages = ([{"role": "system", "content": tier.system}] if tier.system else []) + [
            {"role": "user", "content": req["message"]}
        ]
        t0 = time.perf_counter()
        try:
            r = await self._client(tier).chat.completions.create(
                model=tier.model, messages=messages, max_tokens=tier.max_tokens, temperature=0.0
            )
            return {
                "request_id": req.get("id"), "status": "success", "complexity": req["complexity"],
                "agent_used": tier_name, "response": r.choices[0].message.content or "",
                "completion_tokens": r.usage.completion_tokens if r.usage else 0,
                "processing_time": time.perf_counter() - t0,
            }
        except Exception as exc:  # one failed request must not sink the batch (the guide's behaviour)
            return {
                "request_id": req.get("id"), "status": "error", "complexity": req["complexity"],
                "agent_used": tier_name, "error": f"{type(exc).__name__}: {exc}",
                "completion_tokens": 0, "processing_time": time.perf_counter() - t0,
            }

    async def process_batch_requests(self, requests: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        planned = self.plan(requests)
        self._clients = {}  # clients belong to one event loop: a fresh set per batch
        try:
            return list(await asyncio.gather(*(self._one(req, tier) for req, tier in planned)))
        finally:
            for client in self._clients.values():
                await client.close()
            self._clients = {}

    def process_batch(self, requests: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Synchronous wrapper (works inside Jupyter's running event loop too)."""
        return run_sync(self.process_batch_requests(requests))


def run_sync(coro: Any) -> Any:
    """Run a coroutine to completion from sync code, even when an event loop is already running (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
