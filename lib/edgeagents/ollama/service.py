"""The guide's Ollama patterns, made real: a multi-model manager, a production service with metrics,
a monitoring service with the guide's alert thresholds (a preset over :mod:`edgeagents.monitoring`), and model
recommendations from this machine's hardware.

Everything here talks to a real server through :class:`~edgeagents.runtimes.ollama.manager.OllamaManager`;
nothing is simulated. Timings are Ollama's own (``eval_count`` / ``eval_duration``) plus wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psutil

from edgeagents.errors import EdgeAgentsError, InvalidRequestError
from edgeagents.events import RequestEvent, next_request_id
from edgeagents.monitoring.alerts import OLLAMA_GUIDE, Alert, Thresholds, check, require_thresholds
from edgeagents.monitoring.collector import Collector, Stats, percentile
from edgeagents.monitoring.report import performance_report
from edgeagents.runtimes.ollama.manager import OllamaManager, OllamaReply

# ----------------------------------------------------------------------------- multi-model manager
# The guide's keyword rules, in order: the first category whose keyword appears in the task wins.
TASK_KEYWORDS: dict[str, tuple[str, ...]] = {
    "lightweight": ("simple", "route", "classify", "label", "yes/no"),
    "coding": ("code", "programming", "debug", "function"),
    "capable": ("complex", "analysis", "research", "plan"),
}
DEFAULT_CATEGORY = "balanced"


def classify_task(task: str) -> str:
    """The guide's task classifier: keyword rules, else ``balanced``."""
    if not isinstance(task, str) or not task.strip():
        raise InvalidRequestError("The task description is empty.", hint="Describe the task in a few words.")
    low = task.lower()
    for category, words in TASK_KEYWORDS.items():
        if any(w in low for w in words):
            return category
    return DEFAULT_CATEGORY


class MultiModelManager:
    """Pick a model per task category. Categories without a model of their own fall back to ``balanced``.

    >>> mm = MultiModelManager(manager, {"lightweight": "edgeagents-short", "balanced": "edgeagents-course"})
    >>> mm.model_for_task("simple routing")      # ('lightweight', 'edgeagents-short')
    """

    def __init__(self, manager: OllamaManager, models: dict[str, str]) -> None:
        if DEFAULT_CATEGORY not in models:
            raise InvalidRequestError(f"models must name a {DEFAULT_CATEGORY!r} model (the fallback).")
        self.manager = manager
        self.models = dict(models)
        self.usage: dict[str, int] = {c: 0 for c in self.models}

    def missing(self) -> list[str]:
        """Models of this plan that the server does not have (no pull: create them, or pull them online)."""
        have = {m["name"] for m in self.manager.list_models()}
        return [m for m in self.models.values() if m not in have and f"{m}:latest" not in have]

    def model_for_task(self, task: str) -> tuple[str, str]:
        category = classify_task(task)
        if category not in self.models:
            category = DEFAULT_CATEGORY
        return category, self.models[category]

    def run(self, task: str, messages: Sequence[dict[str, Any]], **options: Any) -> tuple[str, OllamaReply]:
        category, model = self.model_for_task(task)
        self.usage[category] = self.usage.get(category, 0) + 1
        return category, self.manager.chat(model, messages, **options)


# ----------------------------------------------------------------------------- production service
@dataclass
class RequestRecord:
    when: float
    agent_type: str
    model: str
    status: str  # "success" or "error"
    latency_ms: float
    completion_tokens: int = 0
    tokens_per_second: float = 0.0
    error: str = ""


