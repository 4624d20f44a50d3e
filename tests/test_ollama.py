"""Ollama: the logic (fast) and a real server (integration).

The integration tests start the server that `make ollama-server` installs (or $EDGEAGENTS_OLLAMA_BIN)
on 127.0.0.1 and a free port, create the course model from the local GGUF (no pull), and stop it
by its process group. That server is slow (a few tokens per second), so every request is tiny.
"""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from edgeagents.errors import (
    BackendError,
    EdgeAgentsError,
    InvalidRequestError,
    ModelNotFoundError,
    RuntimeUnavailableError,
)
from edgeagents.monitoring.alerts import OLLAMA_GUIDE
from edgeagents.ollama.service import (
    MonitoringService,
    MultiModelManager,
    ProductionService,
    classify_task,
    recommend_for_hardware,
)
from edgeagents.runtimes.ollama.manager import COURSE_MODEL, ModelFile, OllamaManager, course_template

PROMPT = "Q: What is the largest planet in the solar system?\nA:"
USER = [{"role": "user", "content": "What is the capital of France?"}]


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


# ----------------------------------------------------------------------------- logic (no server)
@pytest.mark.parametrize(
    ("task", "category"),
    [("simple routing", "lightweight"), ("Classify this ticket", "lightweight"), ("code debugging", "coding"),
     ("complex analysis", "capable"), ("write a poem", "balanced")],
)
def test_classify_task_follows_the_guides_keywords(task, category):
    assert classify_task(task) == category


def test_classify_task_rejects_empty():
    with pytest.raises(InvalidRequestError):
        classify_task("  ")


def test_modelfile_text():
    mf = ModelFile("/m/x.gguf", "/m/a.gguf", "{{ .Prompt }}", {"stop": ["<end_of_turn>"], "num_predict": 8})
    text = str(mf)
    assert text.splitlines()[:2] == ["FROM /m/x.gguf", "ADAPTER /m/a.gguf"]
    assert "PARAMETER stop '<end_of_turn>'" in text and "PARAMETER num_predict 8" in text
    assert 'TEMPLATE """{{ .Prompt }}"""' in text


def test_course_template_declares_tools_and_tool_calls():
    tpl = course_template()
    assert ".Tools" in tpl and ".ToolCalls" in tpl and "<tool_call>" in tpl and "<start_of_turn>model" in tpl


def test_hardware_tiers():
    small = recommend_for_hardware({"ram available (GB)": 1.5, "cpu cores (physical)": 2, "gpu": "none found"})
    mid = recommend_for_hardware({"ram available (GB)": 6, "cpu cores (physical)": 4, "gpu": "none found"})
    big = recommend_for_hardware({"ram available (GB)": 30, "cpu cores (physical)": 16, "gpu": "none found"})
    gpu = recommend_for_hardware({"ram available (GB)": 10, "cpu cores (physical)": 4, "gpu": "NVIDIA L4 (24 GB)"})
    assert [r["tier"] for r in (small, mid, big, gpu)] == ["low_resource", "medium_resource", "high_resource",
                                                           "high_resource"]
    assert "1.5 GB" in small["reason"]


def test_multi_model_manager_needs_a_fallback():
    with pytest.raises(InvalidRequestError):
        MultiModelManager(OllamaManager(f"http://127.0.0.1:{_dead_port()}"), {"lightweight": "x"})


def test_alerts_logic_with_the_guides_thresholds():
    class Down:  # a fake manager: this unit test is about the alert rules only
        def health(self):
            from edgeagents.runtimes.base import Health

            return Health(False, "down")

        def generate(self, *a, **k):
            raise RuntimeUnavailableError("nothing answers")

    mon = MonitoringService(Down(), "m", memory_percent=lambda: 90.0)  # type: ignore[arg-type]
    sample = mon.collect()
    alerts = {a.kind: a for a in mon.check_alerts(sample)}
    assert set(alerts) == {"availability", "errors", "memory"}
    assert alerts["availability"].severity == alerts["errors"].severity == "critical"
    assert mon.thresholds == OLLAMA_GUIDE == MonitoringService(Down(), "m").thresholds  # type: ignore[arg-type]
    # the probe went to the collector: its counts and the report come from the monitoring package
    stats = mon.stats()
    assert (stats.requests, stats.errors_by_type) == (1, {"RuntimeUnavailableError": 1})
    row = mon.summary().iloc[0]
    assert row["model"] == "m" and row["availability"] == 0.0 and row["success_rate"] == 0.0
    # a monitor that has probed nothing judges another one's sample on its health and memory alone
    fresh = MonitoringService(Down(), "m", thresholds=OLLAMA_GUIDE.with_(memory_percent=95.0))  # type: ignore[arg-type]
    assert {a.kind for a in fresh.check_alerts(sample)} == {"availability"}


