"""Every kind of bad input gets a typed, readable error (and loses nothing: the runtime still works)."""

from __future__ import annotations

import pytest

from edgeagents.errors import (
    ContextOverflowError,
    EdgeAgentsError,
    InvalidRequestError,
    ModelNotFoundError,
    RuntimeUnavailableError,
    ToolCallError,
)
from edgeagents.runtimes import LlamaCppRuntime, open_runtime


@pytest.mark.parametrize("prompt", ["", "   \n\t "])
def test_empty_prompt(runtime, prompt):
    with pytest.raises(InvalidRequestError, match="empty"):
        runtime.complete(prompt)


@pytest.mark.parametrize("prompt", [None, 42, b"bytes", ["a list"]])
def test_non_text_prompt(runtime, prompt):
    with pytest.raises(InvalidRequestError, match="must be text"):
        runtime.complete(prompt)


def test_prompt_longer_than_the_context(runtime):
    with pytest.raises(ContextOverflowError) as info:
        runtime.complete("word " * 2000, max_tokens=8)
    assert info.value.context_length == 512 and info.value.prompt_tokens > 512
    assert "n_ctx" in str(info.value)


def test_max_tokens_pushing_past_the_context(runtime):
    with pytest.raises(ContextOverflowError):
        runtime.complete("Hello", max_tokens=10_000)


def test_chat_longer_than_the_context(runtime):
    with pytest.raises(ContextOverflowError):
        runtime.chat([{"role": "user", "content": "word " * 2000}])


def test_nul_bytes(runtime):
    with pytest.raises(InvalidRequestError, match="NUL"):
        runtime.complete("hello\x00world")


def test_lone_surrogate(runtime):
    with pytest.raises(InvalidRequestError, match="Unicode"):
        runtime.complete("broken \ud800 text")


@pytest.mark.parametrize(
    "text", ["🤖 agents at the edge 🚀", "مرحبا بالعالم", "zero\u200bwidth", "e\u0301\u0301", "日本語のテキスト", "\u202eRTL override"]
)
def test_odd_but_valid_unicode_works(runtime, text):
    r = runtime.complete(text, max_tokens=3)
    assert r.usage.completion_tokens >= 1


@pytest.mark.parametrize("max_tokens", [0, -1, "5", True, 2.5, None])
def test_bad_max_tokens(runtime, max_tokens):
    with pytest.raises(InvalidRequestError, match="max_tokens"):
        runtime.complete("Hello", max_tokens=max_tokens)


@pytest.mark.parametrize(
    "options",
    [{"temperature": -1}, {"top_p": 0}, {"top_p": 1.5}, {"top_k": -3}, {"logprobs": 99}, {"stop": [""]}, {"bogus": 1}],
)
def test_bad_sampling_options(runtime, options):
    with pytest.raises(InvalidRequestError):
        runtime.complete("Hello", **options)


@pytest.mark.parametrize(
    "schema", [{}, "not json", {"type": "banana"}, [1, 2], {"type": "object", "properties": {"a": {"type": "nope"}}}]
)
def test_invalid_json_schema(runtime, schema):
    with pytest.raises(InvalidRequestError):
        runtime.complete("Hello", json_schema=schema, max_tokens=4)


@pytest.mark.parametrize(
    "schema,where",
    [
        ({"required": "x"}, r"json_schema\.required"),
        ({"type": "object", "required": ["a", 1]}, r"json_schema\.required"),
        ({"type": "object", "properties": ["a"]}, r"json_schema\.properties"),
        ({"type": ["string", "banana"]}, r"json_schema\.type"),
        ({"type": 7}, r"json_schema\.type"),
        ({"enum": "red"}, r"json_schema\.enum"),
        ({"type": "object", "properties": {"a": {"type": "object", "required": "b"}}}, r"json_schema\.properties\.a\.required"),
        ({"type": "array", "items": {"enum": {"x": 1}}}, r"json_schema\.items\.enum"),
        ({"anyOf": [{"type": "string"}, {"type": "nope"}]}, r"json_schema\.anyOf\[1\]\.type"),
    ],
)
def test_structurally_invalid_json_schema_names_the_bad_part(runtime, schema, where):
    with pytest.raises(InvalidRequestError, match=where):
        runtime.complete("Hello", json_schema=schema, max_tokens=4)


@pytest.mark.parametrize("options", [{"temperature": float("nan")}, {"temperature": float("inf")},
                                     {"temperature": float("-inf")}, {"top_p": float("nan")}, {"top_p": float("inf")}])
