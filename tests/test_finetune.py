"""Lab 07's fine-tuning library: the data generator, batching, export, scoring, and a 2-step training smoke test."""

from __future__ import annotations

import collections
import json
import random

import numpy as np
import pytest

from edgeagents.agents.tools import PRIORITIES, TOOL_SPECS
from edgeagents.errors import CorruptModelError, InvalidRequestError, ModelNotFoundError
from edgeagents.finetune.data import IGNORE, TIERS, encode_example, generate, share_key
from edgeagents.finetune.evaluate import EvalReport, evaluate, first_call, load_heldout, score_reply
from edgeagents.runtimes.chat_template import END, render_chat_text
from edgeagents.runtimes.toolcalls import validate_arguments


def char_encode(text: str, special: bool) -> list[int]:
    """A fake tokenizer for logic tests: control markers are one id, every other character its code point."""
    out, i = [], 0
    while i < len(text):
        if special and text.startswith("<start_of_turn>", i):
            out.append(105)
            i += len("<start_of_turn>")
        elif special and text.startswith("<end_of_turn>", i):
            out.append(106)
            i += len("<end_of_turn>")
        else:
            out.append(1000 + ord(text[i]))
            i += 1
    return out


def decode(ids: list[int]) -> str:
    return "".join({105: "<start_of_turn>", 106: "<end_of_turn>"}.get(t, chr(t - 1000) if t >= 1000 else "") for t in ids)


# ------------------------------------------------------------------ data
def test_generate_is_deterministic_and_seeded():
    a = [e.as_dict() for e in generate(120, seed=3)]
    b = [e.as_dict() for e in generate(120, seed=3)]
    c = [e.as_dict() for e in generate(120, seed=4)]
    assert a == b and a != c and len(a) == 120


def test_labels_are_balanced():
    data = generate(400, seed=0)
    prio = collections.Counter(e.meta["priority"] for e in data if e.kind == "ticket")
    tiers = collections.Counter(e.meta["tier"] for e in data if e.kind == "complexity")
    assert set(prio) == set(PRIORITIES) and max(prio.values()) - min(prio.values()) <= 1
    assert set(tiers) == set(TIERS) and max(tiers.values()) - min(tiers.values()) <= 1


def test_every_generated_call_passes_the_tools_own_schema():
    for e in generate(300, seed=1):
        if e.kind in ("tool", "ticket"):
            call = e.messages[-3]["tool_calls"][0]["function"]
            assert validate_arguments(TOOL_SPECS[call["name"]], call["arguments"]) == e.meta["arguments"]
            assert call["name"] in [t["function"]["name"] for t in e.tools]


def test_no_tool_examples_have_no_call():
    for e in generate(300, seed=2):
        if e.kind in ("no_tool", "ask_id", "direct"):
            assert not any(m.get("tool_calls") for m in e.messages)


def test_loss_only_on_model_turns_rendered_by_the_course_template():
    e = next(x for x in generate(60, seed=5) if x.kind == "tool")
    ids, labels = encode_example(e, char_encode, bos_id=2, max_tokens=10_000)
    assert ids[0] == 2 and decode(ids[1:]) == render_chat_text(e.messages, e.tools, add_generation_prompt=False)
    supervised = decode([t for t in labels if t != IGNORE])
    call = e.messages[-3]["tool_calls"][0]["function"]["name"]
    assert supervised.startswith("<tool_call>") and call in supervised
    assert supervised.endswith(e.messages[-1]["content"] + END)
    assert "You can call these tools" not in supervised and e.messages[-4]["content"] not in supervised


def test_complexity_example_supervises_only_the_label():
    e = next(x for x in generate(60, seed=5) if x.kind == "complexity")
    ids, labels = encode_example(e, char_encode, bos_id=2, max_tokens=10_000)
    assert decode([t for t in labels if t != IGNORE]) == e.completion == f" {e.meta['tier']}"
    assert e.prompt.endswith("Complexity:")


def test_bad_generator_settings_are_typed_errors():
    with pytest.raises(InvalidRequestError):
        generate(0)
    with pytest.raises(InvalidRequestError):
        generate(10, mix={"poems": 1.0})
    with pytest.raises(InvalidRequestError):
        encode_example(generate(5, seed=0)[0], char_encode, 2, max_tokens=3)


