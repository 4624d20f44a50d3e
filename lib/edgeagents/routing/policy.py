"""Dynamic model switching: the rule that turns a complexity score and the machine's state into a target.

The classifier says how hard a request looks; the policy decides where it goes *now*,
given load, priority, resources and whether a large model is reachable. It is a plain
dataclass: change a field, or subclass and override :meth:`SwitchingPolicy.decide`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Target = Literal["local", "llm"]


@dataclass(frozen=True)
class Conditions:
    """What the router knows about the moment a request arrives."""

    queue_depth: int = 0  # requests waiting for the local model
    free_memory_mb: float = 4096.0
    priority: Literal["low", "normal", "high"] = "normal"
    llm_available: bool = True
    private: bool = False  # the request carries data that must stay on the device


@dataclass
class SwitchingPolicy:
    """Where a request goes, and why.

    Attributes:
        threshold: send to the LLM when ``p_llm`` is at least this (lower = more escalation).
        high_priority_threshold: the threshold for ``priority="high"`` requests (quality first).
        low_priority_threshold: the threshold for ``priority="low"`` requests (cost first).
        max_local_queue: above this many waiting requests, easy-but-not-trivial ones spill to the LLM.
        spill_below: only requests with ``p_llm`` under this stay local when the queue is full.
        min_free_memory_mb: below this, the local model is not used (it might not even load).
        private_stays_local: private requests never leave the device, whatever their score.
    """

    threshold: float = 0.5
    high_priority_threshold: float = 0.3
    low_priority_threshold: float = 0.8
    max_local_queue: int = 8
    spill_below: float = 0.2
    min_free_memory_mb: float = 600.0
    private_stays_local: bool = True

    def decide(self, p_llm: float, when: Conditions = Conditions()) -> tuple[Target, str]:
        if when.private and self.private_stays_local:
            return "local", "private data stays on the device"
        if when.free_memory_mb < self.min_free_memory_mb:
            return ("llm", "too little memory for the local model") if when.llm_available else (
                "local", "low memory, but no LLM configured: trying locally")
        threshold = {"high": self.high_priority_threshold, "low": self.low_priority_threshold}.get(when.priority, self.threshold)
        if p_llm >= threshold:
            return "llm", f"complexity {p_llm:.2f} >= {threshold:.2f} ({when.priority} priority)"
        if when.queue_depth > self.max_local_queue and p_llm >= self.spill_below and when.llm_available:
            return "llm", f"local queue {when.queue_depth} > {self.max_local_queue}: spilling over"
        return "local", f"complexity {p_llm:.2f} < {threshold:.2f} ({when.priority} priority)"