def test_monitoring_thresholds_are_the_shared_type():
    with pytest.raises(InvalidRequestError) as info:
        MonitoringService(None, "m", thresholds={"response_time_ms": 2000})  # type: ignore[arg-type]
    assert "OLLAMA_GUIDE.with_" in info.value.hint


# ----------------------------------------------------------------------------- bad input without a server
def test_server_not_running_gives_typed_errors_fast():
    m = OllamaManager(f"http://127.0.0.1:{_dead_port()}", timeout=5)
    start = time.monotonic()
    assert m.health().ok is False
    for call in (m.list_models, lambda: m.chat("x", USER), lambda: m.pull("x")):
        with pytest.raises(RuntimeUnavailableError) as info:
            call()
        assert "ollama" in info.value.hint.lower()
    assert time.monotonic() - start < 10


def test_bad_binary_setting(monkeypatch, tmp_path):
    from edgeagents.runtimes.ollama.server import find_server

    monkeypatch.setenv("EDGEAGENTS_OLLAMA_BIN", str(tmp_path / "nope"))
    with pytest.raises(RuntimeUnavailableError):
        find_server()


def test_a_busy_port_is_a_typed_error_and_never_ready(tmp_path, busy_port):
    from edgeagents.runtimes.ollama.server import OllamaServer

    srv = OllamaServer(port=busy_port, models_dir=tmp_path / "models", log_path=str(tmp_path / "o.log"))
    assert srv.log_path == tmp_path / "o.log"
    assert httpx.get(f"{srv.base_url}/api/version").status_code == 200  # an Ollama answers there...
    assert not srv.ready()  # ...but it is not the one this object starts
    with pytest.raises(RuntimeUnavailableError, match=f"Port {busy_port} .*already in use") as info:
        srv.start(timeout=20)
    assert "port" in info.value.hint and srv.process is None and srv.pids() == []


@pytest.mark.parametrize("port", [0, -5, "11434"])
def test_a_port_that_is_not_a_port_is_a_typed_error(port):
    from edgeagents.runtimes.ollama.server import OllamaServer

    with pytest.raises(InvalidRequestError, match="not a TCP port"):
        OllamaServer(port=port)


# ----------------------------------------------------------------------------- a real server
@pytest.fixture(scope="module")
def server():
    from edgeagents.runtimes.ollama.server import OllamaServer

    srv = OllamaServer().start()
    yield srv
    pids = srv.pids()
    srv.stop()
    assert not [p for p in pids if _alive(p)], "server processes left behind"


@pytest.fixture(scope="module")
def manager(server):
    # these tests check the base model's known answers; the adapter has its own test below
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDGEAGENTS_MODEL", "base")
        m = OllamaManager(server.base_url, timeout=120)
        info = m.ensure_course_model(num_predict=16)
        assert info["name"] == COURSE_MODEL and info["model"].startswith("base")
        yield m
        m.close()


@pytest.mark.slow
def test_server_on_loopback_with_course_model(server, manager):
    assert server.base_url.startswith("http://127.0.0.1:")
    assert manager.health().ok
    names = [m["name"] for m in manager.list_models()]
    assert f"{COURSE_MODEL}:latest" in names
    shown = manager.show(COURSE_MODEL)
    assert "<start_of_turn>" in shown["template"] and "num_predict" in shown["parameters"]
    assert shown["details"]["quantization_level"] == "F16"
    assert "tools" in shown["capabilities"]  # the template renders .Tools
    assert manager.ensure_course_model(num_predict=16)["created"] is False  # idempotent


@pytest.mark.slow
def test_generate_is_real_and_reports_speed(manager):
    reply = manager.generate(COURSE_MODEL, PROMPT, raw=True, num_predict=4)
    assert "Jupiter" in reply.text
    assert reply.completion_tokens == 4 and reply.eval_s > 0 and reply.tokens_per_second > 0


@pytest.mark.slow
def test_chat_and_stream_with_the_ollama_client(manager):
    reply = manager.chat(COURSE_MODEL, USER, num_predict=4)
    assert reply.completion_tokens > 0 and reply.prompt_tokens > 5
    parts = list(manager.chat_stream(COURSE_MODEL, USER, num_predict=4))
    final = parts[-1]
    assert "".join(p for p in parts[:-1]) == final.text and final.completion_tokens == 4


