"""Python functions as OpenAI-shaped tools, and running a model's tool call safely."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args, get_origin, get_type_hints

from edgeagents.errors import ToolCallError
from edgeagents.runtimes.base import ToolCall, ToolSpec
from edgeagents.runtimes.toolcalls import validate_arguments

_PY_TO_JSON = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array"}


def _schema_for(annotation: Any) -> dict[str, Any]:
    if get_origin(annotation) is Literal:
        values = list(get_args(annotation))
        return {"type": _PY_TO_JSON.get(type(values[0]), "string"), "enum": values}
    origin = get_origin(annotation) or annotation
    return {"type": _PY_TO_JSON.get(origin, "string")}


def function_tool(fn: Callable[..., Any]) -> ToolSpec:
    """Describe a typed Python function as an OpenAI tool (name, docstring, JSON schema of its parameters).

    >>> def lookup_order(order_id: str) -> str:
    ...     "Find an order by its id, e.g. ORD-1001."
    >>> function_tool(lookup_order)["function"]["parameters"]["required"]
    ['order_id']
    """
    hints = get_type_hints(fn)
    props: dict[str, Any] = {}
    required: list[str] = []
    for name, param in inspect.signature(fn).parameters.items():
        props[name] = _schema_for(hints.get(name, str))
        if param.default is inspect.Parameter.empty:
            required.append(name)
    doc = inspect.getdoc(fn) or ""
    return {
        "type": "function",
        "function": {
            "name": fn.__name__,
            "description": doc.split("\n\n")[0],
            "parameters": {"type": "object", "properties": props, "required": required, "additionalProperties": False},
        },
    }


def run_tool_call(call: ToolCall, functions: Mapping[str, Callable[..., Any]]) -> str:
    """Run one tool call against a dict of Python functions; return the result as text for the model.

    Unknown tools, bad arguments and tools that raise all become :class:`ToolCallError`.
    """
    fn = functions.get(call.name)
    if fn is None:
        raise ToolCallError(f"No tool named {call.name!r}; known: {', '.join(functions)}.", tool_name=call.name)
    args = validate_arguments(function_tool(fn), call.arguments)
    try:
        value = fn(**args)
    except Exception as exc:
        raise ToolCallError(
            f"The tool {call.name!r} raised {type(exc).__name__}: {exc}",
            tool_name=call.name,
            hint="Send the error back to the model as the tool result, or fix the arguments and retry.",
        ) from exc
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