class ProductionService:
    """The guide's production service: agent types mapped to models, every request measured and logged.

    Errors never escape :meth:`process_request`: it returns ``status="error"`` with the typed
    error's message and hint, and the metrics count it.
    """

    def __init__(self, manager: OllamaManager, agents: dict[str, str], *, num_predict: int = 16,
                 system_prompts: dict[str, str] | None = None) -> None:
        self.manager = manager
        self.agents = dict(agents)
        self.num_predict = num_predict
        self.system_prompts = system_prompts or {}
        self.log: list[RequestRecord] = []

    def process_request(self, request: str, agent_type: str, **options: Any) -> dict[str, Any]:
        start = time.perf_counter()
        model = self.agents.get(agent_type, "")
        try:
            if agent_type not in self.agents:
                raise InvalidRequestError(f"No agent of type {agent_type!r}; have {sorted(self.agents)}.")
            messages = [{"role": "user", "content": request}]
            if agent_type in self.system_prompts:
                messages.insert(0, {"role": "system", "content": self.system_prompts[agent_type]})
            options.setdefault("num_predict", self.num_predict)
            reply = self.manager.chat(model, messages, **options)
        except EdgeAgentsError as exc:
            ms = (time.perf_counter() - start) * 1000
            self.log.append(RequestRecord(time.time(), agent_type, model, "error", ms, error=exc.message))
            return {"status": "error", "error": exc.message, "hint": exc.hint, "latency_ms": round(ms, 1),
                    "agent_type": agent_type}
        ms = (time.perf_counter() - start) * 1000
        self.log.append(RequestRecord(time.time(), agent_type, model, "success", ms, reply.completion_tokens,
                                      reply.tokens_per_second))
        return {"status": "success", "response": reply.text, "latency_ms": round(ms, 1), "agent_type": agent_type,
                "model": model, "tokens_per_second": round(reply.tokens_per_second, 2)}

    def metrics(self) -> dict[str, Any]:
        ok = [r for r in self.log if r.status == "success"]
        lat = sorted(r.latency_ms for r in ok)
        return {
            "requests": len(self.log),
            "errors": len(self.log) - len(ok),
            "error_rate_percent": round(100 * (len(self.log) - len(ok)) / len(self.log), 1) if self.log else 0.0,
            "p50_latency_ms": round(percentile(lat, 50), 1) if lat else 0.0,
            "max_latency_ms": round(lat[-1], 1) if lat else 0.0,
            "mean_decode_tok_s": round(sum(r.tokens_per_second for r in ok) / len(ok), 2) if ok else 0.0,
            "usage": {a: sum(1 for r in self.log if r.agent_type == a) for a in self.agents},
        }

    def health_status(self) -> dict[str, Any]:
        h = self.manager.health()
        models = [m["name"] for m in self.manager.list_models()] if h.ok else []
        return {"service_status": "healthy" if h.ok else "unhealthy", "detail": h.detail, "available_models": models,
                "agents": self.agents, "metrics": self.metrics()}


# ----------------------------------------------------------------------------- monitoring
RUNTIME = "ollama"  # the probes' runtime name in the collector, as OllamaRuntime reports itself
PROBE_WINDOW = 20  # probes per model that the latency and error-rate rules look at


@dataclass
class MonitoringService:
    """The guide's monitoring service, as a preset over :mod:`edgeagents.monitoring`.

    Its thresholds are a :class:`~edgeagents.monitoring.alerts.Thresholds`, by default the guide's
    (:data:`~edgeagents.monitoring.alerts.OLLAMA_GUIDE`: 2 s, 5 % errors, 85 % memory); its alerts are
    :func:`~edgeagents.monitoring.alerts.check`'s; every probe feeds :attr:`collector` (per model, the last
    ``PROBE_WINDOW`` probes), and :meth:`summary` is the monitoring package's performance report.

    Each :meth:`collect` runs one health check and sends one real probe request (small ``num_predict``), and
    returns the guide's sample: response time, Ollama's decode speed, whether it failed, the machine's memory use.
    """

    manager: OllamaManager
    probe_model: str
    thresholds: Thresholds = OLLAMA_GUIDE
    probe_prompt: str = "Hello"
    num_predict: int = 4
    history: list[dict[str, Any]] = field(default_factory=list)
    memory_percent: Callable[[], float] = field(default=lambda: psutil.virtual_memory().percent)
    collector: Collector = field(default_factory=lambda: Collector(window_s=3_600, max_window=PROBE_WINDOW))

    def __post_init__(self) -> None:
        require_thresholds(self.thresholds, "OLLAMA_GUIDE.with_(memory_percent=80.0)")

    def collect(self, *, model: str | None = None) -> dict[str, Any]:
        model = model or self.probe_model
        health = self.manager.health()
        sample: dict[str, Any] = {"timestamp": time.time(), "service_status": "healthy" if health.ok else "down",
                                  "model": model, "memory_usage_percent": self.memory_percent()}
        start = time.perf_counter()
        reply, error = None, None
        try:
            reply = self.manager.generate(model, self.probe_prompt, num_predict=self.num_predict)
        except EdgeAgentsError as exc:
            error = exc
        seconds = time.perf_counter() - start
        sample.update(ok=error is None, response_time_ms=seconds * 1000)
        if reply is not None:
            sample.update(tokens_per_second=reply.tokens_per_second, completion_tokens=reply.completion_tokens)
        else:
            sample["error"] = error.message
        tokens = reply.completion_tokens if reply is not None else 0
        self.collector.observe(RequestEvent(
            next_request_id(), "end", RUNTIME, model, "text_completion", duration_s=seconds,
            # Ollama measures its decode (eval_duration): the rest of the wall time came before the first token
            ttft_s=max(0.0, seconds - reply.eval_s) if reply is not None and tokens else None,
            prompt_tokens=reply.prompt_tokens if reply is not None else 0, completion_tokens=tokens,
            error_type=type(error).__name__ if error is not None else None))
        self.history.append(sample)
        self.history = self.history[-100:]
        return sample

    def stats(self, model: str | None = None) -> Stats:
        """The collector's figures for ``model`` (default: the probe model) over its last probes."""
        return self.collector.stats_of(RUNTIME, model or self.probe_model)

    def check_alerts(self, sample: dict[str, Any] | None = None) -> list[Alert]:
        """The alerts for ``sample`` (default: the latest): its health check and memory reading, with the latency
        and error-rate figures of its model's recent probes."""
        sample = sample or (self.history[-1] if self.history else None)
        if sample is None:
            return []
        return check(self.stats(sample["model"]), self.thresholds, healthy=sample["service_status"] == "healthy",
                     memory_percent=sample["memory_usage_percent"])

    def summary(self) -> Any:
        """The performance report (a DataFrame, one row per probed model): availability from the health checks,
        success rate, mean / p95 / max latency in seconds, requests per second, tokens per second."""
        checks = [s["service_status"] == "healthy" for s in self.history]
        return performance_report(self.collector.stats(runtime=RUNTIME), health={RUNTIME: checks})


