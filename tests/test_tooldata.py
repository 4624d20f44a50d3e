"""General tool-calling data (models/finetune/tooldata.py). Fast: no model is loaded."""

from __future__ import annotations

import json
import random

import pytest

from edgeagents.errors import InvalidRequestError
from edgeagents.models.finetune import tooldata
from edgeagents.models.finetune.data import DEFAULT_MIX, GENERAL_TOOLS_MIX, generate
from edgeagents.runtimes.chat_template import format_tool_call, render_chat_text
from edgeagents.runtimes.toolcalls import schema_errors

GEN_ONLY = {k: 1.0 for k in tooldata.KINDS}


def _calls(example):
    for m in example.messages:
        for c in m.get("tool_calls") or []:
            yield c["function"]["name"], json.loads(c["function"]["arguments"])


# ------------------------------------------------------------------ the generator
def test_same_seed_same_data_other_seed_other_data():
    a = [e.as_dict() for e in generate(300, seed=3, mix=GENERAL_TOOLS_MIX)]
    b = [e.as_dict() for e in generate(300, seed=3, mix=GENERAL_TOOLS_MIX)]
    c = [e.as_dict() for e in generate(300, seed=4, mix=GENERAL_TOOLS_MIX)]
    assert a == b and a != c


def test_default_mix_is_unchanged_and_the_general_kinds_need_the_explicit_mix():
    assert DEFAULT_MIX == {"tool": 0.30, "ticket": 0.28, "no_tool": 0.12, "ask_id": 0.11, "direct": 0.04,
                           "complexity": 0.15}
    assert not {e.kind for e in generate(200, seed=0)} & set(tooldata.KINDS)
    kinds = {e.kind for e in generate(400, seed=0, mix=GENERAL_TOOLS_MIX)}
    assert set(tooldata.KINDS) <= kinds and "ticket" in kinds


def test_catalog_has_hundreds_of_tools_and_every_parameter_type():
    names = {t.name for t in tooldata.CATALOG}
    assert len(names) == len(tooldata.CATALOG) >= 250
    assert len({t.domain for t in tooldata.CATALOG}) >= 25
    seen = set()
    defaults = 0
    for tool in tooldata.CATALOG:
        params = tool.spec["function"]["parameters"]
        assert set(params["required"]) <= set(params["properties"])
        for name, schema in params["properties"].items():
            seen.add("enum" if "enum" in schema else schema["type"])
            if name not in params["required"] and "default" in schema:
                defaults += 1
    assert seen == {"string", "integer", "number", "boolean", "enum", "array", "object"}
    assert defaults >= 100


def test_every_generated_call_validates_against_its_offered_tool():
    data = generate(1500, seed=7, mix=GEN_ONLY)
    checked = 0
    for ex in data:
        offered = {t["function"]["name"]: t["function"] for t in ex.tools}
        assert len(offered) == len(ex.tools)
        for name, args in _calls(ex):
            assert name in offered
            assert schema_errors(offered[name]["parameters"], args) == [], (name, args)
            checked += 1
    assert checked > 1000


def test_families_have_their_shape():
    by_kind = {}
    for ex in generate(1000, seed=1, mix=GEN_ONLY):
        by_kind.setdefault(ex.kind, []).append(ex)
    for ex in by_kind["gen_single"]:
        assert len(ex.tools) == 1 and ex.messages[-1]["role"] == "assistant"
        roles = [m["role"] for m in ex.messages if m["role"] != "system"]
        assert roles == ["user", "assistant", "tool", "assistant"]  # call, result, answer from it
    assert all(2 <= len(ex.tools) <= 5 and len(list(_calls(ex))) == 1 for ex in by_kind["gen_choose"])
    for kind in ("gen_none", "gen_ask"):
        assert all(not list(_calls(ex)) and ex.meta["tool"] is None for ex in by_kind[kind])
    assert all(ex.meta["missing"] for ex in by_kind["gen_ask"])
    assert all(sum(m["role"] == "user" for m in ex.messages) >= 2 for ex in by_kind["gen_multi"])


def test_values_are_converted_from_the_request():
    """Spoken dates become ISO, units are dropped, hours become minutes, lists become arrays."""
    found = {"date": 0, "unit": 0, "array": 0, "object": 0, "bool": 0}
    for ex in generate(1500, seed=2, mix={"gen_single": 1.0}):
        user = ex.messages[-4]["content"]
        for _, args in _calls(ex):
            for v in args.values():
                if isinstance(v, str) and v[:5] == "2026-" and v not in user:
                    found["date"] += 1
                elif isinstance(v, (int, float)) and not isinstance(v, bool) and any(u in user for u in ("kg", "€", "euros", " km", "m3")):
                    found["unit"] += 1
                elif isinstance(v, list) and v:
                    found["array"] += 1
                elif isinstance(v, dict):
                    found["object"] += 1
                elif isinstance(v, bool):
                    found["bool"] += 1
    assert all(n >= 20 for n in found.values()), found


def test_rendered_reply_is_the_course_tool_call_format():
    ex = next(e for e in generate(50, seed=0, mix={"gen_single": 1.0}))
    name, args = next(_calls(ex))
    assert format_tool_call(name, args) in render_chat_text(ex.messages, ex.tools, add_generation_prompt=False)


def test_unknown_family_is_a_typed_error():
    with pytest.raises(InvalidRequestError):
        tooldata.build("gen_everything", random.Random(0))
    with pytest.raises(InvalidRequestError):
        generate(10, mix={"gen_everything": 1.0})
