"""Turning a model's ``<tool_call>`` text into OpenAI-shaped tool calls, and checking them.

This is the one place where tool-call text is parsed; every runtime wrapper uses it.
Bad output becomes a :class:`~edgeagents.errors.ToolCallError` that keeps the raw text.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from edgeagents.errors import ToolCallError
from edgeagents.runtimes.base import ToolCall, ToolSpec
from edgeagents.runtimes.chat_template import TOOL_CALL_CLOSE, TOOL_CALL_OPEN

_CALL_RE = re.compile(re.escape(TOOL_CALL_OPEN) + r"(.*?)(" + re.escape(TOOL_CALL_CLOSE) + r"|$)", re.S)

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:12]}"


def schema_errors(schema: dict[str, Any], value: Any, path: str = "arguments") -> list[str]:
    """The ways ``value`` breaks ``schema`` (a practical subset of JSON Schema), as readable strings."""
    errors: list[str] = []
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds] if kinds else []
    if kinds:
        ok = False
        for kind in kinds:
            types = _JSON_TYPES.get(kind, (object,))
            if isinstance(value, types) and not (kind in ("integer", "number") and isinstance(value, bool)):
                ok = True
        if not ok:
            return [f"{path} should be {' or '.join(kinds)}, got {type(value).__name__} {value!r}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path} should be one of {schema['enum']}, got {value!r}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path} should be {schema['const']!r}, got {value!r}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(f"{path} is shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path} is longer than {schema['maxLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path} does not match the pattern {schema['pattern']!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path} is above the maximum {schema['maximum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path}.{name} is required but missing")
        for name, sub in value.items():
            if name in props:
                errors.extend(schema_errors(props[name], sub, f"{path}.{name}"))
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}.{name} is not an allowed argument")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            errors.extend(schema_errors(schema["items"], item, f"{path}[{i}]"))
    return errors


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON lets the last duplicate win, so a second "name" or "arguments" could swap the tool that runs.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _no_constant(token: str) -> Any:
    raise json.JSONDecodeError(f"{token} is not a JSON number", token, 0)


def _strict_loads(text: str, what: str, *, raw: str, tool_name: str | None = None) -> Any:
    """Parse exactly one JSON value: no duplicate keys at any depth, no NaN or Infinity, nothing after it."""
    try:
        # strict=False: a raw newline inside a string is a slip of the model, not a broken call
        return json.loads(text, strict=False, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except _DuplicateKey as exc:
        raise ToolCallError(f"{what} has the key {exc.key!r} twice: {text[:120]!r}", raw=raw, tool_name=tool_name) from None
    except RecursionError:
        raise ToolCallError(f"{what} is nested too deeply to read: {text[:120]!r}", raw=raw, tool_name=tool_name) from None
    except json.JSONDecodeError as exc:
        problem = "has more text after the JSON object" if exc.msg == "Extra data" else f"is not valid JSON ({exc.msg})"
        raise ToolCallError(f"{what} {problem}: {text[:120]!r}", raw=raw, tool_name=tool_name) from None


def tool_call(name: Any, arguments: Any, tools: Sequence[ToolSpec] | None, *, raw: str | None = None) -> ToolCall:
    """Build a validated :class:`ToolCall` from a tool name and its arguments (a dict, or a JSON string).

    A string is parsed on its own and must hold exactly one JSON object; an empty string means no
    arguments. With ``tools`` given (``None`` skips the check), the name must be one of them and the
    arguments must fit that tool's schema. Anything else is a :class:`ToolCallError`.
    """
    if not isinstance(name, str) or not name:
        raise ToolCallError(f"The tool call has no 'name': {name!r}", raw=raw or "")
    if raw is None:
        raw = arguments if isinstance(arguments, str) else ""
    what = f"The arguments of {name!r}"
    if isinstance(arguments, Mapping):
        # a copy that is plain JSON: the call must survive json.dumps when it is sent back to a model
        try:
            text = json.dumps(dict(arguments), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ToolCallError(f"{what} are not plain JSON ({exc}).", raw=raw, tool_name=name) from None
        arguments = _strict_loads(text, what, raw=raw, tool_name=name)
    elif isinstance(arguments, str):
        arguments = _strict_loads(arguments, what, raw=raw, tool_name=name) if arguments.strip() else {}
    if not isinstance(arguments, dict):
        raise ToolCallError(f"{what} are not a JSON object: {arguments!r}", raw=raw, tool_name=name)
    if tools is not None:
        specs = {t["function"]["name"]: t["function"] for t in tools}
        if name not in specs:
            raise ToolCallError(
                f"The model called {name!r}, which is not one of the tools: {', '.join(specs) or 'none'}.",
                raw=raw,
                tool_name=name,
            )
        problems = schema_errors(specs[name].get("parameters") or {}, arguments)
        if problems:
            raise ToolCallError(
                f"The call to {name!r} has bad arguments: {'; '.join(problems)}.", raw=raw, tool_name=name
            )
    return ToolCall(name=name, arguments=arguments, id=new_call_id())


def parse_call_json(body: str, tools: Sequence[ToolSpec] | None = None, *, raw: str | None = None) -> ToolCall:
    """Parse one ``{"name": ..., "arguments": {...}}`` object and validate it against ``tools``."""
    raw = raw if raw is not None else body
    data = _strict_loads(body, "The tool call", raw=raw)
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise ToolCallError(f"The tool call has no 'name': {body[:120]!r}", raw=raw)
    if "arguments" in data and "parameters" in data:
        raise ToolCallError(
            f"The tool call has both 'arguments' and 'parameters': {body[:120]!r}", raw=raw, tool_name=data["name"]
        )
    # some servers double-encode the arguments as a JSON string; tool_call parses that on its own
    return tool_call(data["name"], data.get("arguments", data.get("parameters", {})), tools, raw=raw)


def parse_tool_calls(text: str, tools: Sequence[ToolSpec] | None = None) -> tuple[str, list[ToolCall]]:
    """Split a reply into its plain text and its tool calls.

    Raises :class:`ToolCallError` when a ``<tool_call>`` block is truncated, is not JSON,
    names an unknown tool, or has arguments that break the tool's schema.
    """
    calls: list[ToolCall] = []
    for match in _CALL_RE.finditer(text):
        body, closing = match.group(1).strip(), match.group(2)
        if not closing:
            raise ToolCallError(f"The tool call was cut off before {TOOL_CALL_CLOSE}: {body[:120]!r}", raw=text)
        calls.append(parse_call_json(body, tools, raw=text))
    content = _CALL_RE.sub("", text).strip() if calls else text
    return content, calls


def validate_arguments(tool: ToolSpec, arguments: Any) -> dict[str, Any]:
    """Check arguments (a dict or a JSON string) against one tool's schema; return them as a dict."""
    return tool_call(tool["function"]["name"], arguments, [tool]).arguments
