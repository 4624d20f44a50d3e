"""The JSON schema of a tool call, and the schema features a call grammar cannot enforce.

A runtime that constrains tool calls turns :func:`call_schema` into a grammar (llama.cpp:
``llama_cpp.llama_grammar.json_schema_to_gbnf``). That converter enforces types, ``properties``,
``required``, ``enum``, ``const``, ``items``/``prefixItems``, ``minItems``/``maxItems``,
``minLength``/``maxLength``, anchored ``pattern``, ``anyOf``, ``$ref``/``$defs`` and
``additionalProperties``; a missing ``additionalProperties`` means *no unknown keys*. ``oneOf``
is enforced as ``anyOf``. ``format`` is enforced for date, time, date-time and uuid, and is
otherwise a note (as JSON Schema allows).

It rejects some schemas itself (an unanchored ``pattern``, a remote ``$ref``) and silently drops
others: ``minimum``/``maximum`` (checked after the call is parsed instead), the keywords in
:data:`UNENFORCED_KEYWORDS`, and any constraint next to a ``$ref``, an
``anyOf``/``oneOf`` or a list of types. :func:`unenforced_features` finds those, so a runtime
can refuse them instead of promising calls it cannot guarantee.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edgeagents.runtimes.base import ToolSpec

# ``minimum``/``maximum`` are not here: the grammar cannot hold a number in a range, but every parsed
# call is checked against them afterwards (toolcalls.schema_errors), so a call out of range is a
# ToolCallError, never a silent pass. Refusing them would refuse most everyday tools.
UNENFORCED_KEYWORDS = (
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "patternProperties", "propertyNames", "minProperties", "maxProperties",
    "dependentRequired", "dependentSchemas", "dependencies", "unevaluatedProperties",
    "uniqueItems", "contains", "minContains", "maxContains", "additionalItems", "unevaluatedItems",
    "not", "if", "then", "else", "allOf",
)
# Keywords that narrow a value; the converter drops them next to a $ref, a union or a list of types.
_CONSTRAINTS = (
    "enum", "const", "properties", "required", "items", "prefixItems", "pattern", "format",
    "minLength", "maxLength", "minItems", "maxItems", "additionalProperties",
)


def call_schema(tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """``{"name": <one of the tools>, "arguments": <that tool's parameters>}`` as one JSON schema."""
    schemas = [
        {
            "type": "object",
            "properties": {
                "name": {"const": t["function"]["name"]},
                "arguments": t["function"].get("parameters") or {"type": "object"},
            },
            "required": ["name", "arguments"],
        }
        for t in tools
    ]
    return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}


def unenforced_features(schema: Any, path: str = "arguments") -> list[str]:
    """Where ``schema`` uses a feature the call grammar would not enforce, as ``"path: keyword"`` lines."""
    if not isinstance(schema, dict):
        return []
    found = [f"{path}: {key}" for key in UNENFORCED_KEYWORDS if key in schema]
    for branch in ("$ref", "anyOf", "oneOf", "type"):
        if branch in schema and (branch != "type" or isinstance(schema["type"], list)):
            found += [f"{path}: {key} next to {branch}" for key in _CONSTRAINTS if key in schema]
            break
    props = schema.get("properties")
    if isinstance(props, dict):
        found += [f"{path}: required key {k!r} is not in properties" for k in schema.get("required", []) if k not in props]
        for name, sub in props.items():
            found += unenforced_features(sub, f"{path}.{name}")
    if ("minItems" in schema or "maxItems" in schema) and "items" not in schema and "prefixItems" not in schema:
        found.append(f"{path}: minItems/maxItems without items")
    items = schema.get("items")
    for i, sub in enumerate(items if isinstance(items, list) else [items]):
        found += unenforced_features(sub, f"{path}[{i}]" if isinstance(items, list) else f"{path}[]")
    for i, sub in enumerate(schema.get("prefixItems") or []):
        found += unenforced_features(sub, f"{path}[{i}]")
    found += unenforced_features(schema.get("additionalProperties"), f"{path}.*")
    for key in ("anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(key) or []):
            found += unenforced_features(sub, f"{path}.{key}[{i}]")
    for key in ("$defs", "definitions"):
        for name, sub in (schema.get(key) or {}).items():
            found += unenforced_features(sub, f"{path}.{key}.{name}")
    return found


def unenforced_tool_features(tools: Sequence[ToolSpec]) -> list[str]:
    """:func:`unenforced_features` over every tool's parameters, each line naming its tool."""
    return [
        f"{t['function']['name']}.{line}"
        for t in tools
        for line in unenforced_features(t["function"].get("parameters") or {})
    ]
