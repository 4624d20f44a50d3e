"""Complexity classifiers: does this request need a large model?

Three kinds, one interface: ``p_llm(texts) -> list[float]`` (the probability-like score that a
request needs the large model) and ``classify(text) -> Verdict``.

- :class:`RuleClassifier`: keywords and length. Microseconds, transparent, brittle.
- :class:`EmbeddingClassifier`: a sentence embedding (:mod:`edgeagents.routing.embeddings`)
  and a small logistic regression fitted on labelled examples. Milliseconds; generalises to
  new phrasings as far as the embedding does.
- :class:`SLMClassifier`: the local model itself, asked few-shot and *scored*: the
  log-probability of each label after the prompt (``runtime.score``). No training; slowest.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from edgeagents.errors import InvalidRequestError

MAX_REQUEST_CHARS = 20_000


def check_request(text: Any, max_chars: int = MAX_REQUEST_CHARS) -> str:
    """The router's input rule: a non-empty string of at most ``max_chars`` characters."""
    if not isinstance(text, str):
        raise InvalidRequestError(
            f"A request must be text (str), not {type(text).__name__}.",
            hint="Pass the user's message as a string; decode bytes with .decode('utf-8') first.",
        )
    if not text.strip():
        raise InvalidRequestError("The request is empty.", hint="Send the user's message; an empty one cannot be routed.")
    if len(text) > max_chars:
        raise InvalidRequestError(
            f"The request is {len(text):,} characters; the router accepts at most {max_chars:,}.",
            hint="Summarise or split the input first, or raise max_chars if your models can take it.",
        )
    return text


def check_requests(texts: Any) -> list[str]:
    """``p_llm``'s input rule: a list (any iterable) of requests, each passing :func:`check_request`."""
    if isinstance(texts, (str, bytes)):  # iterating it would score one character at a time
        raise InvalidRequestError("p_llm() takes a list of requests, not one string.",
                                  hint="Wrap it in a list: p_llm([text]), or call classify(text).")
    try:
        items = list(texts)
    except TypeError:
        raise InvalidRequestError(f"p_llm() takes a list of requests (str), not {type(texts).__name__}.",
                                  hint="Pass the users' messages as a list of strings, e.g. p_llm(['Hi']).") from None
    return [check_request(t) for t in items]


@dataclass(frozen=True)
class Verdict:
    """A classifier's answer for one request."""

    label: str  # "local" or "llm"
    p_llm: float
    seconds: float
    reason: str = ""


class ComplexityClassifier(Protocol):
    name: str
    threshold: float

    def p_llm(self, texts: Sequence[str]) -> list[float]: ...

    def classify(self, text: str) -> Verdict: ...


class _Base:
    name = "base"
    threshold = 0.5

    def p_llm(self, texts: Sequence[str]) -> list[float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def explain(self, text: str) -> str:
        return ""

    def classify(self, text: str) -> Verdict:
        check_request(text)
        start = time.perf_counter()
        p = self.p_llm([text])[0]
        seconds = time.perf_counter() - start
        return Verdict("llm" if p >= self.threshold else "local", p, seconds, self.explain(text))


# --------------------------------------------------------------------------- rules
PRIVATE = r"\b(my (medical|salary|bank|password|private|journal|income|blood|doctor)|patient|password|iban|account \d|card ending|salary|confidential|hr complaint|diagnos\w*|blood (test|pressure)|mortgage)\b"
HARD = (
    r"\b(prove|proof|step by step|reason(ing)? through|trade-?offs?|optimal|strategy|strategies|essay|story|poem|"
    r"philosophy|brainstorm|invent|design|plan a|replan|history of|influential|consensus|political system|treaties|"
    r"compare (three|the)|expected value|what (should|would)|where do we start|what do we do|how (should|do) we|"
    r"what is our plan|what is going on|keynote|year \d{4}|research problems|caused|exports)\b"
)
EASY = (
    r"\b(classify|tag|label|summari[sz]e in one line|is this|detect|route this|look up|book|set a reminder|check if|"
    r"create a|convert|send|schedule|extract|format|fill|turn this|pull the|rewrite|validate|our return|which warehouse|"
    r"our \w+ policy|eligible|sku|error code|loyalty|which of our|escalation path|status of|weather)\b"
)


@dataclass
class RuleClassifier(_Base):
    """Keyword rules. Privacy keywords force local; 'hard' keywords and long requests push to the LLM.

    Change the regular expressions (``private``, ``hard``, ``easy``) or ``long_words`` and re-evaluate.
    """

    private: str = PRIVATE
    hard: str = HARD
    easy: str = EASY
    long_words: int = 40
    threshold: float = 0.5
    name: str = "rules"

    def __post_init__(self) -> None:
        self._private = re.compile(self.private, re.I)
        self._hard = re.compile(self.hard, re.I)
        self._easy = re.compile(self.easy, re.I)

    def _score(self, text: str) -> tuple[float, str]:
        if self._private.search(text):
            return 0.0, "private data: keep on device"
        hard = len(self._hard.findall(text))
        easy = len(self._easy.findall(text))
        words = len(text.split())
        score = 0.5 + 0.35 * hard - 0.35 * easy + (0.2 if words > self.long_words else 0.0)
        reason = f"{hard} hard / {easy} easy keyword(s), {words} words"
        return min(1.0, max(0.0, score)), reason

    def p_llm(self, texts: Sequence[str]) -> list[float]:
        return [self._score(t)[0] for t in check_requests(texts)]

    def explain(self, text: str) -> str:
        return self._score(text)[1]


# --------------------------------------------------------------------------- embeddings
def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 500, lr: float = 1.0) -> tuple[np.ndarray, float]:
    """Plain gradient-descent logistic regression (weights, bias); tiny data, so no library needed.

    Classes are weighted to count equally, so a set that is mostly "local" does not teach
    the classifier to answer "local" by default.
    """
    w, b = np.zeros(x.shape[1]), 0.0
    pos = max(float(y.mean()), 1e-6)
    weight = np.where(y > 0.5, 0.5 / pos, 0.5 / max(1 - pos, 1e-6))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        g = (p - y) * weight
        w -= lr * (x.T @ g / len(y) + l2 * w)
        b -= lr * float(g.mean())
    return w, b