def test_heldout_is_separate_from_the_generator():
    items = load_heldout()
    assert 45 <= len(items) <= 70
    train_users = {m["content"] for e in generate(2000, seed=0) for m in e.messages if m["role"] == "user"}
    train_texts = {e.meta.get("text") for e in generate(2000, seed=0) if e.kind == "complexity"}
    for it in items:
        if "messages" in it:
            assert it["messages"][-1]["content"] not in train_users
        else:
            assert it["text"] not in train_texts
    kinds = collections.Counter(i["kind"] for i in items)
    assert kinds["ticket"] >= 8 and kinds["complexity"] >= 9 and kinds["tool"] >= 15


def test_heldout_shares_no_phrase_with_the_generator():
    """No held-out request shares a run of 8 words with any generated request (ids and numbers ignored)."""
    import re

    def grams(text, n=8):
        words = re.findall(r"[a-z']+", text.lower())
        return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}

    seen = set()
    for e in generate(2000, seed=0):
        seen |= grams(e.meta["text"]) if e.kind == "complexity" else set().union(
            *(grams(m["content"]) for m in e.messages if m["role"] == "user"))
    for it in load_heldout():
        text = it["messages"][-1]["content"] if "messages" in it else it["text"]
        assert not grams(text) & seen, f"held-out item {it['id']} repeats a generator phrase"


# ------------------------------------------------------------------ batching
def test_shared_prefix_stops_before_supervision_and_batches_share_keys():
    from edgeagents.finetune.train import plan_batches, shared_prefix_len

    rows = [([1, 2, 3, 4, 5, 6], [IGNORE] * 4 + [5, 6]), ([1, 2, 3, 9, 9, 9, 9], [IGNORE] * 5 + [9, 9])]
    assert shared_prefix_len(rows) == 3
    assert shared_prefix_len([rows[0]]) == 0
    rows2 = [([1, 2, 3, 4], [IGNORE, 2, 3, 4]), ([1, 2, 3, 4], [IGNORE] * 3 + [4])]
    assert shared_prefix_len(rows2) == 0  # never hide a supervised position inside the prefix
    data = generate(80, seed=0)
    enc = [encode_example(e, char_encode, 2, 10_000) for e in data]
    keys = [share_key(e) for e in data]
    plan = plan_batches(enc, keys, 4, random.Random(0))
    assert sorted(i for _, b in plan for i in b) == list(range(80))
    for prefix, batch in plan:
        assert len({keys[i] for i in batch}) == 1
        assert all(enc[i][0][:prefix] == enc[batch[0]][0][:prefix] for i in batch)


def test_keyless_batches_keep_to_the_token_budget_and_the_default_plan_is_unchanged():
    from edgeagents.finetune.data import MIXES
    from edgeagents.finetune.train import TrainConfig, plan_batches

    budget = TrainConfig().batch_tokens
    # Characters stand in for tokens: each is at least one token's worth, so a plan unchanged here is unchanged
    # with the real tokenizer too.
    default = generate(1300, seed=0)
    enc = [encode_example(e, char_encode, 2, 10_000) for e in default]
    keys = [share_key(e) for e in default]
    assert plan_batches(enc, keys, 8, random.Random(1), budget) == plan_batches(enc, keys, 8, random.Random(1))

    general = generate(720, seed=0, mix=MIXES["general"])
    enc = [encode_example(e, char_encode, 2, 10_000) for e in general]
    keys = [share_key(e) for e in general]
    plan = plan_batches(enc, keys, 8, random.Random(1), budget)
    assert sorted(i for _, b in plan for i in b) == list(range(720))
    keyless = [b for _, b in plan if keys[b[0]] is None]
    assert keyless
    for batch in keyless:
        padded = len(batch) * max(len(enc[i][0]) for i in batch)
        assert len(batch) == 1 or padded <= budget, f"{len(batch)} rows, {padded} padded tokens"
    assert len(plan) > len(plan_batches(enc, keys, 8, random.Random(1)))  # the long ones now go fewer at a time


# ------------------------------------------------------------------ scoring
def test_score_reply_catches_bad_calls():
    item = {"kind": "ticket", "expect": {"tool": "create_support_ticket", "arguments": {"customer_id": "C001"},
                                         "priority": "high"}}
    good = '<tool_call>{"name": "create_support_ticket", "arguments": {"customer_id": "C001", "subject": "Router down", "priority": "high"}}</tool_call>'
    assert score_reply(item, good) == {"valid_json": True, "right_tool": True, "right_args": True, "priority": True}
    truncated = '<tool_call>{"name": "create_support_ticket", "arguments": {"customer_id": "C0'
    assert score_reply(item, truncated)["valid_json"] is False
    wrong_type = good.replace('"priority": "high"', '"priority": 3')
    assert score_reply(item, wrong_type)["right_args"] is False
    unknown = good.replace("create_support_ticket", "open_ticket")
    assert score_reply(item, unknown)["right_tool"] is False
    assert score_reply({"kind": "no_tool", "expect": {"tool": None}}, "12 + 3 = 15.") == {"no_invented_call": True}
    assert first_call("no call here") == (False, None, None)


