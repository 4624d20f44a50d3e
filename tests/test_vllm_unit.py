"""vLLM pieces that need no server: the chat template, metrics parsing, templates, tier choice, advice, bad input."""

from __future__ import annotations

import json

import httpx
import pytest

from edgeagents.errors import InvalidRequestError, ModelNotFoundError, RuntimeUnavailableError
from edgeagents.runtimes import server_metrics as m
from edgeagents.runtimes.chat_template import render_chat_text
from edgeagents.runtimes.vllm import templates as t
from edgeagents.runtimes.vllm.runtime import CHAT_TEMPLATE, VLLMServer, check_model_folder
from edgeagents.vllm.monitoring import PerformanceMetrics, VLLMMonitor
from edgeagents.vllm.multiagent import HighThroughputManager, Tier


def _hf_env():
    """A Jinja environment configured like transformers' chat-template renderer."""
    jinja2 = pytest.importorskip("jinja2")
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):  # noqa: ANN001, ANN202
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env.filters["tojson"] = tojson
    return env.from_string(CHAT_TEMPLATE.read_text())


CONVERSATIONS = [
    [{"role": "user", "content": "Hi"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
     {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Again, café?"}],
    [{"role": "user", "content": "Where is A1?"},
     {"role": "assistant", "content": "", "tool_calls": [
         {"id": "c1", "type": "function", "function": {"name": "lookup_order", "arguments": {"order_id": "A1"}}}]},
     {"role": "tool", "tool_call_id": "c1", "content": "shipped"}],
    [{"role": "user", "content": "Open a ticket"},
     {"role": "assistant", "content": None, "tool_calls": [
         {"id": "c2", "type": "function",
          "function": {"name": "create_ticket", "arguments": '{"summary": "x", "priority": "low"}'}}]},
     {"role": "tool", "tool_call_id": "c2", "name": "create_ticket", "content": "T-1"},
     {"role": "user", "content": "Thanks"}],
]


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=lambda c: f"{len(c)}-messages")
@pytest.mark.parametrize("with_tools", [False, True])
def test_jinja_template_renders_the_course_format(conversation, with_tools, tools):
    tools = tools if with_tools else None
    rendered = _hf_env().render(messages=conversation, tools=tools, add_generation_prompt=True, bos_token="<bos>")
    assert rendered == "<bos>" + render_chat_text(conversation, tools)


def test_jinja_template_without_generation_prompt():
    conv = CONVERSATIONS[1]
    rendered = _hf_env().render(messages=conv, tools=None, add_generation_prompt=False, bos_token="")
    assert rendered == render_chat_text(conv, add_generation_prompt=False)


SAMPLE_METRICS = """# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="course"} 3.0
vllm:num_requests_waiting{engine="0",model_name="course"} 5.0
vllm:kv_cache_usage_perc{engine="0",model_name="course"} 0.25
vllm:generation_tokens_total{engine="0",model_name="course"} 1234.0
vllm:e2e_request_latency_seconds_bucket{engine="0",le="0.3",model_name="course"} 1.0
vllm:e2e_request_latency_seconds_sum{engine="0",model_name="course"} 6.0
vllm:e2e_request_latency_seconds_count{engine="0",model_name="course"} 4.0
"""


def test_metrics_parsing():
    parsed = m.parse_prometheus(SAMPLE_METRICS)
    assert parsed[m.RUNNING][0][0]["model_name"] == "course"
    flat = m.flatten(parsed)
    assert flat[m.RUNNING] == 3 and flat[m.WAITING] == 5
    assert "vllm:e2e_request_latency_seconds_bucket" not in flat
    assert m.histogram_mean(flat, m.E2E) == pytest.approx(1.5)
    assert m.histogram_mean(flat, m.TTFT) == 0.0
    assert m.sample(flat, 1.0).kv_cache_usage == 0.25


def test_guide_templates_and_commands():
    assert set(t.GUIDE_TEMPLATES) == set(t.DeploymentScenario)
    cmd = t.generate_vllm_command("my/model", "production_high", port=8001)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"  # only this machine, unless asked otherwise
    assert cmd[cmd.index("--tensor-parallel-size") + 1] == "2"
    assert "--speculative-model" in cmd and "--enable-chunked-prefill" in cmd
    modern = t.modernize_command(cmd)
    assert "--disable-log-requests" not in modern and "--speculative-model" not in modern
    assert json.loads(modern[modern.index("--speculative-config") + 1])["model"] == "small_draft_model"
    assert t.serve_args(cmd)[:2] == ["--model", "my/model"]


@pytest.mark.parametrize(
    "override",
    [{"gpu_memory_utilization": 1.5}, {"gpu_memory_utilization": 0}, {"max_model_len": -1},
     {"max_num_seqs": "many"}, {"tensor_parallel_size": 1.5}],
)
def test_invalid_template_value_is_a_typed_error(override):
    with pytest.raises(InvalidRequestError):
        t.get_config_template("development", **override)


def test_unknown_scenario_is_a_typed_error():
    with pytest.raises(InvalidRequestError, match="not a deployment scenario"):
        t.get_config_template("moon_base")


def test_rejected_validation_raises_typed_error():
    v = t.Validation("x", False, "parse", "unrecognized arguments: --disable-log-requests")
    with pytest.raises(InvalidRequestError, match="disable-log-requests"):
        v.raise_if_invalid()


def test_tier_choice_follows_the_guide():
    tiers = [Tier("lightweight", "u", "m", max_concurrent=2), Tier("balanced", "u", "m", max_concurrent=2),
             Tier("capable", "u", "m", max_concurrent=2)]
    mgr = HighThroughputManager(tiers)
    assert mgr.get_optimal_tier("simple", {}) == "lightweight"
    assert mgr.get_optimal_tier("complex", {"capable": 2, "lightweight": 1, "balanced": 0}) == "balanced"
    planned = mgr.plan([{"id": i, "message": "Classify this ticket", "complexity": "simple"} for i in range(4)])
    assert [tier for _, tier in planned][:2] == ["lightweight", "lightweight"]
    assert planned[2][1] != "lightweight"
    with pytest.raises(InvalidRequestError):
        mgr.plan([{"id": 1, "message": "x", "complexity": "galactic"}])
    with pytest.raises(InvalidRequestError):
        mgr.plan([{"id": 1, "message": "  "}])


def _snap(**kw):
    base = dict(timestamp=0.0, requests_per_second=2.0, tokens_per_second=10.0, average_latency_ms=500.0,
                average_ttft_ms=100.0, utilization_percent=50.0, utilization_source="cpu", memory_used_gb=8.0,
                queue_length=0, active_requests=1, kv_cache_usage_percent=1.0)
    base.update(kw)
    return PerformanceMetrics(**base)


def test_autoscaling_rules():
    mon = VLLMMonitor({"a": dict})
    kinds = lambda snap: {r["type"] for r in mon.auto_scaling_recommendations({"a": snap})}  # noqa: E731
    assert kinds(_snap()) == set()
    assert "scale_up" in kinds(_snap(average_latency_ms=5000))
    assert "scale_out" in kinds(_snap(queue_length=80))
    assert "scale_down" in kinds(_snap(utilization_percent=5, requests_per_second=0, active_requests=0))
    assert kinds(_snap(utilization_source="unreachable")) == {"restart"}


def test_autoscaling_thresholds_are_the_shared_type():
    from edgeagents.errors import InvalidRequestError
    from edgeagents.monitoring import VLLM_GUIDE

    assert VLLMMonitor({"a": dict}).thresholds is VLLM_GUIDE
    strict = VLLMMonitor({"a": dict}, thresholds=VLLM_GUIDE.with_(queue_length=4, latency_p95_s=None))
    assert [r["type"] for r in strict.auto_scaling_recommendations({"a": _snap(queue_length=5)})] == ["scale_out"]
    assert strict.auto_scaling_recommendations({"a": _snap(average_latency_ms=10**6)}) == []  # rule off
    with pytest.raises(InvalidRequestError, match="Thresholds"):
        VLLMMonitor({"a": dict}, thresholds={"queue_length_max": 4})


def test_missing_model_folder(tmp_path):
    with pytest.raises(ModelNotFoundError):
        check_model_folder(tmp_path / "nope")
    (tmp_path / "x.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelNotFoundError, match="config.json"):
        check_model_folder(tmp_path)
    with pytest.raises(ModelNotFoundError):
        VLLMServer(tmp_path / "nope", python="/bin/true")


def test_no_vllm_is_a_typed_error(monkeypatch, tmp_path):
    monkeypatch.setenv("EDGEAGENTS_VLLM_PYTHON", str(tmp_path / "no-python"))
    with pytest.raises(RuntimeUnavailableError, match="make vllm"):
        VLLMServer(tmp_path)


def _fake_folder(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"")
    (tmp_path / "tokenizer.json").write_text("{}")
    return tmp_path


def test_server_not_running_is_a_typed_error(tmp_path):
    server = VLLMServer(_fake_folder(tmp_path), python="/bin/true")
    assert not server.health().ok
    with pytest.raises(RuntimeUnavailableError):
        server.metrics()
    with pytest.raises(RuntimeUnavailableError):
        server.runtime(timeout=5).chat([{"role": "user", "content": "Hi"}], max_tokens=4)
    server.stop()  # stopping a server that never started is fine


def test_server_that_exits_at_start_is_a_typed_error(tmp_path):
    server = VLLMServer(_fake_folder(tmp_path), python="/bin/false", log_path=tmp_path / "log.txt")
    with pytest.raises(RuntimeUnavailableError, match="exited"):
        server.start(timeout=20)
    assert server.processes() == []


def test_a_busy_port_is_a_typed_error_and_never_ready(tmp_path, busy_port):
    server = VLLMServer(_fake_folder(tmp_path), python="/bin/true", port=busy_port, log_path=str(tmp_path / "v.log"))
    assert server.log_path == tmp_path / "v.log"
    assert httpx.get(f"{server.root_url}/health").status_code == 200  # the port answers...
    assert not server.ready()  # ...but not from this server
    with pytest.raises(RuntimeUnavailableError, match=f"Port {busy_port} .*already in use") as info:
        server.start(timeout=20)
    assert "port" in info.value.hint and server.process is None


@pytest.mark.parametrize("port", [0, 65536, "8000"])
def test_a_port_that_is_not_a_port_is_a_typed_error(tmp_path, port):
    with pytest.raises(InvalidRequestError, match="not a TCP port"):
        VLLMServer(_fake_folder(tmp_path), python="/bin/true", port=port)


def test_command_line_for_cpu(tmp_path):
    server = VLLMServer(_fake_folder(tmp_path), python="/bin/true", max_num_seqs=4)
    cmd = server.command()
    assert cmd[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
    assert cmd[cmd.index("--tool-call-parser") + 1] == "hermes"
    assert cmd[cmd.index("--max-num-seqs") + 1] == "4"
    if not server.gpu:
        assert "--enforce-eager" in cmd and cmd[cmd.index("--dtype") + 1] == "float32"
    env = server.env()
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "1" and env["VLLM_CACHE_ROOT"].endswith("vllm-cache")


def test_service_reports_a_dead_backend_and_bad_input():
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("fastapi")
    from edgeagents.runtimes.process import free_port
    from edgeagents.vllm.service import Backend, ProductionService, ServiceRunner

    dead = f"http://127.0.0.1:{free_port()}/v1"
    service = ProductionService({"general_purpose": Backend(dead, "course")}, workers=2)
    with ServiceRunner(service) as url:
        r = httpx.post(f"{url}/chat", json={"message": "hi", "timeout": 20}, timeout=30)
        assert r.status_code == 502 and "backend failed" in r.json()["detail"]
        assert httpx.post(f"{url}/chat", json={"message": ""}).status_code == 422
        health = httpx.get(f"{url}/health").json()
        assert health["overall_status"] == "degraded"
        assert httpx.get(f"{url}/metrics").json()["requests_failed"] == 1
    with pytest.raises(InvalidRequestError):
        ProductionService({})


def test_ngram_speculation_builds_vllms_config(tmp_path):
    from edgeagents.runtimes.vllm import NgramSpeculation

    spec = NgramSpeculation(num_speculative_tokens=3, prompt_lookup_max=5, prompt_lookup_min=1)
    assert spec.config() == {"method": "ngram", "num_speculative_tokens": 3, "prompt_lookup_max": 5,
                             "prompt_lookup_min": 1}
    cmd = VLLMServer(_fake_folder(tmp_path), python="/bin/true", speculative=spec).command()
    assert json.loads(cmd[cmd.index("--speculative-config") + 1]) == spec.config()
    assert "--speculative-config" not in VLLMServer(_fake_folder(tmp_path), python="/bin/true").command()


@pytest.mark.parametrize(
    "kwargs",
    [{"num_speculative_tokens": 0}, {"num_speculative_tokens": 17}, {"num_speculative_tokens": 2.5},
     {"num_speculative_tokens": True}, {"prompt_lookup_max": "4"}, {"prompt_lookup_min": 5, "prompt_lookup_max": 3}],
)
def test_bad_ngram_speculation_is_a_typed_error(kwargs):
    from edgeagents.runtimes.vllm import NgramSpeculation

    with pytest.raises(InvalidRequestError) as info:
        NgramSpeculation(**kwargs)
    assert info.value.hint


def test_speculation_must_be_the_typed_option_and_set_once(tmp_path):
    from edgeagents.runtimes.vllm import NgramSpeculation

    with pytest.raises(InvalidRequestError, match="not an NgramSpeculation"):
        VLLMServer(_fake_folder(tmp_path), python="/bin/true", speculative={"method": "ngram"})
    with pytest.raises(InvalidRequestError, match="set twice"):
        VLLMServer(_fake_folder(tmp_path), python="/bin/true", speculative=NgramSpeculation(),
                   extra_args=["--speculative-config", "{}"])


def test_acceptance_counts_between_two_snapshots():
    from edgeagents.runtimes.vllm import SPEC_ACCEPTED_TOKENS, SPEC_DRAFT_TOKENS, acceptance

    page = (f"# TYPE {SPEC_DRAFT_TOKENS} counter\n{SPEC_DRAFT_TOKENS}{{engine=\"0\",model_name=\"course\"}} 60.0\n"
            f"# TYPE {SPEC_ACCEPTED_TOKENS} counter\n{SPEC_ACCEPTED_TOKENS}{{engine=\"0\",model_name=\"course\"}} 48.0\n")
    after = m.flatten(m.parse_prometheus(page))
    assert acceptance({SPEC_DRAFT_TOKENS: 20.0, SPEC_ACCEPTED_TOKENS: 8.0}, after) == (40.0, 40.0)
    assert acceptance({}, {}) == (0.0, 0.0)
