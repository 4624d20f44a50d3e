"""Foundry Local glue, the logic only: registration folders, option checks, tool-call parsing, the pool.

These run without the SDK and without the model (fakes stand in for runtimes); the real SDK on the
real course model is tested in test_foundry_local.py.
"""

from __future__ import annotations

import json
import os

import pytest

from conftest import ORDER_TOOL
from edgeagents.errors import (
    CorruptModelError,
    InvalidRequestError,
    ModelNotFoundError,
    ToolCallError,
    UnsupportedFeatureError,
)
from edgeagents.foundry.service import AgentService, ModelPool, Monitor, route_by_keywords
from edgeagents.runtimes.base import Health, Result, RuntimeInfo, Timings, Usage
from edgeagents.runtimes.chat_template import TOOL_CALL_OPEN
from edgeagents.runtimes.foundry import byom, sdk
from edgeagents.runtimes.foundry.runtime import FoundryLocalRuntime


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEAGENTS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def onnx_dir(tmp_path):
    d = tmp_path / "onnx"
    d.mkdir()
    (d / "genai_config.json").write_text(
        json.dumps({"model": {"decoder": {"filename": "model.onnx"}, "eos_token_id": [1], "context_length": 32768},
                    "search": {"max_length": 32768}})
    )
    (d / "tokenizer.json").write_text(json.dumps({"added_tokens": [{"id": 106, "content": "<end_of_turn>"}]}))
    (d / "tokenizer_config.json").write_text(json.dumps({"chat_template": "{{ gemma }}", "add_bos_token": True}))
    (d / "model.onnx").write_bytes(b"\0" * 4096)
    (d / "model.onnx.data").write_bytes(b"\1" * 8192)
    return d


def test_registration_folder_links_rewrites_and_stamps(home, onnx_dir):
    folder, rebuilt = byom.prepare_folder(onnx_dir, name="unit", n_ctx=1024)
    assert rebuilt and folder.parent == home / "foundry" / "cache" / "byom"
    assert os.stat(folder / "model.onnx.data").st_ino == os.stat(onnx_dir / "model.onnx.data").st_ino  # hard link
    cfg = json.loads((folder / "genai_config.json").read_text())
    assert cfg["search"]["max_length"] == 1024 and cfg["model"]["context_length"] == 1024
    assert cfg["model"]["eos_token_id"] == [1, 106]  # <end_of_turn> ends a reply
    tok = json.loads((folder / "tokenizer_config.json").read_text())
    assert tok["chat_template"] == byom.PASS_THROUGH_TEMPLATE and tok["add_bos_token"] is True
    assert json.loads((onnx_dir / "genai_config.json").read_text())["search"]["max_length"] == 32768  # source untouched


def test_registration_folder_is_reused_then_rebuilt_when_the_source_changes(home, onnx_dir):
    byom.prepare_folder(onnx_dir, name="unit", n_ctx=1024)
    assert byom.prepare_folder(onnx_dir, name="unit", n_ctx=1024)[1] is False
    assert byom.prepare_folder(onnx_dir, name="unit", n_ctx=2048)[1] is True
    (onnx_dir / "model.onnx.data").write_bytes(b"\2" * 9000)
    folder, rebuilt = byom.prepare_folder(onnx_dir, name="unit", n_ctx=2048)
    assert rebuilt and (folder / "model.onnx.data").stat().st_size == 9000
    assert sorted(p.name for p in folder.parent.iterdir()) == ["unit-v1"]  # no temporary or old folder left


def test_a_failed_build_leaves_nothing_behind(home, onnx_dir, monkeypatch):
    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(byom.shutil, "copy2", boom)
    monkeypatch.setattr(byom.os, "link", boom)
    with pytest.raises(OSError):
        byom.prepare_folder(onnx_dir, name="unit")
    assert not any((home / "foundry" / "cache" / "byom").iterdir())


def test_missing_and_corrupt_model_folders_are_typed(tmp_path, onnx_dir):
    with pytest.raises(ModelNotFoundError):
        byom.check_onnx_dir(tmp_path / "nope")
    (onnx_dir / "genai_config.json").write_text("{not json")
    with pytest.raises(CorruptModelError, match="not a valid genai_config"):
        byom.check_onnx_dir(onnx_dir)
    (onnx_dir / "genai_config.json").unlink()
    with pytest.raises(CorruptModelError, match="no genai_config.json"):
        byom.check_onnx_dir(onnx_dir)