def test_evaluate_with_a_fake_backend_counts_per_metric():
    class Perfect:
        def __init__(self, items):
            self.by_text = {json.dumps(i.get("messages")): i for i in items}

        def reply(self, messages, tools):
            exp = self.by_text[json.dumps(messages)]["expect"]
            if not exp["tool"]:
                return "Sure, what is your id?"
            args = {"customer_id": "C001", "subject": "A problem", "priority": exp.get("priority", "low"),
                    "query": "help", "date": "2026-12-01", "reason": "a reason", "component": "all"}
            props = TOOL_SPECS[exp["tool"]]["function"]["parameters"]["properties"]
            args = {k: v for k, v in args.items() if k in props} | exp["arguments"]
            return f'<tool_call>{json.dumps({"name": exp["tool"], "arguments": args})}</tool_call>'

        def score(self, prompt, conts):
            return [0.0, 0.0, 0.0]

    items = load_heldout()
    report = evaluate(Perfect(items), "perfect", items)
    m = report.metrics()
    assert m["valid_json"] == m["right_tool"] == m["right_args"] == m["priority"] == m["no_invented_call"] == 1.0
    assert isinstance(report, EvalReport) and "complexity" in report.failures()


# ------------------------------------------------------------------ export (gguf package only)
def _random_peft(folder, rank=4, layers=(0, 1)):
    safetensors = pytest.importorskip("safetensors.numpy")
    rng = np.random.default_rng(0)
    t = {}
    for n in layers:
        t[f"base_model.model.model.layers.{n}.self_attn.q_proj.lora_A.weight"] = rng.standard_normal((rank, 640)).astype(np.float32)
        t[f"base_model.model.model.layers.{n}.self_attn.q_proj.lora_B.weight"] = rng.standard_normal((1024, rank)).astype(np.float32)
        t[f"base_model.model.model.layers.{n}.mlp.down_proj.lora_A.weight"] = rng.standard_normal((rank, 2048)).astype(np.float32)
        t[f"base_model.model.model.layers.{n}.mlp.down_proj.lora_B.weight"] = rng.standard_normal((640, rank)).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    safetensors.save_file(t, str(folder / "adapter_model.safetensors"))
    (folder / "adapter_config.json").write_text(json.dumps({"r": rank, "lora_alpha": 8}))
    return t


def test_peft_gguf_round_trip(tmp_path):
    from edgeagents.models.lora_gguf import (
        gguf_adapter_to_peft,
        lora_deltas,
        peft_to_gguf_adapter,
        read_gguf_adapter,
        read_peft,
    )

    original = _random_peft(tmp_path / "peft")
    path = peft_to_gguf_adapter(tmp_path / "peft", tmp_path / "a.gguf")
    alpha, tensors = read_gguf_adapter(path)
    assert alpha == 8.0 and "blk.1.ffn_down.weight.lora_b" in tensors
    assert tensors["blk.0.attn_q.weight.lora_a"].shape == (4, 640)
    back = gguf_adapter_to_peft(path, tmp_path / "back")
    cfg, restored = read_peft(back)
    assert cfg["r"] == 4 and set(cfg["target_modules"]) == {"q_proj", "down_proj"}
    for k, v in original.items():
        np.testing.assert_allclose(restored[k], v, rtol=1e-6, atol=1e-7)  # stored as F32
    half = peft_to_gguf_adapter(tmp_path / "peft", tmp_path / "half.gguf", dtype="F16")
    assert half.stat().st_size < path.stat().st_size
    np.testing.assert_allclose(read_gguf_adapter(half)[1]["blk.0.attn_q.weight.lora_a"],
                               tensors["blk.0.attn_q.weight.lora_a"], rtol=1e-3, atol=1e-3)
    with pytest.raises(InvalidRequestError):
        peft_to_gguf_adapter(tmp_path / "peft", tmp_path / "q.gguf", dtype="Q8_0")
    assert lora_deltas(path)["blk.0.attn_q.weight"].shape == (1024, 640)
    assert not list(tmp_path.glob(".*part"))


