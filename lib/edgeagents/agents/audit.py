"""The audit log: one record for every tool call an agent attempts, allowed or refused.

A record says who asked (the actor: an agent's name), what (the tool), with which arguments,
what came of it, the result (shortened), when, and how long it took. Records go to the store's
``audit_log`` table, so they outlive the notebook.

Outcomes: ``ok``; ``error`` and ``error:not_found`` (the tool ran and failed); and refusals, which
never run the tool: ``refused:unknown_tool``, ``refused:not_allowed`` (not on the allowlist),
``refused:invalid`` (arguments break the schema), ``refused:not_approved``,
``refused:malformed_call`` (the runtime could not parse the model's call), ``refused:not_run`` (a
call in the same model reply as a refused one) and ``refused:suspicious_input``. The gate
(:class:`~edgeagents.agents.tools.BusinessTools`) writes the records of the calls that reach it;
:class:`~edgeagents.agents.framework.EdgeChatClient` writes those it refuses before that.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from edgeagents.agents.store import BusinessStore

RESULT_CHARS = 300


@dataclass(frozen=True)
class AuditRecord:
    at: str
    actor: str
    tool: str
    arguments: str
    outcome: str
    result: str
    duration_ms: float


class AuditLog:
    """Writes :class:`AuditRecord` rows to a :class:`BusinessStore` and reads them back."""

    def __init__(self, store: BusinessStore, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    def record(self, actor: str, tool: str, arguments: Any, outcome: str, result: Any, started: float) -> AuditRecord:
        """Write one record. ``started`` is a ``time.perf_counter()`` reading taken before the call."""
        args = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False, default=str)
        res = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, default=str)
        rec = AuditRecord(
            at=self._clock().isoformat(timespec="seconds"),
            actor=str(actor)[:60],
            tool=str(tool)[:80],
            arguments=args[:1000],
            outcome=outcome,
            result=res[:RESULT_CHARS],
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        self.store.write_audit(rec.at, rec.actor, rec.tool, rec.arguments, rec.outcome, rec.result, rec.duration_ms)
        return rec

    def rows(self) -> list[dict[str, Any]]:
        return self.store.audit_rows()

    def frame(self, last: int | None = None):  # noqa: ANN201 - a pandas DataFrame
        """The log as a pandas table (the newest ``last`` rows if given)."""
        import pandas as pd

        df = pd.DataFrame(self.rows(), columns=["audit_id", "at", "actor", "tool", "arguments", "outcome",
                                                "result", "duration_ms"])
        return df.tail(last) if last else df

    def __len__(self) -> int:
        return len(self.rows())
