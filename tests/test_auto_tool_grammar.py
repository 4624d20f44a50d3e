"""Automatic tool calls under a grammar (llama.cpp in-process): the model decides whether to call,
and a call it starts names an offered tool with arguments that match its schema."""

from __future__ import annotations

import pytest

from edgeagents.errors import InvalidRequestError, ToolCallError
from edgeagents.runtimes.chat_template import TOOL_CALL_CLOSE, TOOL_CALL_OPEN
from edgeagents.runtimes.tool_grammar import unenforced_features, unenforced_tool_features
from edgeagents.runtimes.toolcalls import schema_errors


def _tool(name: str, description: str, parameters: dict) -> dict:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


# Tools the course adapter never saw in training.
UNSEEN = [
    _tool("convert_temperature", "Convert a temperature to the other unit.", {
        "type": "object",
        "properties": {"value": {"type": "number"}, "unit": {"type": "string", "enum": ["C", "F"]}},
        "required": ["value", "unit"],
    }),
    _tool("add_to_playlist", "Add songs to the user's playlist.", {
        "type": "object",
        "properties": {"songs": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 5}},
        "required": ["songs"],
    }),
    _tool("book_table", "Book a restaurant table.", {
        "type": "object",
        "properties": {
            "restaurant": {"type": "string"},
            "party": {
                "type": "object",
                "properties": {"adults": {"type": "integer"}, "children": {"type": "integer"}},
                "required": ["adults"],
            },
            "note": {"type": "string"},
        },
        "required": ["restaurant", "party"],
    }),
]
SPECS = {t["function"]["name"]: t["function"]["parameters"] for t in UNSEEN}

# Requests where the course model starts a call; written freely, each of these calls breaks its schema.
CALL_PROMPTS = [
    "Add the songs Yesterday and Hey Jude to my playlist.",
    "Add Yesterday and Let It Be to my playlist.",
    "Book a table at Nando's for 3 adults.",
    "Book a table at Chez Paul for two adults and two children, note: birthday.",
]


def _messages(prompt: str) -> list[dict]:
    return [{"role": "system", "content": "Use a tool when one fits."}, {"role": "user", "content": prompt}]


def _unknown_keys(schema: dict, value: object, path: str = "arguments") -> list[str]:
    """Keys the schema does not define, at any depth (schema_errors only checks them under additionalProperties: false)."""
    if not isinstance(value, dict):
        return []
    props = schema.get("properties", {})
    out = [f"{path}.{k}" for k in value if k not in props]
    for k, v in value.items():
        if k in props:
            out += _unknown_keys(props[k], v, f"{path}.{k}")
    return out


@pytest.fixture(scope="module")
def course():
    from edgeagents.runtimes import open_runtime

    rt = open_runtime(n_ctx=1024, n_threads=1)
    if rt.spec.adapter_path is None:
        rt.close()
        pytest.skip("the course adapter is not installed")
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def outcomes(course):
    """Each call prompt streamed with the grammar on and off: (streamed text, Result or ToolCallError)."""
    out = {}
    for prompt in CALL_PROMPTS:
        for grammar in (True, False):
            stream = course.chat_stream(_messages(prompt), tools=UNSEEN, max_tokens=120, tool_grammar=grammar)
            try:
                raw = "".join(chunk.text for chunk in stream)
                out[prompt, grammar] = (raw, stream.result)
            except ToolCallError as exc:
                out[prompt, grammar] = (exc.raw or "", exc)
    return out


# ---------------------------------------------------------------- with the real course model
def test_every_started_call_is_valid_under_the_grammar(outcomes):
    for prompt in CALL_PROMPTS:
        raw, result = outcomes[prompt, True]
        assert TOOL_CALL_OPEN in raw, prompt  # the model chose to call ...
        assert not isinstance(result, ToolCallError), f"{prompt}: {result}"
        (call,) = result.tool_calls  # ... and the call is valid
        assert call.name in SPECS
        assert schema_errors(SPECS[call.name], call.arguments) == [], (prompt, call)
        assert _unknown_keys(SPECS[call.name], call.arguments) == [], (prompt, call)
        assert result.finish_reason == "tool_calls"


def test_without_the_grammar_the_same_calls_are_written_freely(outcomes):
    """tool_grammar=False is the unconstrained path: the model starts the same calls, and breaks schemas."""
    broken = 0
    for prompt in CALL_PROMPTS:
        raw, result = outcomes[prompt, False]
        assert TOOL_CALL_OPEN in raw, prompt
        broken += isinstance(result, ToolCallError)
    assert broken >= 1


