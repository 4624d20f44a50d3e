"""General tool-calling data (models/finetune/tooldata.py), the unseen-tool held-out set and its scorer.

Fast: no model is loaded except by the one smoke test at the end.
"""

from __future__ import annotations

import json
import random
from types import SimpleNamespace

import pytest

from edgeagents.errors import InvalidRequestError
from edgeagents.finetune import tooldata
from edgeagents.finetune.data import DEFAULT_MIX, GENERAL_TOOLS_MIX, generate
from edgeagents.finetune.unseen import (
    FAILURES,
    UnseenReport,
    evaluate_unseen,
    format_unseen_table,
    load_unseen,
    sample_unseen,
    score_unseen_reply,
)
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


def test_loss_only_on_the_model_turns_of_a_multi_turn_example():
    from edgeagents.finetune.data import IGNORE, encode_example

    def encode(text, special):  # one id per character; control markers as one id each
        return [1] if special and text.startswith("<start_of_turn>") else [2] if special and text.startswith(
            "<end_of_turn>") else [1000 + ord(c) for c in text]

    ex = next(e for e in generate(200, seed=0, mix={"gen_multi": 1.0}) if len(list(_calls(e))) == 2)
    ids, labels = encode_example(ex, encode, bos_id=0, max_tokens=100_000)
    learned = "".join(chr(t - 1000) if t >= 1000 else "|" for t in labels if t != IGNORE)
    for m in ex.messages:
        if m["role"] == "assistant" and m["content"]:
            assert m["content"] in learned
        elif m["role"] in ("user", "tool"):
            assert m["content"] not in learned
    assert learned.count("<tool_call>") == 2


def test_unknown_family_is_a_typed_error():
    with pytest.raises(InvalidRequestError):
        tooldata.build("gen_everything", random.Random(0))
    with pytest.raises(InvalidRequestError):
        generate(10, mix={"gen_everything": 1.0})


# ------------------------------------------------------------------ the held-out set
def test_heldout_file_shape():
    items = load_unseen()
    assert len(items) >= 200 and len({i["id"] for i in items}) == len(items)
    kinds = [i["kind"] for i in items]
    assert min(kinds.count(k) for k in ("single", "choose", "none")) >= 50
    for item in items:
        assert all(t["type"] == "function" and {"name", "description", "parameters"} <= set(t["function"])
                   for t in item["tools"])
        if item["kind"] == "single":
            assert len(item["tools"]) == 1
        if item["kind"] == "choose":
            assert len(item["tools"]) >= 2
        if item["expect"]["tool"] is not None:
            spec = next(t["function"] for t in item["tools"] if t["function"]["name"] == item["expect"]["tool"])
            assert schema_errors(spec["parameters"], item["expect"]["arguments"]) == [], item["id"]
            assert score_unseen_reply(item, format_tool_call(item["expect"]["tool"], item["expect"]["arguments"]))["ok"]
        else:
            assert item["tools"] and all(t["function"]["name"] for t in item["tools"])


def test_heldout_is_disjoint_from_the_generator():
    """No held-out tool name, parameter-name set, description or user message comes out of the generator."""
    gen_names, gen_params, gen_desc, gen_users = set(), set(), set(), set()

    def add_tool(fn):
        gen_names.add(fn["name"])
        gen_params.add(frozenset(fn["parameters"]["properties"]))
        gen_desc.add(fn["description"])
        for p in fn["parameters"]["properties"].values():
            gen_desc.add(p.get("description", ""))

    for tool in tooldata.CATALOG:
        add_tool(tool.spec["function"])
    for seed in range(4):
        for ex in generate(1000, seed=seed, mix={**GENERAL_TOOLS_MIX, **GEN_ONLY}):
            for t in ex.tools or []:
                add_tool(t["function"])
            gen_users.update(m["content"].strip().casefold() for m in ex.messages if m["role"] == "user")
    held = load_unseen()
    for item in held:
        for t in item["tools"]:
            fn = t["function"]
            assert fn["name"] not in gen_names
            assert frozenset(fn["parameters"]["properties"]) not in gen_params
            assert not set(fn["parameters"]["properties"]) & set().union(*gen_params)  # not even one name
            assert fn["description"] not in gen_desc
            assert not {p.get("description", "") for p in fn["parameters"]["properties"].values()} & gen_desc
        for m in item["messages"]:
            assert m["content"].strip().casefold() not in gen_users
    held_domain_words = {"telescope", "chess", "plumber", "museum", "pharmacy", "parking", "library", "vet", "cinema",
                         "fishing", "meter", "container", "recipe", "tax", "bicycle", "compost", "seed"}
    assert not held_domain_words & {w for n in gen_names for w in n.split("_")}


