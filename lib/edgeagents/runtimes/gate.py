"""One computation at a time on an in-process model, and a ``close()`` that never frees memory in use.

The in-process runtimes (llama.cpp, ONNX Runtime GenAI, Foundry Local) run one native model that
one generation at a time may use (llama.cpp also has one KV cache). :class:`ModelGate` applies one
rule set to all three:

* An *active* computation holds the gate: a whole ``chat()``, ``complete()`` or ``score()`` call
  (:meth:`ModelGate.hold`), or one ``next()`` of a stream (:meth:`ModelGate.guard`). Other threads
  wait for it; the wait is bounded only as a safety net.
* A stream *suspended* between two reads does not hold the model. The next request, from any
  thread, cancels it and proceeds at once; reading the cancelled stream again raises
  :class:`~edgeagents.errors.StreamInterruptedError` without touching the model.
* :meth:`ModelGate.close` stops the active computation at its next token (it raises
  :class:`~edgeagents.errors.RuntimeClosedError` from :meth:`ModelGate.check`), waits for it to let
  go, cancels the suspended stream, and only then frees the model. Every later step raises
  ``RuntimeClosedError`` before it reaches native code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from edgeagents.errors import BackendError, RuntimeClosedError, StreamInterruptedError

T = TypeVar("T")

SAFETY_WAIT_S = 600.0
"""How long a request waits for another thread's computation before giving up (a safety net:
computations let go after their last token, and close() stops them at their next one)."""


class Ticket:
    """One request's claim on the model: a whole call, or a stream across all its reads."""

    __slots__ = ("cancelled", "depth", "finished", "on_cancel")

    def __init__(self) -> None:
        self.cancelled = False
        self.finished = False
        self.depth = 0  # nested use() of the same ticket (a chat() reading its own stream)
        # frees what a cancelled stream still holds; runs under the gate and must not raise
        self.on_cancel: Callable[[], None] | None = None


class ModelGate:
    """The lock, the cancel rule and the close sequence of one in-process runtime."""

    def __init__(self, runtime_name: str) -> None:
        self._name = runtime_name
        self._cond = threading.Condition()
        self._active: Ticket | None = None
        self._suspended: Ticket | None = None
        self._closed = False
        self._readers = 0  # read-only uses in progress (the tokenizer): close() waits for them too
        self._held = threading.local()  # the ticket this thread holds, so nested calls join it

    @property
    def closed(self) -> bool:
        return self._closed

    def check(self) -> None:
        """Called at every token: raises :class:`RuntimeClosedError` once close() has begun."""
        if self._closed:
            raise RuntimeClosedError(f"This {self._name} runtime was closed.")

    @contextmanager
    def use(self, ticket: Ticket) -> Iterator[None]:
        """Run one step of ``ticket`` with the model to itself."""
        victim: Ticket | None = None
        with self._cond:
            if ticket.depth == 0:
                deadline = time.monotonic() + SAFETY_WAIT_S
                while self._active is not None and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise BackendError(
                            f"The {self._name} runtime stayed busy for {SAFETY_WAIT_S / 60:.0f} minutes; "
                            "another thread's request still holds it."
                        )
                    self._cond.wait(left)
                self.check()
                if ticket.cancelled:
                    raise StreamInterruptedError(
                        f"This stream was interrupted by a newer request on the same {self._name} runtime."
                    )
                if self._suspended is not None and self._suspended is not ticket:
                    victim = self._suspended
                    victim.cancelled = True
                self._suspended = None
                self._active = ticket
                self._held.ticket = ticket
            else:
                self.check()
            ticket.depth += 1
        try:
            if victim is not None and victim.on_cancel is not None:
                victim.on_cancel()  # under the gate: the cancelled stream cannot resume meanwhile
            yield
        finally:
            with self._cond:
                ticket.depth -= 1
                if ticket.depth == 0:
                    self._active = None
                    self._held.ticket = None
                    if not (ticket.finished or ticket.cancelled):
                        self._suspended = ticket  # close() cancels it too, so its hook frees what it holds
                    self._cond.notify_all()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """A read-only use of the model (tokenizing) that takes no turn and cancels nothing.

        Reading the vocabulary is safe next to a generation in another thread; freeing it is not,
        so :meth:`close` waits until every reader is done, and a reader after close() is refused.
        """
        with self._cond:
            self.check()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    def on_cancel(self, hook: Callable[[], None]) -> None:
        """Called from inside a step: ``hook`` frees this stream's native state if it gets cancelled."""
        ticket = getattr(self._held, "ticket", None)
        if ticket is not None:
            ticket.on_cancel = hook

    def finish(self, ticket: Ticket) -> None:
        """The ticket's native work is over (done, failed or abandoned): nothing is left to cancel."""
        with self._cond:
            ticket.finished = True
            ticket.on_cancel = None
            if self._suspended is ticket:
                self._suspended = None

    def _ticket(self) -> tuple[Ticket, bool]:
        """The ticket this thread already holds (a call reading its own stream), else a new one."""
        held = getattr(self._held, "ticket", None)
        return (held, False) if held is not None else (Ticket(), True)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """One whole call (``chat``, ``complete``, ``score``): streams it reads join its ticket."""
        ticket, own = self._ticket()
        try:
            with self.use(ticket):
                yield
        finally:
            if own:
                self.finish(ticket)

    def guard(self, steps: Iterator[T]) -> Iterator[T]:
        """A stream whose every ``next()`` runs under the gate; between reads it is suspended."""
        ticket, own = self._ticket()
        try:
            while True:
                with self.use(ticket):
                    try:
                        item = next(steps)
                    except StopIteration:
                        return
                yield item
        finally:
            if own:
                self.finish(ticket)
            steps.close()

    def close(self, free: Callable[[], None]) -> None:
        """Stop and wait for the active computation, cancel the suspended stream, then ``free()``.

        Safe to call twice. If the active computation does not let go within the safety wait, the
        model is left allocated (a leak, never a crash) and :class:`BackendError` says so.
        """
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()  # waiting requests give up with RuntimeClosedError
            deadline = time.monotonic() + SAFETY_WAIT_S
            while self._active is not None or self._readers:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BackendError(
                        f"The {self._name} runtime was closed, but a computation in another thread did not stop "
                        f"within {SAFETY_WAIT_S / 60:.0f} minutes, so its model was not freed."
                    )
                self._cond.wait(left)
            victim, self._suspended = self._suspended, None
            if victim is not None:
                victim.cancelled = True
            self._active = Ticket()  # nothing starts while the model is being freed
        try:
            if victim is not None and victim.on_cancel is not None:
                victim.on_cancel()
            free()
        finally:
            with self._cond:
                self._active = None
                self._cond.notify_all()


__all__ = ["ModelGate", "Ticket", "SAFETY_WAIT_S"]
