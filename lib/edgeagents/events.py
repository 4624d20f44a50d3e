"""Request events: what every runtime reports about each request it serves.

A runtime emits a ``"start"`` event when a request begins and one ``"end"`` event when it
finishes, fails, or (a stream) is interrupted or closed half-read. Subscribers such as
:class:`edgeagents.monitoring.Collector` turn them into metrics; the runtime itself knows
nothing about who listens.

>>> from edgeagents import events
>>> seen = []
>>> with events.subscribe(seen.append):
...     runtime.chat([{"role": "user", "content": "Hi"}])
>>> seen[-1].duration_s, seen[-1].completion_tokens

It imports only :mod:`edgeagents.errors`, so every layer may use it.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Operation = Literal["chat", "text_completion"]
"""OpenTelemetry GenAI operation names (``gen_ai.operation.name``)."""

Phase = Literal["start", "end"]

log = logging.getLogger(__name__)
_ids = itertools.count(1)


def next_request_id() -> int:
    """A process-wide unique id that pairs a request's start and end events."""
    return next(_ids)


@dataclass(frozen=True)
class RequestEvent:
    """One request's start or end, as a runtime saw it. Times in seconds, never milliseconds.

    An ``"end"`` event has ``duration_s`` and token counts; ``error_type`` is the name of the
    library's typed error (``"BackendError"``, ``"StreamInterruptedError"``...) or None on success.
    ``ttft_s`` is None when no token arrived.
    """

    request_id: int
    phase: Phase
    runtime: str
    model: str
    operation: Operation
    stream: bool = False
    wall_time: float = field(default_factory=time.time)  # epoch seconds at emission
    duration_s: float = 0.0
    ttft_s: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.phase == "end" and self.error_type is None

    @property
    def time_per_output_token_s(self) -> float | None:
        """Decode time per token after the first (OpenTelemetry's ``time_per_output_token``)."""
        if self.ttft_s is None or self.completion_tokens < 2:
            return None
        return max(0.0, self.duration_s - self.ttft_s) / (self.completion_tokens - 1)

    @property
    def output_tokens_per_s(self) -> float:
        return self.completion_tokens / self.duration_s if self.duration_s > 0 else 0.0


Subscriber = Callable[[RequestEvent], None]


class Subscription:
    """A registered subscriber; ``close()`` (or leaving the ``with`` block) unsubscribes."""

    def __init__(self, callback: Subscriber) -> None:
        self.callback = callback

    def close(self) -> None:
        with _lock:
            if self in _subscribers:
                _subscribers.remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_lock = threading.Lock()
_subscribers: list[Subscription] = []


def subscribe(callback: Subscriber) -> Subscription:
    """Call ``callback(event)`` for every request event from every runtime in this process."""
    if not callable(callback):
        from edgeagents.errors import InvalidRequestError

        raise InvalidRequestError(f"subscribe() needs a callable, got {type(callback).__name__}.",
                                  hint="Pass a function that takes one RequestEvent, e.g. a list's append.")
    sub = Subscription(callback)
    with _lock:
        _subscribers.append(sub)
    return sub


def emit(event: RequestEvent) -> None:
    """Deliver ``event`` to every subscriber. A subscriber that raises is logged and skipped:
    monitoring must never break the request it observes."""
    with _lock:
        subs = list(_subscribers)
    for sub in subs:
        try:
            sub.callback(event)
        except Exception:  # a broken subscriber must not fail the request
            log.exception("event subscriber %r failed", sub.callback)


def subscriber_count() -> int:
    with _lock:
        return len(_subscribers)