# ------------------------------------------------------------------ the scorer
ITEM = {
    "id": "t1", "kind": "single", "messages": [{"role": "user", "content": "Send a crate of 4.5 kg to 12 Rose Lane, Ayr."}],
    "tools": [{"type": "function", "function": {
        "name": "send_crate", "description": "Send a crate.",
        "parameters": {"type": "object", "required": ["weight_kg", "dest", "labels"], "properties": {
            "weight_kg": {"type": "number"}, "pieces": {"type": "integer", "default": 1},
            "fragile": {"type": "boolean", "default": False}, "labels": {"type": "array", "items": {"type": "string"}},
            "dest": {"type": "object", "required": ["street", "town"],
                     "properties": {"street": {"type": "string"}, "town": {"type": "string"}}}}}}},
              {"type": "function", "function": {"name": "track_crate", "description": "Track a crate.",
                                                "parameters": {"type": "object", "properties": {}}}}],
    "expect": {"tool": "send_crate", "arguments": {"weight_kg": 4.5, "labels": ["up", "dry"],
                                                   "dest": {"street": "12 Rose Lane", "town": "Ayr"}}},
}
GOOD = {"weight_kg": 4.5, "labels": ["up", "dry"], "dest": {"street": "12 Rose Lane", "town": "Ayr"}}


@pytest.mark.parametrize("args,ok,failure", [
    (GOOD, True, None),
    ({**GOOD, "weight_kg": "4.5"}, True, None),  # numeric equal when both parse as numbers
    ({**GOOD, "dest": {"street": " 12 rose lane", "town": "AYR"}}, True, None),  # strings: case and spaces
    ({**GOOD, "pieces": 1, "fragile": False}, True, None),  # optional, at its default
    ({**GOOD, "fragile": True}, False, "wrong_value"),  # optional the request never set
    ({**GOOD, "fragile": "no"}, False, "wrong_type"),
    ({**GOOD, "labels": "up, dry"}, False, "wrong_type"),
    ({**GOOD, "labels": ["dry", "up"]}, False, "wrong_value"),  # arrays element by element
    ({**GOOD, "weight_kg": "heavy"}, False, "wrong_type"),
    ({**GOOD, "weight_kg": 5}, False, "wrong_value"),
    ({**GOOD, "dest": {"street": "12 Rose Lane"}}, False, "missing_required"),  # nested, recursively
    ({"weight_kg": 4.5, "labels": ["up", "dry"]}, False, "missing_required"),
    ({**GOOD, "colour": "red"}, False, "unknown_argument"),
    ({**GOOD, "dest": {**GOOD["dest"], "floor": 2}}, False, "unknown_argument"),
])
def test_scorer_compares_arguments_structurally(args, ok, failure):
    got = score_unseen_reply(ITEM, format_tool_call("send_crate", args))
    assert (got["ok"], got["failure"], got["right_tool"]) == (ok, failure, True)


