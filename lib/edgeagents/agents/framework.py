"""Glue between Microsoft Agent Framework (``agent-framework-core``) and the course runtimes.

* :class:`EdgeChatClient` — a real Agent Framework chat client (``BaseChatClient`` with the
  framework's function-invocation and chat-middleware layers) that runs any course runtime
  in-process: ``LlamaCppRuntime.chat`` with OpenAI-shaped messages and tools. Tool calls come
  back as the framework's ``function_call`` content, so **the framework** runs the tools.
* :class:`ScoredToolRouter` — how a *base* model picks a tool: ``runtime.score`` over the tool
  names after a short few-shot prompt; the client then forces that tool, so the grammar keeps
  the arguments schema-valid (``tool_strategy="route"``).
* :func:`framework_tools` — the gated :class:`~edgeagents.agents.tools.BusinessTools` as
  framework ``FunctionTool`` objects.
* :class:`ToolTrace` — framework function middleware that records (and prints) every tool call,
  failed ones with their error.
* The client never lets a failed tool call pass as done: a call it cannot hand to the framework
  (malformed, unknown tool, arguments that break the schema) is refused and audited, and when a
  tool call of the turn failed, the reply the user sees is a plain statement of which tool failed
  and why (:func:`failure_reply`), whatever the model wrote.
* :class:`InputGuard` — agent middleware that validates the user's message and refuses, and
  logs, injection attempts before the model sees them.

Needs the ``agents`` extra: ``pip install -e '.[agents]'``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from edgeagents.agents.tools import TOOL_SPECS
from edgeagents.errors import RuntimeUnavailableError, ToolCallError
from edgeagents.runtimes.base import Message as OAMessage
from edgeagents.runtimes.base import Result, ToolSpec
from edgeagents.runtimes.chat_template import TOOL_CALL_OPEN
from edgeagents.runtimes.toolcalls import validate_arguments

try:
    import agent_framework as af
    from agent_framework import (
        AgentMiddleware,
        BaseChatClient,
        ChatMiddlewareLayer,
        ChatResponse,
        ChatResponseUpdate,
        Content,
        FunctionInvocationLayer,
        FunctionMiddleware,
        FunctionTool,
    )

    HAVE_AGENT_FRAMEWORK = True
except ImportError:  # pragma: no cover - exercised when the extra is missing
    HAVE_AGENT_FRAMEWORK = False
    af = None  # type: ignore[assignment]

    class _Missing:  # stand-ins so this module imports without the extra; using them raises
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            require_agent_framework()

    class BaseChatClient(_Missing): ...  # type: ignore[no-redef]

    class ChatMiddlewareLayer: ...  # type: ignore[no-redef]

    class FunctionInvocationLayer: ...  # type: ignore[no-redef]

    class AgentMiddleware(_Missing): ...  # type: ignore[no-redef]

    class FunctionMiddleware(_Missing): ...  # type: ignore[no-redef]

INSTALL_HINT = "pip install -e '.[agents]'  (installs agent-framework-core, -orchestrations, -openai)"


def require_agent_framework() -> None:
    """Raise :class:`RuntimeUnavailableError` with the install command when the extra is missing."""
    if not HAVE_AGENT_FRAMEWORK:
        raise RuntimeUnavailableError("Microsoft Agent Framework is not installed.", hint=f"Run: {INSTALL_HINT}")


def agent_framework_versions() -> dict[str, str | None]:
    """Installed versions of the three Agent Framework packages the labs use (None = missing)."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for pkg in ("agent-framework-core", "agent-framework-orchestrations", "agent-framework-openai"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


# ---------------------------------------------------------------------- message conversion
def _content_text(c: Any) -> str:
    return getattr(c, "text", None) or ""


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


def _raw_result_text(c: Any) -> str:
    res = getattr(c, "result", None)
    if res is None:
        items = getattr(c, "items", None) or []
        res = "".join(_content_text(i) for i in items)
    return res if isinstance(res, str) else json.dumps(res, default=str)