def test_truncated_weights_and_missing_tokenizer_are_corrupt(onnx_dir):
    (onnx_dir / "model.onnx").write_bytes(b"\0" * 10)
    with pytest.raises(CorruptModelError, match="truncated"):
        byom.check_onnx_dir(onnx_dir)
    (onnx_dir / "tokenizer.json").unlink()
    with pytest.raises(CorruptModelError, match="tokenizer.json"):
        byom.check_onnx_dir(onnx_dir)


def test_context_below_the_sliding_window_is_refused(home, onnx_dir):
    with pytest.raises(InvalidRequestError, match="sliding window"):
        byom.prepare_folder(onnx_dir, name="unit", n_ctx=256)


def test_native_error_text_drops_the_cpp_location():
    raw = ("local_model_catalog.cc:312 virtual void fl::LocalModelCatalog::UnregisterModel(const std::string&) "
           "model not found: nothere:1")
    assert sdk.sdk_error_text(Exception(raw)) == "model not found: nothere:1"
    assert sdk.sdk_error_text(Exception("plain message")) == "plain message"


def _bare_runtime() -> FoundryLocalRuntime:
    rt = object.__new__(FoundryLocalRuntime)
    rt._closed = False
    rt.model_id = "unit:1"
    return rt


def test_options_are_checked_before_the_sdk_sees_them():
    rt = _bare_runtime()
    assert rt._options({"max_tokens": 8, "stop": "\n"})["stop"] == ["\n"]
    with pytest.raises(UnsupportedFeatureError, match="constrained decoding"):
        rt._options({"json_schema": {"type": "object"}})
    with pytest.raises(InvalidRequestError, match="Unknown option"):
        rt._options({"n_gpu_layers": 32})
    with pytest.raises(InvalidRequestError):
        rt._options({"max_tokens": 0})
    with pytest.raises(InvalidRequestError):
        rt._options({"temperature": -1})


def _result(text: str, finish: str = "stop") -> Result:
    return Result(text, finish, Usage(10, 5), Timings(0.1, 0.5, 10, 5), "unit:1", "foundry-local")  # type: ignore[arg-type]


def test_auto_tool_calls_are_parsed_from_text():
    rt = _bare_runtime()
    auto = _result('Sure. <tool_call>{"name": "lookup_order", "arguments": {"order_id": "A"}}')
    assert rt._finish_chat(auto, "auto", [ORDER_TOOL]).tool_calls[0].name == "lookup_order"
    with pytest.raises(ToolCallError):
        rt._finish_chat(_result('<tool_call>{"name": "lookup_order", "arguments": {"order'), "auto", [ORDER_TOOL])
    assert rt._finish_chat(_result("Hello"), "auto", [ORDER_TOOL]).tool_calls == ()


def _scripted(rt, answers):
    """Make the runtime's one-value generation step return these texts in turn."""
    it = iter(answers)
    rt._step = lambda prompt, opts, stop, max_tokens: iter([_result(next(it))])
    return rt


def test_a_forced_call_is_built_field_by_field_and_validated():
    from conftest import TICKET_TOOL

    rt = _scripted(_bare_runtime(), ['ORD-1 "quoted"'])
    items = list(rt._guided_call("prompt", {}, [ORDER_TOOL, TICKET_TOOL], "lookup_order"))
    text = "".join(i.text for i in items[:-1])
    assert text == TOOL_CALL_OPEN + '{"name": "lookup_order", "arguments": {"order_id": "ORD-1 \\"quoted\\""}}</tool_call>'
    assert items[-1].tool_calls[0].arguments == {"order_id": 'ORD-1 "quoted"'} and items[-1].finish_reason == "tool_calls"
    rt = _scripted(_bare_runtime(), ["create_ticket", "Screen flickers", "urgent"])
    with pytest.raises(ToolCallError, match="priority"):  # not in the enum: the schema check catches it
        list(rt._guided_call("prompt", {}, [ORDER_TOOL, TICKET_TOOL], None))
    rt = _scripted(_bare_runtime(), ["refund_everything"])
    with pytest.raises(ToolCallError, match="no known tool"):
        list(rt._guided_call("prompt", {}, [ORDER_TOOL, TICKET_TOOL], None))