def test_scorer_call_level_failures():
    assert score_unseen_reply(ITEM, "I will send it.")["failure"] == "no_call"
    assert score_unseen_reply(ITEM, '<tool_call>{"name": "send_crate", "arguments": {')["failure"] == "invalid_json"
    wrong = score_unseen_reply(ITEM, format_tool_call("track_crate", {}))
    assert (wrong["ok"], wrong["right_tool"], wrong["failure"]) == (False, False, "wrong_name")
    none = {**ITEM, "kind": "none", "expect": {"tool": None}}
    assert score_unseen_reply(none, "No tool fits; sorry.") == {"ok": True, "right_tool": True, "failure": None}
    assert score_unseen_reply(none, format_tool_call("track_crate", {}))["failure"] == "extra_call"


def test_bad_items_and_models_are_typed_errors(tmp_path):
    with pytest.raises(InvalidRequestError):
        score_unseen_reply({**ITEM, "kind": "maybe"}, "")
    with pytest.raises(InvalidRequestError):
        score_unseen_reply({**ITEM, "expect": {"tool": "not_offered", "arguments": {}}}, "")
    with pytest.raises(InvalidRequestError):
        score_unseen_reply({"id": "x"}, "")
    with pytest.raises(InvalidRequestError):
        evaluate_unseen(object())
    with pytest.raises(InvalidRequestError):
        evaluate_unseen(_Echo([]), [])
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(InvalidRequestError):
        load_unseen(bad)
    with pytest.raises(InvalidRequestError):
        load_unseen(tmp_path / "missing.jsonl")


class _Echo:
    """A backend that answers every item with its expected call (and wrongly calls on none items)."""

    def __init__(self, items):
        self.by_text = {i["messages"][0]["content"]: i for i in items}

    def reply(self, messages, tools):
        item = self.by_text[messages[0]["content"]]
        if item["expect"]["tool"] is None:
            return format_tool_call(item["tools"][0]["function"]["name"], {})
        return format_tool_call(item["expect"]["tool"], item["expect"]["arguments"])

    def score(self, prompt, continuations):  # pragma: no cover - not used
        return [0.0] * len(continuations)


def test_report_rates_and_failure_table():
    items = load_unseen()
    report = evaluate_unseen(_Echo(items), items, label="echo")
    m = report.metrics()
    assert m["single_exact"] == m["choose_exact"] == m["choose_right_tool"] == 1.0 and m["none_no_call"] == 0.0
    assert report.failures()["extra_call"] == sum(i["kind"] == "none" for i in items)
    table = format_unseen_table([report, UnseenReport("empty")])
    assert "none_no_call" in table and "extra_call" in table
    assert set(report.failures()) == set(FAILURES)


def test_smoke_one_item_on_the_real_model(runtime):
    item = next(i for i in load_unseen() if i["kind"] == "single")
    report = evaluate_unseen(runtime, [item], label="base", max_tokens=48)
    row = report.rows[0]
    assert row["id"] == item["id"] and (row["failure"] is None) == row["ok"]
    assert row["failure"] in (None, *FAILURES)


def test_sample_is_balanced_fixed_and_checked():
    sample = sample_unseen(3)
    assert [i["kind"] for i in sample] == ["single"] * 3 + ["choose"] * 3 + ["none"] * 3
    assert [i["id"] for i in sample] == [i["id"] for i in sample_unseen(3)]
    with pytest.raises(InvalidRequestError):
        sample_unseen(0)


class _Recorder:
    """A runtime stand-in that records the options each chat call got and answers with no call."""

    def __init__(self):
        self.calls = []

    def chat(self, messages, **options):
        self.calls.append(options)
        return SimpleNamespace(text="I cannot do that.", tool_calls=())


def test_chat_options_reach_every_call_and_are_refused_for_a_backend():
    rec = _Recorder()
    evaluate_unseen(rec, sample_unseen(1), label="free", tool_grammar=False)
    assert len(rec.calls) == 3 and all(c["tool_grammar"] is False and c["tool_choice"] == "auto" for c in rec.calls)
    with pytest.raises(InvalidRequestError):
        evaluate_unseen(_Echo(load_unseen()), sample_unseen(1), tool_grammar=False)
