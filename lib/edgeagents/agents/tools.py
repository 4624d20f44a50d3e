"""The agent's local tools over the business store, behind one gate.

Every call goes through :meth:`BusinessTools.call`, which, in this order:

1. refuses a tool that is not on the allowlist (:class:`ToolNotAllowedError`);
2. validates the arguments against the tool's JSON schema: types, enums, id patterns, lengths
   (:class:`~edgeagents.errors.ToolCallError`);
3. asks the approver for sensitive tools (:class:`ApprovalRequiredError` if there is none or it says no);
4. runs the tool (parameterised SQL only) and returns a JSON-ready dict;
5. writes an audit record: who, what, arguments, outcome, result, time — for refusals too.

>>> tools = BusinessTools(BusinessStore.open_memory())
>>> tools.call("lookup_order", {"order_id": "ORD-1001"})["status"]
'shipped'
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from edgeagents.agents.audit import AuditLog
from edgeagents.agents.security import redact
from edgeagents.agents.store import BusinessStore
from edgeagents.errors import EdgeAgentsError, ToolCallError
from edgeagents.runtimes.base import ToolSpec
from edgeagents.runtimes.toolcalls import validate_arguments


class ToolNotAllowedError(ToolCallError):
    """The tool exists nowhere, or is not on this agent's allowlist."""


class ApprovalRequiredError(ToolCallError):
    """A sensitive tool was called without a human (or policy) approving it."""


CUSTOMER_ID = {"type": "string", "pattern": "^C[0-9]{3}$", "description": "customer id such as C001"}
ORDER_ID = {"type": "string", "pattern": "^ORD-[0-9]{4}$", "description": "order id such as ORD-1001"}
PRIORITIES = ["low", "medium", "high", "urgent"]
TIMEZONES = ["UTC", "Europe/London", "Europe/Vilnius", "America/New_York", "Asia/Riyadh"]
COMPONENTS = ["all", "cpu", "memory", "disk", "database"]


def _spec(name: str, description: str, properties: dict[str, Any], required: Sequence[str]) -> ToolSpec:
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": properties, "required": list(required),
                       "additionalProperties": False}}}


TOOL_SPECS: dict[str, ToolSpec] = {s["function"]["name"]: s for s in [
    _spec("get_current_time", "Tell the current date and time, optionally in a time zone.",
          {"timezone": {"type": "string", "enum": TIMEZONES}}, []),
    _spec("lookup_customer", "Find a customer's details (name, tier, city) by customer id.",
          {"customer_id": CUSTOMER_ID}, ["customer_id"]),
    _spec("lookup_order", "Find an order's status, product and delivery date by order id.",
          {"order_id": ORDER_ID}, ["order_id"]),
    _spec("create_support_ticket", "Open a support ticket for a customer's problem, with a priority.",
          {"customer_id": CUSTOMER_ID,
           "subject": {"type": "string", "minLength": 3, "maxLength": 120},
           "priority": {"type": "string", "enum": PRIORITIES}},
          ["customer_id", "subject", "priority"]),
    _spec("schedule_callback", "Book a phone call back to a customer on a given day.",
          {"customer_id": CUSTOMER_ID,
           "date": {"type": "string", "pattern": "^2026-[01][0-9]-[0-3][0-9]$", "description": "YYYY-MM-DD"},
           "reason": {"type": "string", "minLength": 3, "maxLength": 120}},
          ["customer_id", "date", "reason"]),
    _spec("run_system_diagnostics", "Check this device's health: cpu, memory, disk or database.",
          {"component": {"type": "string", "enum": COMPONENTS}}, ["component"]),
    _spec("escalate_to_human", "Hand the conversation to a human agent when the customer is upset or asks for one.",
          {"customer_id": CUSTOMER_ID, "reason": {"type": "string", "minLength": 3, "maxLength": 200}},
          ["customer_id", "reason"]),
    _spec("search_knowledge_base", "Search the help articles for how-to questions and shop policies.",
          {"query": {"type": "string", "minLength": 2, "maxLength": 40,
                     "description": "two or three key words from the question, e.g. camera offline"}}, ["query"]),
]}

SENSITIVE_TOOLS = frozenset({"escalate_to_human", "run_system_diagnostics"})
"""Tools that need an approver's yes before they run."""

Approver = Callable[[str, Mapping[str, Any]], bool]


def approve_all(tool: str, arguments: Mapping[str, Any]) -> bool:  # noqa: ARG001 - a policy signature
    """An approver that says yes to everything (for demos; log it)."""
    return True


