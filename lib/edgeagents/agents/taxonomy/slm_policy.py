"""A small language model as an agent's policy: pick the next action from a fixed set.

A base SLM does not follow instructions, but it can still *choose*. Two ways, both constrained
so the answer is always a legal action:

- :class:`ScoredPolicy`: ask the runtime for the log-probability of each action written after
  the prompt (``runtime.score(prompt, [" heat", " cool", " off"])``) and take the likeliest.
  One prompt evaluation plus a few tokens per option: fast, and it exposes the model's
  confidence in every option.
- :class:`GrammarPolicy`: let the model *generate*, but only through a grammar whose sentences
  are exactly the actions (``grammar='root ::= " heat" | " cool" | " off"'``).

Both wrap a prompt function (observation -> text), so the same glue drives any environment.
:func:`evaluate_policy` scores a policy against an expert on a fixed set of states.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from edgeagents.errors import BackendError, InvalidRequestError, ToolCallError


class Scorer(Protocol):
    """Anything with ``score(prompt, continuations) -> [log-prob]`` (every course runtime has it)."""

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]: ...


class Completer(Protocol):
    """Anything with ``complete(prompt, **options)`` returning an object with ``.text``."""

    def complete(self, prompt: str, **options: Any) -> Any: ...


def check_actions(actions: Sequence[str]) -> tuple[str, ...]:
    """A policy's action set: a non-empty sequence of distinct, non-blank strings."""
    if isinstance(actions, str) or not isinstance(actions, Sequence) or len(actions) == 0:
        raise InvalidRequestError(
            "The action set must be a non-empty list of strings.", hint='For example ["heat", "cool", "off"].'
        )
    out = []
    for a in actions:
        if not isinstance(a, str) or not a.strip():
            raise InvalidRequestError(f"Every action must be a non-blank string; got {a!r}.")
        out.append(a.strip())
    if len(set(out)) != len(out):
        dupes = sorted(a for a, n in Counter(out).items() if n > 1)
        raise InvalidRequestError(f"The action set repeats {dupes}.", hint="List each action once.")
    return tuple(out)


@dataclass(frozen=True)
class Decision:
    """One choice: the action, each option's log-probability and renormalised probability, and the time taken."""

    action: str
    logprobs: dict[str, float]
    probabilities: dict[str, float]
    seconds: float

    @property
    def confidence(self) -> float:
        return self.probabilities.get(self.action, 0.0)


def _softmax(logprobs: dict[str, float]) -> dict[str, float]:
    top = max(logprobs.values())
    weights = {a: math.exp(v - top) for a, v in logprobs.items()}
    total = sum(weights.values())
    return {a: w / total for a, w in weights.items()}


class ScoredPolicy:
    """Choose the action whose text the model finds likeliest after ``prompt(observation)``.

    Args:
        scorer: a runtime (or anything with ``score``).
        actions: the legal actions, e.g. ``["heat", "cool", "off"]``.
        prompt: observation -> prompt text. The prompt should end right where an action word goes.
        lead: text put before each action when scoring (a space, because words follow a space).
        baseline_prompt: a prompt with a content-free observation (e.g. ``"N/A"``). When given, its
            option scores (the model's *prior* for each action) are subtracted from every decision's
            scores: "contextual calibration". Small models often favour one option whatever the input;
            this removes that bias. Scored once, then cached.
    """

    def __init__(
        self,
        scorer: Scorer,
        actions: Sequence[str],
        prompt: Callable[[Any], str],
        *,
        lead: str = " ",
        baseline_prompt: str | None = None,
    ) -> None:
        if not hasattr(scorer, "score"):
            raise InvalidRequestError(
                f"{type(scorer).__name__} cannot score options.",
                hint="Pass a runtime, e.g. edgeagents.open_runtime(); it has score(prompt, options).",
            )
        self.scorer = scorer
        self.actions = check_actions(actions)
        self.prompt = prompt
        self.lead = lead
        self.baseline_prompt = baseline_prompt
        self._prior: list[float] | None = None

    def _score(self, text: str) -> list[float]:
        raw = list(self.scorer.score(text, [self.lead + a for a in self.actions]))
        if len(raw) != len(self.actions) or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in raw):
            raise BackendError(f"The scorer returned {raw!r} for {len(self.actions)} actions.")
        return [float(v) for v in raw]

    @property
    def prior(self) -> dict[str, float] | None:
        """The log-probabilities of each action after the baseline prompt (None without calibration)."""
        if self.baseline_prompt is None:
            return None
        if self._prior is None:
            self._prior = self._score(self.baseline_prompt)
        return dict(zip(self.actions, self._prior))

    def decide(self, observation: Any) -> Decision:
        text = self.prompt(observation)
        start = time.perf_counter()
        prior = self.prior
        raw = self._score(text)
        seconds = time.perf_counter() - start
        if prior is not None:
            raw = [v - prior[a] for v, a in zip(raw, self.actions)]
        logprobs = dict(zip(self.actions, raw))
        best = max(self.actions, key=lambda a: logprobs[a])  # first wins a tie: deterministic
        return Decision(best, logprobs, _softmax(logprobs), seconds)

    def __call__(self, observation: Any) -> str:
        return self.decide(observation).action