def result_error(c: Any) -> str | None:
    """The error of a framework ``function_result``, or ``None`` if the call succeeded.

    A call failed when the framework attached an exception (the tool raised, was unknown, or its
    arguments were rejected) or when the tool returned ``{"error": ...}`` (how the gated course
    tools report a refusal or a failure to the model).
    """
    exc = getattr(c, "exception", None)
    if exc:
        return _first_line(str(exc))
    return _error_in(_raw_result_text(c))


def _error_in(text: str) -> str | None:
    """The message of a ``{"error": ...}`` tool result, else ``None``."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("error"):
        return _first_line(str(data["error"]))
    return None


def _result_text(c: Any) -> str:
    error = getattr(c, "exception", None) and result_error(c)
    # the framework's own text for a raised tool is "Error: Function failed."; the model gets the reason
    return json.dumps({"error": error}, ensure_ascii=False) if error else _raw_result_text(c)


def to_openai_messages(messages: Sequence[Any], instructions: str | None = None) -> list[OAMessage]:
    """Framework ``Message`` objects -> OpenAI chat dicts (the shape every course runtime takes)."""
    out: list[OAMessage] = []
    if instructions:
        out.append({"role": "system", "content": instructions})
    for m in messages:
        role = str(getattr(m, "role", "user"))
        texts, calls, results = [], [], []
        for c in getattr(m, "contents", []) or []:
            kind = getattr(c, "type", "")
            if kind == "text":
                texts.append(_content_text(c))
            elif kind == "function_call":
                args = c.arguments if c.arguments is not None else {}
                calls.append({"id": c.call_id or "", "type": "function",
                              "function": {"name": c.name or "",
                                           "arguments": args if isinstance(args, str) else json.dumps(args)}})
            elif kind == "function_result":
                results.append({"role": "tool", "tool_call_id": c.call_id or "", "content": _result_text(c)})
        if role == "tool" or results:
            out.extend(results)
            continue
        msg: OAMessage = {"role": role if role in ("system", "user", "assistant") else "user",
                          "content": "\n".join(t for t in texts if t)}
        if calls:
            msg["role"] = "assistant"
            msg["tool_calls"] = calls
        if msg["content"] or calls:
            out.append(msg)
    return out


def to_openai_tools(tools: Any) -> list[ToolSpec]:
    """Framework tools (``FunctionTool``) -> OpenAI tool specs."""
    if tools is None:
        return []
    seq = tools if isinstance(tools, (list, tuple)) else [tools]
    return [t.to_json_schema_spec() for t in seq if hasattr(t, "to_json_schema_spec")]


def _tool_mode(choice: Any) -> tuple[str, str | None]:
    """Framework ``tool_choice`` -> (mode, forced tool name)."""
    if choice is None:
        return "auto", None
    if isinstance(choice, str):
        return choice, None
    if isinstance(choice, Mapping):
        return str(choice.get("mode", "auto")), choice.get("required_function_name")
    return "auto", None


# ---------------------------------------------------------------------- failed tool calls
@dataclass(frozen=True)
class ToolFailure:
    """A tool call of the current turn that did not succeed: which tool, and what went wrong."""

    tool: str
    error: str


FAILURE_LEAD = "I could not complete that."


def failure_reply(failures: Sequence[ToolFailure]) -> str:
    """What the user is told when a tool call failed: the tool and its error, never a claim of success."""
    said = [f.error if f.error.startswith(f"{f.tool} failed") else f"{f.tool} failed: {f.error}" for f in failures]
    return " ".join([FAILURE_LEAD, *said])


def turn_failures(messages: Sequence[Any]) -> list[ToolFailure]:
    """The failed tool calls since the user's last message.

    A tool that failed and was then called again successfully in the same turn is not counted.
    """
    start = max((i for i, m in enumerate(messages) if str(getattr(m, "role", "")) == "user"), default=-1)
    names: dict[str, str] = {}
    failed: dict[str, ToolFailure] = {}
    for m in messages[start + 1:]:
        for c in getattr(m, "contents", []) or []:
            kind = getattr(c, "type", "")
            if kind == "function_call":
                names[c.call_id or ""] = c.name or "a tool"
            elif kind == "function_result":
                name = names.get(c.call_id or "", "a tool")
                error = result_error(c)
                if error is None:
                    failed.pop(name, None)
                else:
                    failed[name] = ToolFailure(name, error)
    return list(failed.values())


def tool_call_arguments(call: Any) -> dict[str, Any]:
    """A runtime tool call's arguments as a dict: a mapping, or a string holding a JSON object.

    Anything else is a :class:`ToolCallError` (some runtimes hand back the arguments as text).
    """
    args = call.arguments
    if args is None:
        return {}
    if isinstance(args, Mapping):
        return dict(args)
    if isinstance(args, str):
        try:
            data = json.loads(args) if args.strip() else {}
        except ValueError:
            data = None
        if isinstance(data, dict):
            return data
    raise ToolCallError(f"The arguments of {call.name!r} are not a JSON object: {str(args)[:120]!r}.",
                        raw=str(args), tool_name=str(call.name),
                        hint="A tool call's arguments must be a JSON object such as {\"order_id\": \"ORD-1001\"}.")


GATE_ATTRIBUTE = "edgeagents_gate"
"""Set on the functions :func:`framework_tools` makes: the :class:`BusinessTools` gate that audits them."""


def _gate_of(tools: Any) -> Any:
    """The audited gate behind the framework tools on offer, if they came from :func:`framework_tools`."""
    seq = tools if isinstance(tools, (list, tuple)) else [tools] if tools is not None else []
    return next((g for t in seq if (g := getattr(getattr(t, "func", None), GATE_ATTRIBUTE, None)) is not None), None)


# ---------------------------------------------------------------------- routing a base model
TOOL_TOPICS: dict[str, str] = {
    "get_current_time": "time", "lookup_customer": "customer", "lookup_order": "order",
    "create_support_ticket": "ticket", "schedule_callback": "callback", "run_system_diagnostics": "diagnostics",
    "escalate_to_human": "human", "search_knowledge_base": "article",
}
"""One plain word per course tool. A base model ranks ordinary words far better than snake_case names."""

ROUTER_EXAMPLES = [
    ("What day is it today?", "get_current_time"), ("Look up customer C005 please.", "lookup_customer"),
    ("Where is my parcel ORD-1004?", "lookup_order"), ("Customer C001 has a broken plug, open a ticket.",
                                                        "create_support_ticket"),
    ("Can someone phone C004 tomorrow?", "schedule_callback"),
    ("Is the device running low on memory?", "run_system_diagnostics"),
    ("I want to speak to a manager right now!", "escalate_to_human"),
    ("How long does shipping take?", "search_knowledge_base"),
    ("Has order ORD-1003 been delivered?", "lookup_order"), ("What's the time in Riyadh?", "get_current_time"),
    ("Which city is customer C002 in?", "lookup_customer"),
    ("Raise an urgent ticket for C006, the router is dead.", "create_support_ticket"),
    ("Please ring C003 back on 2026-11-30.", "schedule_callback"),
    ("Check the CPU load of this box.", "run_system_diagnostics"),
    ("Get a human on the line for C005, she is angry.", "escalate_to_human"),
    ("How do I pair a sensor?", "search_knowledge_base"),
]
"""Two example requests per course tool: the few-shot part of the router prompt."""


def topic(name: str) -> str:
    return TOOL_TOPICS.get(name, name.replace("_", " "))


def router_prompt(request: str, tools: Sequence[ToolSpec]) -> str:
    """The few-shot prompt after which the router scores each tool's topic word.

    Only examples of the tools on offer are shown (a specialist with three tools sees six examples).
    """
    names = {t["function"]["name"] for t in tools}
    shots = "\n".join(f"Request: {q}\nTopic: {topic(n)}" for q, n in ROUTER_EXAMPLES if n in names)
    return f"{shots}\nRequest: {request.strip()}\nTopic:"


ANSWER_PROMPT = """A support assistant answers the customer in one sentence, using only the tool result.