class CloudDesk:
    """A "cloud" helpdesk reached over HTTP. Unreachable (offline, not configured) means ``None``.

    ``url`` defaults to ``EDGEAGENTS_ESCALATION_URL``; with none set, the desk is simply not configured.
    """

    def __init__(self, url: str | None = None, timeout_s: float = 2.0) -> None:
        self.url = url if url is not None else os.environ.get("EDGEAGENTS_ESCALATION_URL", "")
        self.timeout_s = timeout_s

    def escalate(self, payload: dict[str, Any]) -> str | None:
        """POST the escalation; return the desk's reference, or ``None`` when it cannot be reached."""
        if not self.url:
            return None
        import urllib.request

        req = urllib.request.Request(self.url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 - configured URL
                return resp.read(200).decode("utf-8", "replace") or "accepted"
        except (OSError, ValueError):
            return None


class BusinessTools:
    """The eight course tools over a :class:`BusinessStore`, with allowlist, approval and audit.

    Args:
        store: the business system.
        allowlist: tool names this agent may call (default: all eight).
        approver: ``f(tool, arguments) -> bool`` asked before a sensitive tool runs; ``None`` refuses them.
        actor: the name written to the audit log (an agent's name).
        clock: returns "now" (tests pass a fixed one).
        desk: the cloud helpdesk used by ``escalate_to_human`` (falls back to a local queue).
    """

    def __init__(
        self,
        store: BusinessStore,
        *,
        allowlist: Sequence[str] | None = None,
        approver: Approver | None = None,
        actor: str = "agent",
        clock: Callable[[], datetime] | None = None,
        desk: CloudDesk | None = None,
    ) -> None:
        self.store = store
        names = list(TOOL_SPECS) if allowlist is None else list(allowlist)
        unknown = [n for n in names if n not in TOOL_SPECS]
        if unknown:
            raise ToolNotAllowedError(f"Cannot allow unknown tool(s) {unknown}.",
                                      hint=f"Known tools: {', '.join(TOOL_SPECS)}.")
        self.allowlist = tuple(names)
        self.approver = approver
        self.actor = actor
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self.desk = desk or CloudDesk()
        self.audit = AuditLog(store, self._clock)
        self._impl: dict[str, Callable[..., dict[str, Any]]] = {
            "get_current_time": self._get_current_time,
            "lookup_customer": self._lookup_customer,
            "lookup_order": self._lookup_order,
            "create_support_ticket": self._create_support_ticket,
            "schedule_callback": self._schedule_callback,
            "run_system_diagnostics": self._run_system_diagnostics,
            "escalate_to_human": self._escalate_to_human,
            "search_knowledge_base": self._search_knowledge_base,
        }

    # ------------------------------------------------------------------ the gate
    def specs(self) -> list[ToolSpec]:
        """OpenAI tool specs of the allowed tools (what the model is shown)."""
        return [TOOL_SPECS[n] for n in self.allowlist]

    def with_allowlist(self, names: Sequence[str], actor: str | None = None) -> BusinessTools:
        """The same store and policy, a narrower allowlist (for a specialist agent)."""
        return BusinessTools(self.store, allowlist=names, approver=self.approver, actor=actor or self.actor,
                             clock=self._clock, desk=self.desk)

    def call(self, name: str, arguments: Mapping[str, Any] | str | None = None, *, actor: str | None = None
             ) -> dict[str, Any]:
        """Run one tool call through the gate. Raises a :class:`ToolCallError` subclass on refusal."""
        started = time.perf_counter()
        who = actor or self.actor
        raw_args: Any = {} if arguments is None else arguments
        try:
            if not isinstance(name, str) or name not in self.allowlist:
                raise ToolNotAllowedError(
                    f"Tool {name!r} is not on this agent's allowlist.", tool_name=str(name),
                    hint=f"Allowed: {', '.join(self.allowlist)}.")
            if not isinstance(raw_args, (str, Mapping)):
                raise ToolCallError(f"Arguments of {name!r} must be a JSON object, got {type(raw_args).__name__}.",
                                    tool_name=name, hint="Pass a dict such as {'order_id': 'ORD-1001'}.")
            args = validate_arguments(TOOL_SPECS[name], raw_args if isinstance(raw_args, str) else dict(raw_args))
            if name in SENSITIVE_TOOLS and not (self.approver is not None and self.approver(name, args)):
                raise ApprovalRequiredError(
                    f"{name} is a sensitive tool and was not approved.", tool_name=name,
                    hint="Give the tools an approver, e.g. BusinessTools(store, approver=ask_human).")
            result = self._impl[name](**args)
        except ToolNotAllowedError as exc:
            outcome = "refused:not_allowed" if name in TOOL_SPECS else "refused:unknown_tool"
            self.audit.record(who, str(name), raw_args, outcome, exc.message, started)
            raise
        except ApprovalRequiredError as exc:
            self.audit.record(who, name, raw_args, "refused:not_approved", exc.message, started)
            raise
        except ToolCallError as exc:
            outcome = "error:not_found" if "not found" in exc.message else "refused:invalid"
            self.audit.record(who, str(name), raw_args, outcome, exc.message, started)
            raise
        except EdgeAgentsError as exc:
            self.audit.record(who, str(name), raw_args, "error", exc.message, started)
            raise
        except Exception as exc:  # a tool's own bug: typed, logged
            self.audit.record(who, str(name), raw_args, "error", repr(exc), started)
            raise ToolCallError(f"{name} failed: {exc}", tool_name=name) from exc
        self.audit.record(who, name, args, "ok", result, started)
        return result

    def call_text(self, name: str, arguments: Mapping[str, Any] | str | None = None, *, actor: str | None = None
                  ) -> str:
        """Like :meth:`call`, but returns what the model should read: JSON, personal data redacted,
        and a refusal as ``{"error": ...}`` instead of an exception."""
        try:
            return redact(json.dumps(self.call(name, arguments, actor=actor), ensure_ascii=False))
        except ToolCallError as exc:
            return json.dumps({"error": exc.message, "hint": exc.hint}, ensure_ascii=False)

    # ------------------------------------------------------------------ the tools
    def _now(self) -> datetime:
        return self._clock()

    def _get_current_time(self, timezone: str = "UTC") -> dict[str, Any]:  # noqa: A002 - the tool's word
        from zoneinfo import ZoneInfo

        now = self._now().astimezone(ZoneInfo(timezone))
        return {"timezone": timezone, "iso": now.isoformat(timespec="minutes"), "weekday": now.strftime("%A")}

    def _customer_or_fail(self, customer_id: str) -> dict[str, Any]:
        row = self.store.customer(customer_id)
        if row is None:
            raise ToolCallError(f"Customer {customer_id} not found.", tool_name="lookup_customer",
                                hint="Check the id (C001 to C008 in the course store).")
        return row

    def _lookup_customer(self, customer_id: str) -> dict[str, Any]:
        row = self._customer_or_fail(customer_id)
        row["open_orders"] = [o["order_id"] for o in self.store.orders_of(customer_id)
                              if o["status"] not in ("delivered", "cancelled")]
        return row

    def _lookup_order(self, order_id: str) -> dict[str, Any]:
        row = self.store.order(order_id)
        if row is None:
            raise ToolCallError(f"Order {order_id} not found.", tool_name="lookup_order",
                                hint="Order ids look like ORD-1001 (ORD-1001 to ORD-1010 in the course store).")
        return row

    def _create_support_ticket(self, customer_id: str, subject: str, priority: str) -> dict[str, Any]:
        self._customer_or_fail(customer_id)
        return self.store.add_ticket(customer_id, subject, priority, self._now().isoformat(timespec="seconds"))

    def _schedule_callback(self, customer_id: str, date: str, reason: str) -> dict[str, Any]:
        self._customer_or_fail(customer_id)
        try:
            day = datetime.strptime(date, "%Y-%m-%d").date()
        except ValueError:
            raise ToolCallError(f"{date!r} is not a calendar date.", tool_name="schedule_callback",
                                hint="Use YYYY-MM-DD.") from None
        today = self._now().date()
        if not today <= day <= today + timedelta(days=60):
            raise ToolCallError(f"A callback on {date} is outside the next 60 days.", tool_name="schedule_callback",
                                hint=f"Pick a day between {today} and {today + timedelta(days=60)}.")
        return self.store.add_callback(customer_id, f"{date} 10:00", reason, self._now().isoformat(timespec="seconds"))

    def _run_system_diagnostics(self, component: str) -> dict[str, Any]:
        import psutil

        out: dict[str, Any] = {"component": component, "host": platform.machine()}
        if component in ("all", "cpu"):
            out["cpu_cores"] = os.cpu_count()
            out["load_1m"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
        if component in ("all", "memory"):
            vm = psutil.virtual_memory()
            out["memory_available_gb"] = round(vm.available / 1e9, 2)
            out["memory_used_pct"] = vm.percent
        if component in ("all", "disk"):
            du = shutil.disk_usage(os.path.dirname(self.store.path) if self.store.path != ":memory:" else "/")
            out["disk_free_gb"] = round(du.free / 1e9, 1)
        if component in ("all", "database"):
            out["database"] = self.store.counts()
        out["status"] = "healthy"
        return out

    def _escalate_to_human(self, customer_id: str, reason: str) -> dict[str, Any]:
        self._customer_or_fail(customer_id)
        ref = self.desk.escalate({"customer_id": customer_id, "reason": reason})
        if ref is not None:
            return {"escalated": True, "via": "cloud helpdesk", "reference": ref}
        # graceful degradation: the cloud desk is unreachable, so queue it locally as an urgent ticket
        ticket = self.store.add_ticket(customer_id, f"[escalation queued offline] {reason}"[:120], "urgent",
                                       self._now().isoformat(timespec="seconds"))
        return {"escalated": True, "via": "local queue (cloud helpdesk unreachable)",
                "ticket_id": ticket["ticket_id"], "note": "a human will pick this up when the link is back"}

    def _search_knowledge_base(self, query: str) -> dict[str, Any]:
        hits = self.store.search_kb(query)
        return {"query": query, "articles": [{"id": h["article_id"], "title": h["title"], "answer": h["body"]}
                                             for h in hits]}

    def __repr__(self) -> str:
        return f"<BusinessTools actor={self.actor!r} allowlist={list(self.allowlist)}>"
