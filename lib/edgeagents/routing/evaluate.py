"""Evaluate complexity classifiers on the labelled request set.

Per classifier: the share of requests kept local, the misroute rate each way, the cost saved
against sending everything to the large model, and the routing latency added per request.

Cost model (stated, adjustable): a request's prompt is its word count x 1.3 tokens plus
``overhead_tokens`` (system prompt, tool specs); its answer is ``answer_tokens`` long. A
request kept local costs :func:`~edgeagents.routing.costs.local_cost_per_1k` for
``local_seconds``; one sent to the LLM costs the list price. ``local_seconds`` defaults to 1.5 s, an
*assumption* kept for callers that measure nothing: :func:`time_local_request` times the local model on this
machine, and Lab 06 passes that measurement (``CostModel(price, local_seconds=...)``). A large-model request kept
local by mistake is counted at local cost *and* as a misroute: the saving it shows is
only real if something (escalation, a human) catches the bad answer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from edgeagents.errors import InvalidRequestError
from edgeagents.routing.classifiers import ComplexityClassifier
from edgeagents.routing.costs import CloudPrice, LocalAssumptions, local_cost_per_1k, seconds_for_request
from edgeagents.routing.requestset import LabelledRequest


@dataclass(frozen=True)
class CostModel:
    """What a request costs on each side. ``local_seconds``: time for one request on the local model — the
    default (1.5 s) is an assumption; pass a timing measured here (:func:`time_local_request`)."""

    price: CloudPrice
    local: LocalAssumptions = LocalAssumptions()
    local_seconds: float = 1.5
    overhead_tokens: int = 150
    answer_tokens: int = 200

    def llm_usd(self, text: str) -> float:
        return self.price.cost_usd(self.prompt_tokens(text), self.answer_tokens)

    def local_usd(self) -> float:
        return local_cost_per_1k(self.local_seconds, self.local).total_usd / 1000

    def prompt_tokens(self, text: str) -> float:
        """The prompt size the cost model assumes for ``text``: 1.3 tokens per word plus the overhead."""
        return len(text.split()) * 1.3 + self.overhead_tokens


def time_local_request(runtime: Any, requests: Sequence[LabelledRequest], costs: CostModel,
                       probe_tokens: int = 16) -> float:
    """Seconds the local model takes for a request of ``costs``' mean size, from one timed run on this machine.

    One greedy completion of ``probe_tokens`` tokens, on a prompt made of up to 12 of the requests, gives the
    prompt and decode speeds (the runtime's own timings); :func:`~edgeagents.routing.costs.seconds_for_request`
    turns them into the time for the mean prompt of ``requests`` (:meth:`CostModel.prompt_tokens`) in and
    ``costs.answer_tokens`` out. Pass the result as ``CostModel(price, local_seconds=...)``.
    """
    if not requests:
        raise InvalidRequestError("time_local_request() needs at least one request.",
                                  hint="Pass the requests the cost model will price, e.g. the test split.")
    probe = "Requests:\n" + "\n".join(r.text for r in requests[:12]) + "\nResponse:"
    timed = runtime.complete(probe, max_tokens=probe_tokens, temperature=0.0).summary()
    mean_prompt = sum(costs.prompt_tokens(r.text) for r in requests) / len(requests)
    return seconds_for_request(mean_prompt, costs.answer_tokens, timed["prompt_tps"], timed["decode_tps"])


def routing_metrics(labels: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Share kept local and misroute rates from true and predicted labels ("local"/"llm")."""
    n = len(labels)
    llm = [p for t, p in zip(labels, predicted) if t == "llm"]
    local = [p for t, p in zip(labels, predicted) if t == "local"]
    return {
        "n": n,
        "kept_local": sum(p == "local" for p in predicted) / n if n else 0.0,
        "llm_kept_local": sum(p == "local" for p in llm) / len(llm) if llm else 0.0,
        "local_sent_to_llm": sum(p == "llm" for p in local) / len(local) if local else 0.0,
        "accuracy": sum(t == p for t, p in zip(labels, predicted)) / n if n else 0.0,
    }


def evaluate(
    classifier: ComplexityClassifier,
    requests: Sequence[LabelledRequest],
    costs: CostModel,
    threshold: float | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run ``classifier`` on every request (one at a time, timed) and return one table row."""
    cut = classifier.threshold if threshold is None else threshold
    iterator: Any = requests
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(requests, desc=classifier.name, leave=False)
    predicted, seconds, cpu, scores = [], [], [], []
    for r in iterator:
        start, cpu_start = time.perf_counter(), time.process_time()
        p = classifier.p_llm([r.text])[0]
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
        scores.append(p)
        predicted.append("llm" if p >= cut else "local")
    labels = [r.label for r in requests]
    all_llm = sum(costs.llm_usd(r.text) for r in requests)
    routed = sum(costs.local_usd() if p == "local" else costs.llm_usd(r.text) for r, p in zip(requests, predicted))
    row = {"classifier": classifier.name, **routing_metrics(labels, predicted)}
    row["cost_saved"] = 1 - routed / all_llm if all_llm else 0.0
    row["routing_ms"] = 1000 * sum(seconds) / len(seconds) if seconds else 0.0
    # CPU time is what the request costs on an idle machine; wall time also counts waiting for a busy CPU
    row["routing_cpu_ms"] = 1000 * sum(cpu) / len(cpu) if cpu else 0.0
    row["p_llm"] = scores
    return row