def test_non_finite_sampling_options(runtime, options):
    with pytest.raises(InvalidRequestError, match="temperature|top_p"):
        runtime.complete("Hello", max_tokens=4, **options)


def _tool(name, parameters=None):
    return {"type": "function", "function": {"name": name, "parameters": parameters or {"type": "object", "properties": {}}}}


@pytest.mark.parametrize("name", ["x y z", "a" * 65, "tool.name", "ünïcode", "new\nline"])
def test_forced_call_to_a_tool_name_outside_the_openai_pattern(runtime, name):
    with pytest.raises(InvalidRequestError, match=r"\^\[a-zA-Z0-9_-\]\{1,64\}\$"):
        runtime.chat([{"role": "user", "content": "hi"}], tools=[_tool(name)], tool_choice=name, max_tokens=8)


def test_tool_choice_outside_the_openai_pattern(runtime, tools):
    for choice in ("x y z", {"type": "function", "function": {"name": "x y z"}}, {"type": "function"}, 42):
        with pytest.raises(InvalidRequestError, match="does not match"):
            runtime.chat([{"role": "user", "content": "hi"}], tools=tools, tool_choice=choice, max_tokens=8)


def test_tool_parameters_that_are_not_a_valid_schema(runtime):
    bad = _tool("lookup_order", {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": "order_id"})
    with pytest.raises(InvalidRequestError, match=r"tools\[0\]\.function\.parameters\.required"):
        runtime.chat([{"role": "user", "content": "hi"}], tools=[bad], tool_choice="lookup_order", max_tokens=8)


def test_invalid_grammar(runtime):
    with pytest.raises(InvalidRequestError, match="grammar"):
        runtime.complete("Hello", grammar="root ::= (unclosed", max_tokens=4)


def test_schema_and_grammar_together(runtime):
    with pytest.raises(InvalidRequestError, match="not both"):
        runtime.complete("Hello", grammar='root ::= "a"', json_schema={"type": "string"})


@pytest.mark.parametrize(
    "messages",
    [[], "hello", [{"content": "no role"}], [{"role": "wizard", "content": "x"}], [{"role": "system", "content": "only system"}],
     [{"role": "user", "content": None}], [{"role": "user", "content": ""}]],
)
def test_bad_messages(runtime, messages):
    with pytest.raises(InvalidRequestError):
        runtime.chat(messages)


def test_tool_choice_naming_an_unknown_tool(runtime, tools):
    with pytest.raises(ToolCallError, match="not one of the tools"):
        runtime.chat([{"role": "user", "content": "hi"}], tools=tools, tool_choice="delete_everything")


def test_tool_choice_without_tools(runtime):
    with pytest.raises(InvalidRequestError, match="no tools"):
        runtime.chat([{"role": "user", "content": "hi"}], tool_choice="required")


def test_malformed_tool_spec(runtime):
    with pytest.raises(InvalidRequestError, match="tools\\[0\\]"):
        runtime.chat([{"role": "user", "content": "hi"}], tools=[{"name": "flat"}])


def test_forced_call_that_runs_out_of_tokens(runtime, tools):
    with pytest.raises(ToolCallError, match="ran out of tokens"):
        runtime.chat([{"role": "user", "content": "Where is ORD-1?"}], tools=tools, tool_choice="lookup_order", max_tokens=3)


def test_score_with_no_options(runtime):
    with pytest.raises(InvalidRequestError):
        runtime.score("Pick:", [])
    with pytest.raises(InvalidRequestError):
        runtime.score("Pick:", "a string, not a list")


def test_unknown_model_path():
    with pytest.raises(ModelNotFoundError, match="No model file"):
        LlamaCppRuntime("/nonexistent/model.gguf")


def test_a_file_that_is_not_a_gguf(tmp_path):
    from edgeagents.errors import CorruptModelError

    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"GGUF but not really" * 10)
    with pytest.raises(CorruptModelError):
        LlamaCppRuntime(fake)


def test_unknown_runtime_name():
    with pytest.raises(RuntimeUnavailableError, match="Unknown runtime"):
        open_runtime("definitely-not-a-runtime")


def test_the_runtime_still_works_after_all_that(runtime):
    assert runtime.complete("The capital of France is", max_tokens=4).text.strip()


def test_every_error_says_what_to_do():
    from edgeagents import errors

    for name in dir(errors):
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, EdgeAgentsError) and cls not in (EdgeAgentsError, errors.ContextOverflowError):
            if cls in (InvalidRequestError, errors.UnsupportedFeatureError):
                continue
            assert cls("x").hint, f"{name} has no default hint"
