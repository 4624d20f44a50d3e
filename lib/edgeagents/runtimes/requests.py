"""Checks every runtime applies to a request before sending it anywhere.

Runtimes call these first, so bad input gets the same typed error on every backend.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from edgeagents.errors import InvalidRequestError, ToolCallError
from edgeagents.runtimes.base import Message, ToolChoice, ToolSpec

VALID_ROLES = {"system", "user", "assistant", "tool"}
TOOL_NAME_PATTERN = "^[a-zA-Z0-9_-]{1,64}$"  # OpenAI's rule for function names
_TOOL_NAME_RE = re.compile(r"[a-zA-Z0-9_-]{1,64}")
JSON_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})


def check_text(text: Any, what: str = "prompt", *, allow_empty: bool = False) -> str:
    """A prompt must be a non-empty str, encodable as UTF-8, without NUL characters."""
    if not isinstance(text, str):
        raise InvalidRequestError(
            f"The {what} must be text (str), not {type(text).__name__}.",
            hint=f"Pass the {what} as a Python string.",
        )
    if not allow_empty and not text.strip():
        raise InvalidRequestError(f"The {what} is empty.", hint=f"Write something in the {what}.")
    if "\x00" in text:
        raise InvalidRequestError(
            f"The {what} contains a NUL character (\\x00), which no tokenizer accepts.",
            hint="Remove NUL characters, e.g. text.replace('\\x00', '').",
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequestError(
            f"The {what} is not valid Unicode: {exc.reason} at position {exc.start}.",
            hint="This usually means a lone surrogate; clean the text with "
            "text.encode('utf-8', 'replace').decode('utf-8').",
        ) from None
    return text


def check_max_tokens(max_tokens: Any) -> int:
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise InvalidRequestError(f"max_tokens must be an int, not {max_tokens!r}.")
    if max_tokens <= 0:
        raise InvalidRequestError(
            f"max_tokens must be at least 1, not {max_tokens}.", hint="Ask for 1 or more new tokens."
        )
    return max_tokens


def check_stop(stop: Any) -> list[str]:
    """The stop strings as a list (``None``: none; one string: a list of it), each non-empty text."""
    if stop is None:
        return []
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, (list, tuple)):
        raise InvalidRequestError(f"stop must be a string or a list of strings, not {type(stop).__name__}.")
    for s in stops:
        if not check_text(s, "stop string", allow_empty=True):
            raise InvalidRequestError("A stop string is empty.", hint="Remove it, or use e.g. stop=['\\n'].")
    return list(stops)


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_sampling(temperature: Any, top_p: Any, top_k: Any) -> None:
    if not _is_finite_number(temperature) or temperature < 0:
        raise InvalidRequestError(f"temperature must be a finite number >= 0, not {temperature!r}.",
                                  hint="Use 0 for greedy decoding, or a value such as 0.7 to sample.")
    if not _is_finite_number(top_p) or not 0 < top_p <= 1:
        raise InvalidRequestError(f"top_p must be a number in (0, 1], not {top_p!r}.", hint="Use 1.0 to keep every token.")
    if not isinstance(top_k, int) or top_k < 0:
        raise InvalidRequestError(f"top_k must be an int >= 0 (0 means no limit), not {top_k!r}.")


def check_messages(messages: Any) -> list[Message]:
    """Messages must be a non-empty list of OpenAI-shaped dicts with known roles."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence) or not messages:
        raise InvalidRequestError(
            "messages must be a non-empty list of {'role': ..., 'content': ...} dicts.",
            hint='Example: [{"role": "user", "content": "Hello"}]',
        )
    out: list[Message] = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or "role" not in msg:
            raise InvalidRequestError(f"messages[{i}] is not a dict with a 'role'.")
        role = msg["role"]
        if role not in VALID_ROLES:
            raise InvalidRequestError(
                f"messages[{i}] has role {role!r}; roles are system, user, assistant and tool."
            )
        content = msg.get("content")
        has_calls = bool(msg.get("tool_calls"))
        if content is None and not has_calls:
            raise InvalidRequestError(f"messages[{i}] ({role}) has no content.")
        if content is not None:
            check_text(content, f"content of messages[{i}]", allow_empty=has_calls or role == "tool")
        out.append(msg)
    if not any(m["role"] == "user" for m in out):
        raise InvalidRequestError("The conversation has no user message.", hint="Add {'role': 'user', 'content': ...}.")
    return out


def tool_names(tools: Sequence[ToolSpec] | None) -> list[str]:
    return [t["function"]["name"] for t in tools or []]