@pytest.mark.slow
def test_chat_and_stream_with_the_openai_client(manager):
    oc = manager.openai_client(timeout=120)
    resp = oc.chat.completions.create(model=COURSE_MODEL, messages=USER, max_tokens=4, temperature=0)
    assert resp.usage.completion_tokens == 4
    pieces = [c.choices[0].delta.content or "" for c in oc.chat.completions.create(
        model=COURSE_MODEL, messages=USER, max_tokens=4, temperature=0, stream=True) if c.choices]
    assert "".join(pieces) == resp.choices[0].message.content
    from edgeagents.runtimes import OpenAICompatRuntime

    rt = OpenAICompatRuntime(manager.openai_url, COURSE_MODEL, timeout=120)
    assert rt.chat(USER, max_tokens=3).usage.completion_tokens == 3


@pytest.mark.slow
def test_ollama_runtime_interface(manager, tools):
    from edgeagents.runtimes.ollama.runtime import OllamaRuntime

    with OllamaRuntime(COURSE_MODEL, manager.host) as rt:
        result = rt.complete(PROMPT, max_tokens=4)
        assert "Jupiter" in result.text and result.usage.completion_tokens == 4
        stream = rt.chat_stream(USER, max_tokens=3)
        text = "".join(c.text for c in stream)
        assert stream.result is not None and stream.result.text == text
        with pytest.raises(InvalidRequestError):
            rt.chat([], max_tokens=3)
        with_tools = rt.chat([{"role": "user", "content": "Where is order A1?"}], tools=tools[:1], max_tokens=3)
        assert with_tools.usage.prompt_tokens > 60  # the tool list was rendered into the prompt


@pytest.mark.slow
def test_ps_lists_the_loaded_model(manager):
    manager.generate(COURSE_MODEL, PROMPT, raw=True, num_predict=1)
    loaded = manager.ps()
    assert any(m["name"].startswith(COURSE_MODEL) and m["size_mb"] > 500 for m in loaded)


@pytest.mark.slow
def test_model_not_found_and_offline_pull(manager):
    with pytest.raises(ModelNotFoundError):
        manager.chat("edgeagents-no-such-model", USER, num_predict=2)
    with pytest.raises(ModelNotFoundError):
        manager.show("edgeagents-no-such-model")
    start = time.monotonic()
    with pytest.raises(EdgeAgentsError) as info:
        manager.pull("edgeagents-no-such-model-xyz:1b")
    assert isinstance(info.value, (RuntimeUnavailableError, ModelNotFoundError))
    assert time.monotonic() - start < 60


@pytest.mark.slow
def test_services_on_the_real_server(manager):
    svc = ProductionService(manager, {"support": COURSE_MODEL}, num_predict=2)
    ok = svc.process_request("Hello", "support")
    bad = svc.process_request("Hello", "nobody")
    assert ok["status"] == "success" and bad["status"] == "error"
    assert svc.metrics()["error_rate_percent"] == 50.0
    mon = MonitoringService(manager, COURSE_MODEL, num_predict=2,
                            thresholds=OLLAMA_GUIDE.with_(latency_p95_s=0.001))  # any real request is slower
    sample = mon.collect()
    assert sample["ok"] and any(a.kind == "performance" for a in mon.check_alerts(sample))
    failed = mon.collect(model="edgeagents-no-such-model")
    assert not failed["ok"] and any(a.kind == "errors" for a in mon.check_alerts(failed))


@pytest.mark.slow
def test_server_killed_mid_stream_gives_typed_error(manager):
    from edgeagents.runtimes.ollama.server import OllamaServer

    srv = OllamaServer(models_dir=manager_models_dir(manager)).start()
    try:
        m = OllamaManager(srv.base_url, timeout=60)
        m.ensure_course_model(num_predict=16)
        stream = m.chat_stream(COURSE_MODEL, USER, num_predict=200)
        start = time.monotonic()
        with pytest.raises((BackendError, RuntimeUnavailableError)):
            for i, _ in enumerate(stream):
                if i == 0:
                    threading.Thread(target=srv.stop, kwargs={"timeout": 5}).start()
        assert time.monotonic() - start < 60
    finally:
        srv.stop()
    assert not [p for p in srv.pids() if _alive(p)]