def action_grammar(actions: Sequence[str], lead: str = " ") -> str:
    """A GBNF grammar whose only sentences are the actions, e.g. ``root ::= " heat" | " cool"``."""
    actions = check_actions(actions)

    def quote(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "root ::= " + " | ".join(quote(lead + a) for a in actions)


class GrammarPolicy:
    """Let the model generate the action, constrained by :func:`action_grammar` (greedy decoding)."""

    def __init__(self, runtime: Completer, actions: Sequence[str], prompt: Callable[[Any], str], *, lead: str = " ") -> None:
        if not hasattr(runtime, "complete"):
            raise InvalidRequestError(f"{type(runtime).__name__} cannot generate text.", hint="Pass a runtime.")
        self.runtime = runtime
        self.actions = check_actions(actions)
        self.prompt = prompt
        self.grammar = action_grammar(self.actions, lead)
        self.max_tokens = 8

    def decide(self, observation: Any) -> Decision:
        text = self.prompt(observation)
        start = time.perf_counter()
        result = self.runtime.complete(text, grammar=self.grammar, max_tokens=self.max_tokens, temperature=0.0)
        seconds = time.perf_counter() - start
        action = str(getattr(result, "text", "")).strip()
        if action not in self.actions:
            raise ToolCallError(
                f"The model answered {action!r}, which is not one of {list(self.actions)}.",
                raw=str(getattr(result, "text", "")),
                hint="This runtime may ignore grammars; use ScoredPolicy, or a runtime with the 'grammar' capability.",
            )
        return Decision(action, {}, {action: 1.0}, seconds)

    def __call__(self, observation: Any) -> str:
        return self.decide(observation).action


@dataclass(frozen=True)
class PolicyEvaluation:
    """How often a policy agrees with the expert on a fixed set of states."""

    name: str
    records: list[dict[str, Any]] = field(repr=False)

    @property
    def accuracy(self) -> float:
        return sum(r["correct"] for r in self.records) / len(self.records)

    def confusion(self) -> dict[tuple[str, str], int]:
        """Counts of (expert action, chosen action)."""
        return dict(Counter((r["expert"], r["chosen"]) for r in self.records))

    def accuracy_by_expert_action(self) -> dict[str, float]:
        groups: dict[str, list[bool]] = {}
        for r in self.records:
            groups.setdefault(r["expert"], []).append(r["correct"])
        return {a: sum(v) / len(v) for a, v in groups.items()}


def evaluate_policy(
    policy: Callable[[Any], str],
    states: Sequence[Any],
    expert: Callable[[Any], str],
    *,
    name: str = "policy",
    progress: bool = False,
) -> PolicyEvaluation:
    """Run ``policy`` and ``expert`` on every state; record both actions and whether they agree."""
    if len(states) == 0:
        raise InvalidRequestError("There are no states to evaluate on.", hint="Pass a non-empty list of states.")
    iterator: Any = states
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(states, desc=name, leave=False)
    records = []
    for state in iterator:
        want, got = expert(state), policy(state)
        records.append({"state": state, "expert": want, "chosen": got, "correct": want == got})
    return PolicyEvaluation(name, records)


# --------------------------------------------------------------------------- the thermostat as text

THERMOSTAT_EXAMPLES: tuple[tuple[float, str], ...] = (
    (17.5, "heat"),
    (23.4, "cool"),
    (21.0, "off"),
    (25.8, "cool"),
    (19.2, "heat"),
    (20.6, "off"),
    (16.1, "heat"),
    (22.9, "cool"),
    (21.7, "off"),
)
"""Worked examples for the few-shot prompt (consistent with a 20-22 °C band)."""


def thermostat_prompt(
    temperature: float | str,
    *,
    examples: Sequence[tuple[float, str]] = THERMOSTAT_EXAMPLES,
    header: str = "",
) -> str:
    """A log-style few-shot prompt that ends where the next action goes::

        17.5 C: heat
        23.4 C: cool
        ...
        18.4 C:

    ``temperature`` may be a string (``"N/A"`` makes the content-free baseline prompt).
    ``examples=()`` with a ``header`` describing the rule makes it zero-shot.
    """
    reading = f"{temperature:.1f}" if isinstance(temperature, (int, float)) else str(temperature)
    lines = [header] if header else []
    lines += [f"{t:.1f} C: {a}" for t, a in examples]
    lines.append(f"{reading} C:")
    return "\n".join(lines)


ZERO_SHOT_HEADER = "Thermostat rule: heat below 20 C, cool above 22 C, otherwise off."


def band_expert(temperature: float, low: float = 20.0, high: float = 22.0) -> str:
    """The expert the SLM is graded against: heat below the band, cool above it, off inside."""
    if temperature < low:
        return "heat"
    if temperature > high:
        return "cool"
    return "off"