def test_export_bad_inputs_are_typed_errors(tmp_path):
    from edgeagents.models.course import base_model_path
    from edgeagents.models.lora_gguf import merge_adapter, read_gguf_adapter, read_peft

    with pytest.raises(ModelNotFoundError):
        read_gguf_adapter(tmp_path / "missing.gguf")
    with pytest.raises(ModelNotFoundError):
        read_peft(tmp_path)
    (tmp_path / "junk.gguf").write_bytes(b"not a gguf at all")
    with pytest.raises(CorruptModelError):
        read_gguf_adapter(tmp_path / "junk.gguf")
    with pytest.raises(CorruptModelError):  # a model, not an adapter
        read_gguf_adapter(base_model_path())
    with pytest.raises(InvalidRequestError, match="erases the adapter"):
        merge_adapter(base_model_path(), tmp_path / "x.gguf", tmp_path / "m.gguf", qtype="Q4_K_M")


# ------------------------------------------------------------------ training (finetune extra)
@pytest.mark.slow
def test_two_step_training_smoke(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("peft")
    import torch

    from edgeagents.finetune.train import TrainConfig, collate, load_base, make_encoder, supervised_loss, train
    from edgeagents.models.lora_gguf import peft_to_gguf_adapter

    data = [e for e in generate(40, seed=7) if e.kind in ("tool", "complexity")][:6]
    result = train(TrainConfig(max_steps=2, batch_size=3, threads=1, rank=4, alpha=8, checkpoint_every=0),
                   tmp_path / "adapter", examples=data, progress=False)
    assert result.steps == 2 and len(result.losses) == 2 and all(np.isfinite(result.losses))
    assert (tmp_path / "adapter" / "adapter_model.safetensors").exists()
    card = json.loads((tmp_path / "adapter" / "training.json").read_text())
    assert card["steps"] == 2 and card["machine"]["threads"] == 1

    # the shared-prefix trick is exact: same loss as the plain forward pass
    model, tok = load_base()
    enc = make_encoder(tok)
    from edgeagents.finetune.train import shared_prefix_len

    pool = [e for e in generate(60, seed=8) if e.kind in ("tool", "ticket")]
    key = collections.Counter(share_key(e) for e in pool).most_common(1)[0][0]
    rows = [encode_example(e, enc, tok.bos_token_id) for e in pool if share_key(e) == key][:2]

    ids, mask, labels = collate(rows, 0, "cpu")
    with torch.no_grad():
        full = float(supervised_loss(model, ids, mask, labels, 0))
        shared = float(supervised_loss(model, ids, mask, labels, shared_prefix_len(rows)))
    assert shared_prefix_len(rows) > 500 and abs(full - shared) < 1e-3

    # the exported adapter loads in llama.cpp and generates
    from dataclasses import replace

    from edgeagents.models.course import course_model
    from edgeagents.runtimes import LlamaCppRuntime

    gguf = peft_to_gguf_adapter(tmp_path / "adapter", tmp_path / "smoke.gguf")
    rt = LlamaCppRuntime(replace(course_model("base"), adapter_path=gguf), n_ctx=512, n_threads=1)
    try:
        assert rt.complete("Hello", max_tokens=3).usage.completion_tokens >= 1
    finally:
        rt.close()

    # the card's decode measurement runs base and base + adapter side by side
    from edgeagents.finetune.speed import decode_ratio

    d = decode_ratio(gguf, rounds=1, max_tokens=4)
    assert d["base_tok_s"] > 0 and d["adapter_tok_s"] > 0 and d["ratio"] > 0 and "1 interleaved round," in d["how"]


def test_decode_timing_refuses_too_little_to_measure(tmp_path):
    from edgeagents.finetune.speed import compare_decode

    with pytest.raises(InvalidRequestError, match="too little"):
        compare_decode({"base": None}, rounds=0)
    with pytest.raises(InvalidRequestError, match="too little"):
        compare_decode({"base": None}, max_tokens=1)


def test_training_without_the_extra_says_what_to_install(monkeypatch):
    import builtins

    from edgeagents.errors import RuntimeUnavailableError
    from edgeagents.finetune import train as train_mod

    real_import = builtins.__import__

    def fake_import(name, *a, **k):
        if name == "peft":
            raise ImportError("no peft", name="peft")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(RuntimeUnavailableError, match="finetune"):
        train_mod.require_finetune()
    assert train_mod.finetune_available() is False