# ----------------------------------------------------------------------------- hardware recommendations
# The guide's tiers (its model names, pulled from the Ollama registry when online), with the RAM
# each tier needs (the guide's own figures) and the course model, which fits everywhere.
HARDWARE_TIERS: tuple[dict[str, Any], ...] = (
    {"tier": "high_resource", "min_ram_gb": 12.0, "min_cores": 8, "max_concurrent": 3, "memory_usage": "6-12GB",
     "models": ["llama3.1:8b-instruct-q4_K_M", "codellama:7b-code-q4_K_M"]},
    {"tier": "medium_resource", "min_ram_gb": 4.0, "min_cores": 4, "max_concurrent": 2, "memory_usage": "2-4GB",
     "models": ["phi3.5:3.8b-mini-instruct-q4_K_M", "llama3.2:3b-instruct-q4_K_M"]},
    {"tier": "low_resource", "min_ram_gb": 0.0, "min_cores": 1, "max_concurrent": 1, "memory_usage": "< 1GB",
     "models": ["qwen2.5:0.5b-instruct-q4_K_M"]},
)


def recommend_for_hardware(machine: dict[str, Any]) -> dict[str, Any]:
    """Pick the guide's tier from measured hardware (``doctor.diagnose().machine``-style readings).

    Uses available RAM (not total: other programs hold the rest) and physical cores; says why.
    """
    ram = float(machine.get("ram available (GB)") or 0.0)
    cores = int(machine.get("cpu cores (physical)") or machine.get("cpu cores (logical)") or 1)
    gpu = str(machine.get("gpu") or "none found")
    has_gpu = not gpu.startswith("none")
    for tier in HARDWARE_TIERS:
        if ram >= tier["min_ram_gb"] and cores >= tier["min_cores"]:
            break
    reason = f"{ram:.1f} GB RAM available, {cores} physical core(s)" + (f", GPU: {gpu}" if has_gpu else ", no GPU")
    # a GPU lets Ollama offload layers: one tier up, if there is the RAM to hold the model's copy
    if has_gpu and tier["tier"] != "high_resource" and ram >= 8.0:
        tier = HARDWARE_TIERS[HARDWARE_TIERS.index(tier) - 1]
    return {**tier, "reason": reason, "course_model": "edgeagents-course (268 M parameters, ~1.1 GB loaded as F16)"}


# ----------------------------------------------------------------------------- side by side
def compare_runtimes(runtimes: dict[str, Any], prompts: Sequence[str], *, max_tokens: int = 8) -> list[dict[str, Any]]:
    """Run the same prompts, greedy, on each runtime (anything with ``complete``); one row per pair.

    Timings are wall clock from the caller's side for every runtime alike (TTFT, decode tok/s).
    """
    rows = []
    for prompt in prompts:
        for name, rt in runtimes.items():
            r = rt.complete(prompt, max_tokens=max_tokens, temperature=0.0)
            rows.append({"runtime": name, "prompt": prompt[:40], "text": r.text.strip()[:60],
                         "ttft_s": round(r.timings.ttft_s, 3), "decode_tok_s": round(r.timings.decode_tps, 2),
                         "total_s": round(r.timings.total_s, 3), "tokens": r.usage.completion_tokens})
    return rows