Question: Where is order ORD-1005?
Tool result: {{"order_id": "ORD-1005", "status": "shipped", "eta": "2026-11-23", "product": "Smart plug P2"}}
Answer: Your order ORD-1005 (Smart plug P2) has shipped and should arrive on 2026-11-23.

Question: Do you have a warranty?
Tool result: {{"articles": [{{"title": "Warranty", "answer": "All devices carry a two-year warranty."}}]}}
Answer: Yes, all our devices carry a two-year warranty.

Question: {question}
Tool result: {result}
Answer:"""


def answer_prompt(question: str, tool_result: str, max_chars: int = 600) -> str:
    """The few-shot prompt a base model completes to turn a tool result into a reply."""
    return ANSWER_PROMPT.format(question=question.strip().replace("\n", " "),
                                result=tool_result.strip().replace("\n", " ")[:max_chars])


@dataclass
class RouteDecision:
    tool: str
    scores: dict[str, float]
    seconds: float


class ScoredToolRouter:
    """Choose a tool for a request by log-probability: ``runtime.score(prompt, [" order", " ticket", ...])``.

    A base model cannot *decide* to emit a tool call, but it can rank options it is shown. Each tool
    is scored by its topic word (:data:`TOOL_TOPICS`) after a few-shot prompt; ``normalise=True``
    divides by the token count (for multi-token topics of your own tools).

    ``calibrate=True`` subtracts each option's score after a content-free request ("N/A"): a small
    base model has favourite words whatever the request says (contextual calibration, Zhao et al.
    2021). On the course requests this lifts the base model from 9/20 to 15/20 right tools.
    """

    def __init__(self, runtime: Any, *, normalise: bool = False, calibrate: bool = True) -> None:
        self.runtime = runtime
        self.normalise = normalise
        self.calibrate = calibrate
        self._baselines: dict[tuple[str, ...], list[float]] = {}

    def _baseline(self, tools: Sequence[ToolSpec], conts: list[str]) -> list[float]:
        key = tuple(t["function"]["name"] for t in tools)
        if key not in self._baselines:
            self._baselines[key] = list(self.runtime.score(router_prompt("N/A", tools), conts))
        return self._baselines[key]

    def route(self, request: str, tools: Sequence[ToolSpec]) -> RouteDecision:
        names = [t["function"]["name"] for t in tools]
        prompt = router_prompt(request.replace("\n", " "), tools)
        t0 = time.perf_counter()
        conts = [f" {topic(n)}" for n in names]
        raw = list(self.runtime.score(prompt, conts))
        if self.calibrate:
            raw = [s - b for s, b in zip(raw, self._baseline(tools, conts))]
        if self.normalise and hasattr(self.runtime, "tokenize"):
            lengths = [max(1, len(self.runtime.tokenize(f" {topic(n)}", add_bos=False))) for n in names]
            raw = [s / n for s, n in zip(raw, lengths)]
        scores = dict(zip(names, (float(s) for s in raw)))
        best = max(scores, key=scores.__getitem__)
        return RouteDecision(best, scores, time.perf_counter() - t0)


# ---------------------------------------------------------------------- the chat client
ToolStrategy = Literal["auto", "route"]


class EdgeChatClient(FunctionInvocationLayer, ChatMiddlewareLayer, BaseChatClient):  # type: ignore[misc]
    """An Agent Framework chat client over a course runtime, in-process.

    Args:
        runtime: any course runtime (``LlamaCppRuntime``, ``OpenAICompatRuntime``...).
        tool_strategy: ``"auto"`` lets the model decide to call a tool (what the course model, base plus
            adapter, was trained for; Labs 11 and 14 use it); ``"route"`` (this client's default, for a base
            model) picks the tool with :class:`ScoredToolRouter` and forces it every turn, then lets the
            model answer from the tool's result.
        max_tokens: default reply budget.
        model_label: the name traces show for this client (default: the runtime's model).
        middleware: framework chat/function middleware (e.g. :class:`ToolTrace`).
    """

    OTEL_PROVIDER_NAME = "edgeagents"
    FORCED_CALL_TOKENS = 160

    def __init__(
        self,
        runtime: Any,
        *,
        tool_strategy: ToolStrategy = "route",
        max_tokens: int = 64,
        temperature: float = 0.0,
        model_label: str | None = None,
        middleware: Sequence[Any] | None = None,
        function_invocation_configuration: Any = None,
    ) -> None:
        require_agent_framework()
        if tool_strategy not in ("auto", "route"):
            from edgeagents.errors import InvalidRequestError

            raise InvalidRequestError(f"tool_strategy must be 'auto' or 'route', got {tool_strategy!r}.")
        super().__init__(middleware=middleware, function_invocation_configuration=function_invocation_configuration)
        self.runtime = runtime
        self.tool_strategy = tool_strategy
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.router = ScoredToolRouter(runtime)
        self.model_label = model_label or _runtime_model(runtime)
        self.calls: list[dict[str, Any]] = []  # one record per model call (for traces)

    # -- planning one model call
    def _plan(self, messages: Sequence[Any], options: Mapping[str, Any]) -> tuple[list[OAMessage], dict[str, Any]]:
        oa = to_openai_messages(messages, options.get("instructions"))
        specs = to_openai_tools(options.get("tools"))
        mode, forced = _tool_mode(options.get("tool_choice"))
        kw: dict[str, Any] = {
            "max_tokens": int(options.get("max_tokens") or self.max_tokens),
            "temperature": float(options.get("temperature", self.temperature) or 0.0),
        }
        if options.get("stop"):
            kw["stop"] = options["stop"]
        if options.get("seed") is not None:
            kw["seed"] = options["seed"]
        route = None
        if specs and mode != "none":
            after_tool = bool(oa) and oa[-1]["role"] == "tool"
            if after_tool and self.tool_strategy == "route":
                # a base model cannot hold a chat: it completes a few-shot prompt from the tool result
                last = max((i for i, m in enumerate(oa) if m["role"] == "user"), default=-1)
                last_user = oa[last]["content"] if last >= 0 else ""
                results = " ".join(m["content"] for m in oa[last + 1:] if m["role"] == "tool")
                kw = {"max_tokens": kw["max_tokens"], "stop": ["\n"], "_route": None,
                      "_prompt": answer_prompt(last_user, results)}
                return oa, kw
            if after_tool and (forced or mode == "required"):
                kw["tool_choice"] = "none"  # the forced call has run: now answer, or the loop never ends
            elif forced:
                kw["tool_choice"] = forced
            elif mode == "required":
                kw["tool_choice"] = "required"
            elif self.tool_strategy == "route":
                last_user = next((m["content"] for m in reversed(oa) if m["role"] == "user"), "")
                route = self.router.route(last_user, specs)
                kw["tool_choice"] = route.tool
            else:
                kw["tool_choice"] = "auto"
            kw["tools"] = specs
        if kw.get("tool_choice") not in (None, "auto", "none"):
            kw["max_tokens"] = max(kw["max_tokens"], self.FORCED_CALL_TOKENS)  # a forced call must close its JSON
        kw["_route"] = route
        return oa, kw

    def _run(self, oa: list[OAMessage], kw: dict[str, Any]) -> Result:
        route = kw.pop("_route")
        prompt = kw.pop("_prompt", None)
        start = time.perf_counter()
        result = self.runtime.complete(prompt, **kw) if prompt else self.runtime.chat(oa, **kw)
        self._record(result, kw, route, answered=bool(prompt), start=start)
        return result

    def _record(self, result: Result, kw: Mapping[str, Any], route: RouteDecision | None,
                answered: bool = False, start: float = 0.0) -> None:
        self.calls.append({
            "start": start,
            "end": time.perf_counter(),
            "model": self.model_label,
            "tool_choice": "answer-from-result" if answered else kw.get("tool_choice", "none"),
            "routed_to": route.tool if route else None,
            "route_s": round(route.seconds, 3) if route else 0.0,
            "prompt_tokens": result.usage.prompt_tokens,
            "completion_tokens": result.usage.completion_tokens,
            "total_s": round(result.timings.total_s, 3),
            "tool_calls": [c.name for c in result.tool_calls],
        })

    def _screen(self, result: Result, options: Mapping[str, Any]) -> tuple[list[Any], list[ToolFailure]]:
        """The runtime's tool calls as framework ``function_call`` contents, minus the ones that cannot run.

        A call whose arguments are not a JSON object is refused. For gated course tools, so is a call
        to a tool not on offer or with arguments that break its schema: the framework would reject
        those before the gate, and nothing would log the attempt. Each refusal is written to the gate's
        audit log here; if any call is refused, none of the reply's calls runs (each is logged too).
        """
        specs = {s["function"]["name"]: s for s in to_openai_tools(options.get("tools"))}
        gate = _gate_of(options.get("tools"))
        started = time.perf_counter()
        accepted: list[tuple[Any, dict[str, Any]]] = []
        refused: list[ToolFailure] = []
        for call in result.tool_calls:
            outcome, args = "refused:invalid", {}
            try:
                args = tool_call_arguments(call)
                if gate is not None and call.name not in specs:
                    outcome = "refused:not_allowed" if call.name in TOOL_SPECS else "refused:unknown_tool"
                    raise ToolCallError(f"{call.name!r} is not one of this agent's tools.", tool_name=call.name)
                if gate is not None:
                    args = validate_arguments(specs[call.name], args)
            except ToolCallError as exc:
                refused.append(ToolFailure(str(call.name), exc.message))
                if gate is not None:
                    gate.audit.record(gate.actor, str(call.name), args or call.arguments, outcome, exc.message, started)
                continue
            accepted.append((call, args))
        if refused:
            if gate is not None:
                for call, args in accepted:
                    gate.audit.record(gate.actor, call.name, args, "refused:not_run",
                                      "not run: another call in the same reply was refused", started)
            return [], refused
        return [Content.from_function_call(call.id or f"call_{len(self.calls)}_{i}", call.name, arguments=args)
                for i, (call, args) in enumerate(accepted)], []

    def _malformed(self, exc: ToolCallError, options: Mapping[str, Any], started: float) -> ToolFailure:
        """A tool call the runtime could not even parse: audit the attempt, report it as failed."""
        name = exc.tool_name or "a tool call"
        gate = _gate_of(options.get("tools"))
        if gate is not None:
            gate.audit.record(gate.actor, name, exc.raw or "", "refused:malformed_call", exc.message, started)
        return ToolFailure(name, exc.message)

    def _usage(self, result: Result) -> dict[str, int]:
        return {"input_token_count": result.usage.prompt_tokens, "output_token_count": result.usage.completion_tokens,
                "total_token_count": result.usage.total_tokens}

    # -- the one method a framework chat client implements
    def _inner_get_response(self, *, messages: Sequence[Any], stream: bool, options: Mapping[str, Any],
                            **kwargs: Any) -> Any:
        if stream:
            return self._build_response_stream(self._stream(messages, options))
        return self._respond(messages, options)

    def _outcome(self, result: Result, options: Mapping[str, Any], failures: list[ToolFailure]
                 ) -> tuple[list[Any], str | None]:
        """(function calls to run, or the failure statement that replaces the model's text)."""
        calls, refused = self._screen(result, options)
        if refused or (failures and not calls):
            return [], failure_reply([*failures, *refused])
        return calls, None

    async def _respond(self, messages: Sequence[Any], options: Mapping[str, Any]) -> Any:
        options = await self._validate_options(options)
        failures = turn_failures(messages)
        oa, kw = self._plan(messages, options)
        if failures and kw.get("_prompt"):
            # answering from a failed result: a base model invents a success, so nothing is asked of it
            return ChatResponse(messages=[af.Message("assistant", [failure_reply(failures)])],
                                model=self.model_label, finish_reason="stop")
        started = time.perf_counter()
        try:
            result = self._run(oa, kw)
        except ToolCallError as exc:
            return ChatResponse(messages=[af.Message("assistant", [failure_reply(
                [*failures, self._malformed(exc, options, started)])])], model=self.model_label, finish_reason="stop")
        calls, statement = self._outcome(result, options, failures)
        text = statement if statement is not None else result.text
        return ChatResponse(
            messages=[af.Message("assistant", [*([Content.from_text(text)] if text else []), *calls])],
            model=self.model_label,
            finish_reason="tool_calls" if calls else ("length" if result.finish_reason == "length" and not statement
                                                      else "stop"),
            usage_details=self._usage(result),  # type: ignore[arg-type]
        )

    async def _stream(self, messages: Sequence[Any], options: Mapping[str, Any]) -> AsyncIterator[Any]:
        options = await self._validate_options(options)
        failures = turn_failures(messages)
        oa, kw = self._plan(messages, options)
        route = kw.pop("_route")
        prompt = kw.pop("_prompt", None)
        if failures and prompt:  # as in _respond: a failed result is reported, not answered from
            yield ChatResponseUpdate(role="assistant", contents=[Content.from_text(failure_reply(failures))],
                                     model=self.model_label, finish_reason="stop")
            return
        # text is held back while a forced call is written, and after a failure (the guard may replace it)
        hold = bool(failures) or kw.get("tool_choice") not in (None, "auto", "none")
        watch = kw.get("tool_choice") == "auto" and not prompt  # the model may start a call: never stream its markup
        start = time.perf_counter()
        try:
            s = self.runtime.complete_stream(prompt, **kw) if prompt else self.runtime.chat_stream(oa, **kw)
            pending = ""
            for chunk in s:
                if chunk.text and not hold:
                    text = chunk.text
                    if watch:
                        text, pending, hold = _before_call(pending + text)
                    if text:
                        yield ChatResponseUpdate(role="assistant", contents=[Content.from_text(text)],
                                                 model=self.model_label)
            if pending and not hold:
                yield ChatResponseUpdate(role="assistant", contents=[Content.from_text(pending)],
                                         model=self.model_label)
        except ToolCallError as exc:
            statement = failure_reply([*failures, self._malformed(exc, options, start)])
            yield ChatResponseUpdate(role="assistant", contents=[Content.from_text(statement)],
                                     model=self.model_label, finish_reason="stop")
            return
        result = s.result
        assert result is not None
        self._record(result, kw, route, answered=bool(prompt), start=start)
        calls, statement = self._outcome(result, options, failures)
        text = statement or ""
        final = [*([Content.from_text(text)] if text else []), *calls]
        if hasattr(Content, "from_usage"):
            final.append(Content.from_usage(self._usage(result)))
        yield ChatResponseUpdate(role="assistant", contents=final, model=self.model_label,
                                 finish_reason="tool_calls" if calls else "stop")


def _before_call(text: str) -> tuple[str, str, bool]:
    """Split streamed text at a ``<tool_call>`` marker: (text to show, tail held back, a call has begun).

    A tail that could still grow into the marker is held back until the next chunk decides it.
    """
    cut = text.find(TOOL_CALL_OPEN)
    if cut >= 0:
        return text[:cut], "", True
    keep = next((n for n in range(min(len(text), len(TOOL_CALL_OPEN) - 1), 0, -1)
                 if TOOL_CALL_OPEN.startswith(text[-n:])), 0)
    return text[:len(text) - keep], text[len(text) - keep:], False


def _runtime_model(runtime: Any) -> str:
    spec = getattr(runtime, "spec", None)
    if spec is not None and getattr(spec, "label", None):
        return str(spec.label)
    return str(getattr(runtime, "model", None) or getattr(runtime, "name", "runtime"))


# ---------------------------------------------------------------------- tools and middleware
def framework_tools(tools: Any) -> list[Any]:
    """The allowed :class:`~edgeagents.agents.tools.BusinessTools` as framework ``FunctionTool`` objects.

    Each tool keeps the course JSON schema (patterns, enums) and calls ``tools.call_text``, so
    the allowlist, validation, approval, redaction and audit all still apply. Each function
    carries its gate (:data:`GATE_ATTRIBUTE`), so :class:`EdgeChatClient` can audit the calls it
    refuses before they reach it.
    """
    require_agent_framework()
    out = []
    for spec in tools.specs():
        fn = spec["function"]
        out.append(FunctionTool(name=fn["name"], description=fn["description"], func=_gated(tools, fn["name"]),
                                input_model=fn["parameters"]))
    return out


def _gated(tools: Any, name: str) -> Callable[..., str]:
    """A function the framework can call: it goes through the gate of ``tools``."""

    def call(**kwargs: Any) -> str:
        return tools.call_text(name, kwargs)

    call.__name__ = name
    setattr(call, GATE_ATTRIBUTE, tools)
    return call


@dataclass
class TraceEvent:
    agent: str
    kind: str  # "model" | "tool" | "route" | "refused"
    name: str
    start: float
    end: float
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.end - self.start


class ToolTrace(FunctionMiddleware):  # type: ignore[misc]
    """Function middleware: records every tool call the framework runs, and prints it if ``echo``.

    A call that failed (the tool raised, or returned ``{"error": ...}``) is recorded too, with
    ``detail["error"]``; a raised exception then goes on to the framework, which reports it to the
    model as an error result.
    """

    def __init__(self, agent: str = "agent", *, echo: bool = True, events: list[TraceEvent] | None = None) -> None:
        self.agent = agent
        self.echo = echo
        self.events: list[TraceEvent] = events if events is not None else []

    async def process(self, context: Any, call_next: Callable[[], Awaitable[None]]) -> None:
        name = context.function.name
        args = dict(context.arguments) if isinstance(context.arguments, Mapping) else context.arguments
        if hasattr(args, "model_dump"):
            args = args.model_dump()
        t0 = time.perf_counter()
        try:
            await call_next()
        except Exception as exc:
            self._add(name, args, t0, "", _first_line(str(exc) or type(exc).__name__))
            raise
        result = context.result
        if isinstance(result, list):
            result = "".join(getattr(c, "text", "") or "" for c in result)
        self._add(name, args, t0, str(result), _error_in(str(result)))

    def _add(self, name: str, args: Any, t0: float, result: str, error: str | None) -> None:
        detail: dict[str, Any] = {"arguments": args, "result": result}
        if error is not None:
            detail["error"] = error
        self.events.append(TraceEvent(self.agent, "tool", name, t0, time.perf_counter(), detail))
        if self.echo:
            shown = f"failed: {error}" if error is not None else result
            print(f"  🔧 {self.agent} → {name}({json.dumps(args, ensure_ascii=False, default=str)}) → {shown[:140]}")


class InputGuard(AgentMiddleware):  # type: ignore[misc]
    """Agent middleware: validate the user's message; refuse (and audit) injection attempts.

    A refused request never reaches the model: the agent answers with a fixed refusal and the
    audit log gets a ``refused:suspicious_input`` row naming what was detected.
    """

    REFUSAL = "I can't help with that request. It has been logged for review."

    def __init__(self, tools: Any, actor: str = "agent") -> None:
        self.tools = tools
        self.actor = actor

    async def process(self, context: Any, call_next: Callable[[], Awaitable[None]]) -> None:
        from edgeagents.agents.security import check_user_input

        last = next((m for m in reversed(context.messages) if str(m.role) == "user"), None)
        text = last.text if last is not None else ""
        started = time.perf_counter()
        check = check_user_input(text or " .")
        if check.suspicious:
            self.tools.audit.record(self.actor, "<user input>", {"text": check.text[:200]},
                                    "refused:suspicious_input", ", ".join(check.flags), started)
            context.result = af.AgentResponse(messages=[af.Message("assistant", [self.REFUSAL])])
            return
        await call_next()


__all__ = [
    "EdgeChatClient", "ScoredToolRouter", "RouteDecision", "framework_tools", "ToolTrace", "InputGuard",
    "TraceEvent", "ToolFailure", "failure_reply", "turn_failures", "result_error", "tool_call_arguments",
    "to_openai_messages", "to_openai_tools", "HAVE_AGENT_FRAMEWORK", "INSTALL_HINT",
    "require_agent_framework", "agent_framework_versions",
]
