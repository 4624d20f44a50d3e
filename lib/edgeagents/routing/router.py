"""The hybrid router: classify, decide, serve locally or escalate, and account for every request.

    request -> check_request -> classifier.p_llm -> policy.decide -> local SLM ──(low confidence)──┐
                                                                 └─> large model (if configured) <─┘

Escalation goes to any OpenAI-compatible endpoint (``OPENAI_BASE_URL``, key from the
environment). With none configured, a request that needs the large model comes back with
``needs_larger_model=True`` and no answer: the router never lets the small model pretend.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from edgeagents.errors import EdgeAgentsError
from edgeagents.routing.classifiers import ComplexityClassifier, check_request
from edgeagents.routing.costs import CloudPrice, LocalAssumptions, local_cost_per_1k
from edgeagents.routing.policy import Conditions, SwitchingPolicy

LOCAL_PROMPT = "Request: {text}\nResponse:"


def remote_from_env(model: str | None = None, timeout: float = 60.0) -> Any | None:
    """An :class:`OpenAICompatRuntime` for ``$OPENAI_BASE_URL`` (model ``$OPENAI_MODEL``), or ``None`` if unset."""
    if not os.environ.get("OPENAI_BASE_URL"):
        return None
    from edgeagents.runtimes import OpenAICompatRuntime

    return OpenAICompatRuntime(model=model, timeout=timeout, name="escalation LLM")


@dataclass
class RoutedReply:
    """What the router did with one request, and what it cost."""

    request: str
    target: str  # where the policy sent it first: "local" or "llm"
    reason: str
    p_llm: float
    served_by: str | None  # "local", "llm", or None when nobody could answer
    text: str = ""
    escalated: bool = False
    needs_larger_model: bool = False
    routing_s: float = 0.0
    local_s: float = 0.0
    llm_s: float = 0.0
    local_usd: float = 0.0
    llm_usd: float = 0.0
    local_confidence: float | None = None
    note: str = ""

    @property
    def total_s(self) -> float:
        return self.routing_s + self.local_s + self.llm_s

    @property
    def cost_usd(self) -> float:
        return self.local_usd + self.llm_usd

    def row(self) -> dict[str, Any]:
        return {
            "request": self.request[:60], "target": self.target, "served_by": self.served_by or "— needs a larger model",
            "escalated": self.escalated, "p_llm": round(self.p_llm, 3), "routing_ms": round(1000 * self.routing_s, 2),
            "local_s": round(self.local_s, 3), "llm_s": round(self.llm_s, 3), "cost_usd": self.cost_usd, "reason": self.reason,
        }


@dataclass
class HybridRouter:
    """Route requests between a local SLM and an optional large model.

    Args:
        classifier: any complexity classifier (rules, embeddings, SLM-scored).
        local: the local runtime (``edgeagents.open_runtime()``).
        remote: an OpenAI-compatible runtime, or ``None`` (escalations are then marked, not answered).
        policy: the :class:`SwitchingPolicy` (change its fields to switch models differently).
        escalate_below: mean log-probability per generated token under which a local answer is
            judged unsure and escalated.
        local_price: assumptions for the local cost; ``remote_price`` the large model's list price.
    """

    classifier: ComplexityClassifier
    local: Any
    remote: Any = None
    policy: SwitchingPolicy = field(default_factory=SwitchingPolicy)
    escalate_below: float = -2.5
    local_prompt: str = LOCAL_PROMPT
    local_price: LocalAssumptions = field(default_factory=LocalAssumptions)
    remote_price: CloudPrice | None = None
    max_tokens: int = 48
    log: list[RoutedReply] = field(default_factory=list)

    def route(self, text: str, when: Conditions | None = None) -> RoutedReply:
        """Decide only (no generation): where would this request go?"""
        check_request(text)
        when = when or Conditions(llm_available=self.remote is not None)
        start = time.perf_counter()
        p = self.classifier.p_llm([text])[0]
        target, reason = self.policy.decide(p, when)
        return RoutedReply(text, target, reason, p, None, routing_s=time.perf_counter() - start)

    def handle(self, text: str, when: Conditions | None = None) -> RoutedReply:
        """Route, serve, escalate if needed, and log the request with its cost and latency."""
        reply = self.route(text, when)
        if reply.target == "local":
            self._serve_local(reply)
            if reply.local_confidence is not None and reply.local_confidence < self.escalate_below and not (when and when.private):
                reply.escalated = True
                reply.note = f"local answer unsure (mean log-prob {reply.local_confidence:.2f} < {self.escalate_below})"
                self._serve_llm(reply)
        else:
            self._serve_llm(reply)
        self.log.append(reply)
        return reply

    def _serve_local(self, reply: RoutedReply) -> None:
        result = self.local.complete(
            self.local_prompt.format(text=reply.request), max_tokens=self.max_tokens, stop=["\nRequest:", "\n\n"], logprobs=1
        )
        reply.local_s = result.timings.total_s
        reply.local_usd = local_cost_per_1k(reply.local_s, self.local_price).total_usd / 1000
        reply.text, reply.served_by = result.text.strip(), "local"
        lps = [t.logprob for t in result.logprobs]
        reply.local_confidence = sum(lps) / len(lps) if lps else float("-inf")

    def _serve_llm(self, reply: RoutedReply) -> None:
        if self.remote is None:
            reply.needs_larger_model, reply.served_by, reply.text = True, None, ""
            reply.note = (reply.note + "; " if reply.note else "") + "needs a larger model: none configured (set OPENAI_BASE_URL)"
            return
        try:
            result = self.remote.chat([{"role": "user", "content": reply.request}], max_tokens=256)
        except EdgeAgentsError as exc:
            reply.needs_larger_model, reply.served_by, reply.text = True, None, ""
            reply.note = (reply.note + "; " if reply.note else "") + f"the large model failed: {exc.message}"
            return
        reply.llm_s = result.timings.total_s
        if self.remote_price is not None:
            reply.llm_usd = self.remote_price.cost_usd(result.usage.prompt_tokens, result.usage.completion_tokens)
        reply.text, reply.served_by = result.text.strip(), "llm"

    def summary(self) -> dict[str, Any]:
        """Totals over every request handled so far."""
        n = len(self.log) or 1
        return {
            "requests": len(self.log),
            "served_locally": sum(r.served_by == "local" for r in self.log) / n,
            "escalated": sum(r.escalated for r in self.log) / n,
            "needs_larger_model": sum(r.needs_larger_model for r in self.log) / n,
            "mean_routing_ms": 1000 * sum(r.routing_s for r in self.log) / n,
            "total_usd": sum(r.cost_usd for r in self.log),
        }