@dataclass
class EmbeddingClassifier(_Base):
    """Logistic regression on sentence embeddings. Call :meth:`fit` with labelled train requests first."""

    embedder: Any = None
    threshold: float = 0.5
    l2: float = 1e-3
    name: str = "embeddings"
    weights: np.ndarray | None = field(default=None, repr=False)
    bias: float = 0.0

    def __post_init__(self) -> None:
        if self.embedder is None:
            from edgeagents.routing.embeddings import default_embedder

            self.embedder = default_embedder()
        self.name = f"embeddings ({self.embedder.name})"

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> EmbeddingClassifier:
        if len(texts) != len(labels) or not texts:
            raise InvalidRequestError("fit() needs as many labels as texts, and at least one of each.")
        if set(labels) - {"local", "llm"} or len(set(labels)) < 2:
            raise InvalidRequestError("labels must be 'local' or 'llm', and both must occur.")
        x = self.embedder.embed([check_request(t) for t in texts])
        self._mu = x.mean(0)
        y = np.array([1.0 if lab == "llm" else 0.0 for lab in labels])
        self.weights, self.bias = fit_logistic(x - self._mu, y, self.l2)
        return self

    def p_llm(self, texts: Sequence[str]) -> list[float]:
        if self.weights is None:
            raise InvalidRequestError("This EmbeddingClassifier is not fitted.", hint="Call .fit(train_texts, train_labels) first.")
        x = self.embedder.embed(check_requests(texts))
        z = (x - self._mu) @ self.weights + self.bias
        return [float(v) for v in 1 / (1 + np.exp(-z))]


# --------------------------------------------------------------------------- the SLM scores itself
FEW_SHOT = """Requests sorted by who should answer them.
Request: Classify this review as positive or negative: 'great value'
Answer: small
Request: Write an essay on the future of democracy.
Answer: large
Request: Look up the status of order B1234.
Answer: small
Request: Prove that there are infinitely many primes.
Answer: large
Request: Extract the name and date as JSON from: 'Ana, 3 May'.
Answer: small
Request: Explain the history of the Roman Empire.
Answer: large
Request: {text}
Answer:"""


@dataclass
class SLMClassifier(_Base):
    """Few-shot prompt, then ``runtime.score(prompt, [" small", " large"])``: the label with the higher
    log-probability wins. ``bias`` shifts the decision (a base model favours one label); calibrate it
    on a few labelled requests with :meth:`calibrate`."""

    runtime: Any = None
    prompt: str = FEW_SHOT
    labels: tuple[str, str] = (" small", " large")
    bias: float = 0.0
    threshold: float = 0.5
    max_chars: int = 600
    name: str = "SLM-scored"

    def _margin(self, text: str) -> float:
        if self.runtime is None:
            raise InvalidRequestError("SLMClassifier needs a runtime with score().", hint="SLMClassifier(runtime=edgeagents.open_runtime())")
        small, large = self.runtime.score(self.prompt.format(text=text[: self.max_chars]), list(self.labels))
        return large - small

    def p_llm(self, texts: Sequence[str]) -> list[float]:
        out = []
        for t in check_requests(texts):
            m = self._margin(t) + self.bias
            out.append(1 / (1 + math.exp(-max(-50.0, min(50.0, m)))))
        return out

    def calibrate(self, texts: Sequence[str], labels: Sequence[str]) -> SLMClassifier:
        """Pick the ``bias`` that best separates these labelled requests (a one-number fit)."""
        margins = np.array([self._margin(check_request(t)) for t in texts])
        y = np.array([lab == "llm" for lab in labels])
        candidates = np.concatenate([-margins, [0.0]])
        accuracy = [((margins + c) >= 0) == y for c in candidates]
        self.bias = float(candidates[int(np.argmax([a.mean() for a in accuracy]))])
        return self