def manager_models_dir(manager):
    from edgeagents.settings import load_settings

    return load_settings().home / "ollama" / "models"


# ----------------------------------------------------------------------------- adapter merge (Ollama's engine refuses ADAPTER)
def _tiny_gguf(path, tensors, **kv):
    import gguf

    w = gguf.GGUFWriter(str(path), "gemma3")
    for k, v in kv.items():
        if isinstance(v, str):
            w.add_string(k, v)
        else:
            w.add_float32(k, v)
    for name, arr in tensors.items():
        w.add_tensor(name, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def test_merge_lora_adds_the_scaled_low_rank_update(tmp_path):
    import numpy as np
    from gguf import GGUFReader

    from edgeagents.runtimes.ollama.merge import merge_lora

    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 4)).astype(np.float16)  # (out, in)
    norm = np.ones(4, dtype=np.float32)
    a, b = rng.standard_normal((2, 4)).astype(np.float32), rng.standard_normal((6, 2)).astype(np.float32)
    base = _tiny_gguf(tmp_path / "base.gguf", {"blk.0.attn_q.weight": w, "blk.0.attn_norm.weight": norm})
    lora = _tiny_gguf(tmp_path / "lora.gguf", {"blk.0.attn_q.weight.lora_a": a, "blk.0.attn_q.weight.lora_b": b},
                      **{"general.type": "adapter", "adapter.type": "lora", "adapter.lora.alpha": 4.0})
    out = merge_lora(base, lora, tmp_path / "merged.gguf")
    tensors = {t.name: t for t in GGUFReader(out).tensors}
    merged = np.array(tensors["blk.0.attn_q.weight"].data).reshape(6, 4).astype(np.float32)
    expected = w.astype(np.float32) + (4.0 / 2) * (b @ a)
    assert np.allclose(merged, expected, atol=1e-2)
    assert np.array_equal(np.array(tensors["blk.0.attn_norm.weight"].data), norm)
    mtime = out.stat().st_mtime_ns
    assert merge_lora(base, lora, out).stat().st_mtime_ns == mtime  # cached
    assert not list(tmp_path.glob(".merge-*"))  # no partial file left


def test_merge_lora_bad_adapter(tmp_path):
    import numpy as np

    from edgeagents.errors import CorruptModelError
    from edgeagents.runtimes.ollama.merge import merge_lora

    base = _tiny_gguf(tmp_path / "base.gguf", {"blk.0.attn_q.weight": np.zeros((6, 4), dtype=np.float16)})
    wrong = _tiny_gguf(tmp_path / "wrong.gguf", {"blk.9.ffn_up.weight.lora_a": np.zeros((2, 4), dtype=np.float32),
                                                 "blk.9.ffn_up.weight.lora_b": np.zeros((6, 2), dtype=np.float32)})
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a gguf")
    for adapter in (wrong, junk, tmp_path / "missing.gguf"):
        with pytest.raises((CorruptModelError, ModelNotFoundError)):
            merge_lora(base, adapter, tmp_path / "merged.gguf")
    assert not (tmp_path / "merged.gguf").exists()


def test_open_runtime_knows_ollama():
    from edgeagents.runtimes import open_runtime
    from edgeagents.runtimes.ollama.runtime import OllamaRuntime

    rt = open_runtime("ollama", host=f"http://127.0.0.1:{_dead_port()}", timeout=5)
    assert isinstance(rt, OllamaRuntime) and rt.model == "edgeagents-course"
    assert rt.health().ok is False
    with pytest.raises(RuntimeUnavailableError):
        rt.chat(USER, max_tokens=2)
    rt.close()


@pytest.mark.slow
def test_course_adapter_tool_call_through_ollama(manager, tools, monkeypatch):
    """With the course adapter shipped, it is merged into the F16 weights and Ollama parses its tool calls."""
    from edgeagents.models.course import course_adapter_path

    if course_adapter_path() is None:
        pytest.skip("the course adapter is not shipped in this checkout (lab 07 / the lora branch adds it)")
    monkeypatch.setenv("EDGEAGENTS_MODEL", "course")
    info = manager.ensure_course_model("edgeagents-course-adapter", num_predict=48)
    assert "merged" in info["model"]
    reply = manager.chat("edgeagents-course-adapter", [{"role": "user", "content": "Where is my order ORD-1043?"}],
                         tools=tools[:1], num_predict=48)
    assert reply.tool_calls and reply.tool_calls[0]["name"] == "lookup_order", reply.text