class FakeRuntime:
    """Stands in for a FoundryLocalRuntime in the pool and monitor tests."""

    def __init__(self, mb: float, reply: str = "ok", fail: bool = False) -> None:
        self.is_loaded = False
        self.load_rss_mb = None
        self._mb, self.reply, self.fail = mb, reply, fail

    def load(self) -> float:
        self.is_loaded, self.load_rss_mb = True, self._mb
        return 0.5

    def unload(self) -> None:
        self.is_loaded = False

    def close(self) -> None:
        self.is_loaded = False

    def health(self) -> Health:
        return Health(self.is_loaded, "fake")

    def info(self) -> RuntimeInfo:
        return RuntimeInfo("fake", "fake:1", 512, frozenset())

    def chat(self, messages, **options):  # noqa: ANN001, ANN201
        if self.fail:
            raise InvalidRequestError("broken on purpose")
        return _result(self.reply)


def test_pool_evicts_the_least_recently_used_model_to_fit_the_budget():
    now = [0.0]
    pool = ModelPool(max_memory_mb=1000, max_models=3, clock=lambda: now[0])
    for name in ("a", "b", "c"):
        pool.add(name, FakeRuntime(400), estimate_mb=400)
    pool.get("a")
    now[0] = 1
    pool.get("b")
    now[0] = 2
    pool.get("a")  # a is now the most recently used
    now[0] = 3
    pool.get("c")  # 3 x 400 > 1000: b goes
    assert sorted(pool.loaded()) == ["a", "c"]
    assert [e["model"] for e in pool.events if e["event"] == "unload"] == ["b"]
    now[0] = 100
    pool.get("c")
    assert pool.unload_idle(50) == ["a"] and pool.loaded() == ["c"]


def test_pool_refuses_a_model_bigger_than_the_budget_and_unknown_names():
    pool = ModelPool(max_memory_mb=100)
    pool.add("big", FakeRuntime(400), estimate_mb=400)
    with pytest.raises(InvalidRequestError, match="more than the whole budget"):
        pool.get("big")
    with pytest.raises(ModelNotFoundError):
        pool.get("nope")
    with pytest.raises(InvalidRequestError):
        ModelPool(max_memory_mb=0)


def test_service_falls_back_and_monitor_counts_errors():
    monitor = Monitor()
    good = AgentService(FakeRuntime(1, reply="Fine."), name="good", monitor=monitor)
    bad = AgentService(FakeRuntime(1, fail=True), name="bad", monitor=monitor)
    good.runtime.load()
    assert good.process_request("hello") == "Fine."
    assert bad.process_request("hello").startswith("I'm having technical difficulties")
    assert bad.log[0].status == "error" and "broken on purpose" in bad.log[0].error
    metrics = monitor.collect_metrics()["models"]
    assert metrics["bad"]["error_rate"] == 1.0 and metrics["good"]["errors"] == 0
    assert monitor.collector.stats(runtime="bad")[0].errors_by_type == {"EdgeAgentsError": 1}  # one counter
    assert monitor.health_status()["overall_status"] == "degraded"  # "bad" is not loaded


def test_keyword_router():
    routes = {"technical": ["crash", "error"], "customer_service": ["order", "refund"]}
    assert route_by_keywords("My app keeps crashing with an error", routes, "customer_service") == "technical"
    assert route_by_keywords("Where is my order?", routes, "technical") == "customer_service"
    assert route_by_keywords("Hello", routes, "customer_service") == "customer_service"


def test_without_the_sdk_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setattr(sdk, "sdk_available", lambda: False)
    from edgeagents.errors import RuntimeUnavailableError

    with pytest.raises(RuntimeUnavailableError, match="foundry"):
        sdk.require_sdk()
    assert "foundry" in sdk.why_unavailable()


def test_open_runtime_by_name_says_what_to_install_without_the_sdk(monkeypatch):
    from edgeagents.errors import RuntimeUnavailableError
    from edgeagents.runtimes import open_runtime

    monkeypatch.setattr(sdk, "sdk_available", lambda: False)
    with pytest.raises(RuntimeUnavailableError, match="foundry"):
        open_runtime("foundry-local")