def check_tool_name(name: Any, where: str) -> str:
    """A tool name must match OpenAI's pattern, so every backend and the call parser read it the same way."""
    if not isinstance(name, str) or not _TOOL_NAME_RE.fullmatch(name):
        raise InvalidRequestError(
            f"{where} names the tool {name!r}, which does not match {TOOL_NAME_PATTERN}.",
            hint="Use 1 to 64 letters, digits, '_' or '-', e.g. 'lookup_order'.",
        )
    return name


def check_tools(tools: Any) -> list[ToolSpec]:
    if tools is None:
        return []
    if not isinstance(tools, Sequence) or isinstance(tools, (str, bytes)):
        raise InvalidRequestError("tools must be a list of OpenAI tool dicts.")
    out = []
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise InvalidRequestError(
                f"tools[{i}] is not {{'type': 'function', 'function': {{'name': ..., 'parameters': ...}}}}."
            )
        check_tool_name(fn["name"], f"tools[{i}]")
        params = fn.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(params, dict):
            raise InvalidRequestError(f"tools[{i}] ({fn['name']}) has parameters that are not a JSON schema dict.")
        _check_schema_node(params, f"tools[{i}].function.parameters")
        out.append({"type": "function", "function": {**fn, "parameters": params}})
    return out


def resolve_tool_choice(tools: Sequence[ToolSpec], tool_choice: ToolChoice) -> tuple[str, str | None]:
    """Normalise ``tool_choice`` into (mode, forced tool name). Mode is auto, none, required or named."""
    if not tools:
        if tool_choice in ("auto", "none", None):
            return "none", None
        raise InvalidRequestError("tool_choice was given but no tools were.", hint="Pass tools=[...] as well.")
    names = tool_names(tools)
    if tool_choice in (None, "auto"):
        return "auto", None
    if tool_choice in ("none", "required"):
        return str(tool_choice), None
    if isinstance(tool_choice, dict):
        fn = tool_choice.get("function")
        name = fn.get("name") if isinstance(fn, dict) else None
    else:
        name = tool_choice
    check_tool_name(name, "tool_choice")
    if name not in names:
        raise ToolCallError(
            f"tool_choice names {name!r}, which is not one of the tools: {', '.join(names)}.",
            tool_name=name,
            hint="Name one of the tools you passed.",
        )
    return "named", name


def check_json_schema(schema: Any) -> dict[str, Any]:
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as exc:
            raise InvalidRequestError(f"json_schema is not valid JSON: {exc.msg}.") from None
    if not isinstance(schema, dict) or not schema:
        raise InvalidRequestError(
            "json_schema must be a non-empty JSON schema dict.",
            hint='Example: {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}',
        )
    _check_schema_node(schema, "json_schema")
    try:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError
    except ImportError:  # jsonschema comes with the lab extra only; the checks above stand on their own
        return schema
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.path)
        raise InvalidRequestError(f"json_schema{where} is not a valid JSON schema: {exc.message[:300]}") from None
    return schema


_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("anyOf", "allOf", "oneOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames")


def _check_schema_node(schema: Any, path: str) -> None:
    """Reject the structural mistakes that would make a schema mean something else, with where they are."""
    if isinstance(schema, bool):  # true / false are valid schemas
        return
    if not isinstance(schema, dict):
        raise InvalidRequestError(f"{path} must be a JSON schema object, not {schema!r}.")
    hint = 'Example: {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}'
    if "type" in schema:
        kind = schema["type"]
        kinds = kind if isinstance(kind, list) else [kind]
        if not kinds or any(not isinstance(k, str) or k not in JSON_TYPES for k in kinds):
            raise InvalidRequestError(
                f"{path}.type is {kind!r}; JSON schema types are {sorted(JSON_TYPES)} (one, or a list of them).",
                hint=hint,
            )
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise InvalidRequestError(f"{path}.required must be a list of property names, not {required!r}.", hint=hint)
    if "enum" in schema and not isinstance(schema["enum"], list):
        raise InvalidRequestError(f"{path}.enum must be a list of allowed values, not {schema['enum']!r}.", hint=hint)
    for key in _SCHEMA_MAPS:
        if key in schema:
            sub = schema[key]
            if not isinstance(sub, dict):
                raise InvalidRequestError(f"{path}.{key} must be an object of schemas, not {sub!r}.", hint=hint)
            for name, child in sub.items():
                _check_schema_node(child, f"{path}.{key}.{name}")
    for key in _SCHEMA_LISTS:
        if key in schema:
            sub = schema[key]
            if not isinstance(sub, list) or not sub:
                raise InvalidRequestError(f"{path}.{key} must be a non-empty list of schemas, not {sub!r}.", hint=hint)
            for i, child in enumerate(sub):
                _check_schema_node(child, f"{path}.{key}[{i}]")
    for key in _SCHEMA_ONE:
        if key in schema:
            _check_schema_node(schema[key], f"{path}.{key}")