def test_the_stream_holds_both_phases_and_matches_chat(course, outcomes):
    prompt = CALL_PROMPTS[2]
    raw, streamed = outcomes[prompt, True]
    assert raw.endswith(TOOL_CALL_CLOSE) and raw.count(TOOL_CALL_OPEN) == 1
    chat = course.chat(_messages(prompt), tools=UNSEEN, max_tokens=120)
    assert chat.text == streamed.text
    assert [(c.name, c.arguments) for c in chat.tool_calls] == [(c.name, c.arguments) for c in streamed.tool_calls]
    # usage and timings cover the free phase and the constrained call
    body = raw[raw.index(TOOL_CALL_OPEN) + len(TOOL_CALL_OPEN): -len(TOOL_CALL_CLOSE)]
    assert chat.usage.completion_tokens > len(course.tokenize(body, add_bos=False))
    assert chat.timings.completion_tokens == chat.usage.completion_tokens
    assert chat.timings.total_s >= chat.timings.ttft_s > 0


@pytest.mark.parametrize("extra", [0, 1])
def test_a_call_with_no_room_left_is_a_typed_error(course, extra):
    """max_tokens ends at the opener (no constrained phase) or one token into the call."""
    opener_tokens = len(course.tokenize(TOOL_CALL_OPEN, add_bos=False))
    with pytest.raises(ToolCallError, match="cut off") as info:
        course.chat(_messages(CALL_PROMPTS[2]), tools=UNSEEN, max_tokens=opener_tokens + extra)
    assert info.value.raw.startswith(TOOL_CALL_OPEN)


def test_a_request_no_tool_fits_is_answered_in_text(course):
    r = course.chat(_messages("What is the capital of France?"), tools=UNSEEN, max_tokens=40)
    assert r.tool_calls == () and r.finish_reason == "stop"
    assert "Paris" in r.text


# ---------------------------------------------------------------- options and schemas (no generation)
def test_the_runtime_says_auto_calls_are_constrained(runtime):
    assert "tools_auto_constrained" in runtime.info().capabilities


@pytest.mark.parametrize("keyword, schema", [
    ("patternProperties", {"type": "object", "patternProperties": {"^x": {"type": "string"}}}),
    ("multipleOf", {"type": "object", "properties": {"n": {"type": "integer", "multipleOf": 5}}, "required": ["n"]}),
])
def test_a_schema_feature_the_grammar_cannot_enforce_is_named(runtime, keyword, schema):
    tools = [_tool("odd", "A tool.", schema)]
    with pytest.raises(InvalidRequestError, match=f"odd.arguments.*{keyword}") as info:
        runtime.chat([{"role": "user", "content": "Hi"}], tools=tools, max_tokens=1)
    assert "tool_grammar=False" in info.value.hint
    # the documented way out: calls written freely, checked after they are written
    r = runtime.chat([{"role": "user", "content": "Hi"}], tools=tools, max_tokens=1, tool_grammar=False)
    assert r.finish_reason in ("stop", "length")


def test_a_schema_the_converter_rejects_is_a_typed_error(runtime):
    tools = [_tool("odd", "A tool.", {"type": "object", "properties": {"id": {"type": "string", "pattern": "[A-Z]+"}}})]
    with pytest.raises(InvalidRequestError, match="cannot be turned into a grammar"):
        runtime.chat([{"role": "user", "content": "Hi"}], tools=tools, max_tokens=1)


@pytest.mark.parametrize("kwargs, match", [
    ({"tool_grammar": "yes"}, "tool_grammar must be True or False"),
    ({"tool_grammar": False, "tool_choice": "lookup_order"}, "forced call is always"),
    ({"tool_grammar": True, "json_schema": {"type": "object"}}, "cannot be combined"),
])
def test_bad_tool_grammar_options_are_typed_errors(runtime, tools, kwargs, match):
    with pytest.raises(InvalidRequestError, match=match):
        runtime.chat([{"role": "user", "content": "Hi"}], tools=tools, max_tokens=1, **kwargs)


def test_tool_grammar_is_a_chat_option(runtime):
    with pytest.raises(InvalidRequestError, match="Unknown option"):
        runtime.complete("Hi", max_tokens=1, tool_grammar=True)


def test_the_course_tools_and_these_tools_are_fully_enforced():
    from edgeagents.agents.tools import TOOL_SPECS

    assert unenforced_tool_features([*TOOL_SPECS.values(), *UNSEEN]) == []


def test_unenforced_features_name_their_place():
    schema = {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string", "not": {"const": ""}}},
            "size": {"type": ["string", "null"], "enum": ["S", "M", None]},
        },
        "required": ["tags", "colour"],
    }
    assert unenforced_features(schema) == [
        "arguments: required key 'colour' is not in properties",
        "arguments.tags[]: not",
        "arguments.size: enum next to type",
    ]


def test_a_numeric_range_is_checked_after_the_call_not_refused():
    from edgeagents.runtimes.tool_grammar import unenforced_tool_features
    from edgeagents.runtimes.toolcalls import schema_errors

    params = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 9}}, "required": ["n"]}
    assert unenforced_tool_features([_tool("pick", "Pick a number.", params)]) == []
    assert schema_errors(params, {"n": 12}) and not schema_errors(params, {"n": 3})