def schema_from_response_format(response_format: Any) -> dict[str, Any] | None:
    """Accept OpenAI's ``response_format`` ({"type": "json_schema", "json_schema": {"schema": ...}})."""
    if response_format is None:
        return None
    if not isinstance(response_format, dict):
        raise InvalidRequestError("response_format must be a dict.")
    kind = response_format.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        schema = response_format.get("schema")
        return check_json_schema(schema) if schema else {"type": "object"}
    if kind == "json_schema":
        inner = response_format.get("json_schema") or {}
        return check_json_schema(inner.get("schema", inner))
    raise InvalidRequestError(f"response_format type {kind!r} is not text, json_object or json_schema.")


def _check_number(value: Any, name: str) -> float:
    if not _is_finite_number(value) or value < 0:
        raise InvalidRequestError(f"{name} must be a finite number >= 0, not {value!r}.")
    return float(value)


@dataclass(frozen=True)
class GenerationOptions:
    """One request's generation options, checked, with the defaults every runtime shares.

    The in-process runtimes use every field. The HTTP runtimes (OpenAI-compatible, Ollama) send the server
    ``max_tokens`` and ``temperature`` and otherwise only what the caller passed (:meth:`given_values`), so
    the server's own defaults (an Ollama Modelfile's ``top_k``, say) apply to the rest.
    """

    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    seed: Any = None
    stop: tuple[str, ...] = ()
    json_schema: dict[str, Any] | None = None  # from json_schema=, or else from response_format=
    grammar: str | None = None
    logprobs: int | None = None  # the number of alternatives per token; None: no log-probabilities
    response_format: Any = None  # as the caller wrote it: an OpenAI endpoint gets it unchanged
    given: frozenset[str] = field(default=frozenset(), compare=False)

    NAMES: ClassVar[frozenset[str]] = frozenset({
        "max_tokens", "temperature", "top_p", "top_k", "min_p", "repeat_penalty", "seed", "stop",
        "json_schema", "grammar", "logprobs", "response_format",
    })

    @classmethod
    def parse(cls, options: Mapping[str, Any], *, runtime: str, known: Collection[str] | None = None,
              defaults: Mapping[str, Any] | None = None) -> GenerationOptions:
        """Check ``options`` (a request's keyword arguments) against the options ``runtime`` knows.

        ``defaults`` replaces some of the shared defaults, for a backend whose own must stay as they are.
        """
        known = cls.NAMES if known is None else frozenset(known)
        unknown = set(options) - known
        if unknown:
            raise InvalidRequestError(
                f"Unknown option(s) {sorted(unknown)} for {runtime}.", hint=f"Known options: {sorted(known)}."
            )
        base = {f.name: f.default for f in fields(cls) if f.name != "given"}
        values = {**base, **(defaults or {}), **options}
        max_tokens = check_max_tokens(values["max_tokens"])
        check_sampling(values["temperature"], values["top_p"], values["top_k"])
        stop = tuple(check_stop(options.get("stop")))
        schema = options.get("json_schema")
        from_format = schema_from_response_format(options.get("response_format"))
        schema = check_json_schema(schema) if schema is not None else from_format
        grammar = options.get("grammar")
        if grammar is not None:
            if schema is not None:
                raise InvalidRequestError("Pass json_schema or grammar, not both.")
            grammar = check_text(grammar, "grammar")
        logprobs = options.get("logprobs")
        if logprobs is True:
            logprobs = 0
        elif logprobs is False:
            logprobs = None
        if logprobs is not None and (not isinstance(logprobs, int) or not 0 <= logprobs <= 20):
            raise InvalidRequestError("logprobs must be True or a number of alternatives from 0 to 20.")
        return cls(
            max_tokens=max_tokens,
            temperature=float(values["temperature"]),
            top_p=float(values["top_p"]),
            top_k=int(values["top_k"]),
            min_p=_check_number(values["min_p"], "min_p"),
            repeat_penalty=_check_number(values["repeat_penalty"], "repeat_penalty"),
            seed=values["seed"],
            stop=stop,
            json_schema=schema,
            grammar=grammar,
            logprobs=logprobs,
            response_format=options.get("response_format"),
            given=frozenset(options),
        )

    def given_values(self, *names: str) -> dict[str, Any]:
        """The options among ``names`` that the caller passed (not None), as parsed."""
        return {n: (list(v) if isinstance(v, tuple) else v) for n in names
                if n in self.given and (v := getattr(self, n)) is not None}
