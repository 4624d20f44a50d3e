"""Server-side metrics: vLLM's and llama.cpp's ``/metrics`` pages and Ollama's per-response durations.

The pages below are in each server's exact format (names, HELP and TYPE lines, labels) as its source writes them:
vLLM's ``vllm/v1/metrics/loggers.py`` (0.10+, and the older cache and inter-token names) and llama.cpp's
``tools/server`` metrics handler. The last test starts a real ``llama-server --metrics`` when one is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request

import pytest

from edgeagents.errors import InvalidRequestError
from edgeagents.runtimes import server_metrics as sm
from edgeagents.runtimes import server_metrics as vllm_metrics

VLLM_PAGE = """\
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="course"} 3.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="course"} 5.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="course"} 0.25
# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="course"} 420.0
# HELP vllm:generation_tokens_total Number of generation tokens processed.
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{engine="0",model_name="course"} 1234.0
# HELP vllm:request_success_total Count of successfully processed requests.
# TYPE vllm:request_success_total counter
vllm:request_success_total{engine="0",finished_reason="stop",model_name="course"} 1.0
vllm:request_success_total{engine="0",finished_reason="length",model_name="course"} 3.0
vllm:request_success_total{engine="0",finished_reason="abort",model_name="course"} 0.0
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.04",model_name="course"} 1.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.08",model_name="course"} 4.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="course"} 4.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="course"} 4.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="course"} 0.2
# HELP vllm:inter_token_latency_seconds Histogram of inter-token latency in seconds.
# TYPE vllm:inter_token_latency_seconds histogram
vllm:inter_token_latency_seconds_bucket{engine="0",le="0.01",model_name="course"} 100.0
vllm:inter_token_latency_seconds_bucket{engine="0",le="+Inf",model_name="course"} 124.0
vllm:inter_token_latency_seconds_count{engine="0",model_name="course"} 124.0
vllm:inter_token_latency_seconds_sum{engine="0",model_name="course"} 1.24
# HELP vllm:e2e_request_latency_seconds Histogram of e2e request latency in seconds.
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{engine="0",le="0.3",model_name="course"} 1.0
vllm:e2e_request_latency_seconds_bucket{engine="0",le="+Inf",model_name="course"} 4.0
vllm:e2e_request_latency_seconds_count{engine="0",model_name="course"} 4.0
vllm:e2e_request_latency_seconds_sum{engine="0",model_name="course"} 6.0
"""

# vLLM before 0.10 named the KV-cache gauge after the GPU and the inter-token histogram "time per output token".
VLLM_OLD_PAGE = """\
# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{model_name="course"} 0.5
# HELP vllm:time_per_output_token_seconds Histogram of time per output token in seconds.
# TYPE vllm:time_per_output_token_seconds histogram
vllm:time_per_output_token_seconds_bucket{le="+Inf",model_name="course"} 10.0
vllm:time_per_output_token_seconds_count{model_name="course"} 10.0
vllm:time_per_output_token_seconds_sum{model_name="course"} 0.3
"""

LLAMACPP_PAGE = """\
# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total 96
# HELP llamacpp:prompt_seconds_total Prompt process time
# TYPE llamacpp:prompt_seconds_total counter
llamacpp:prompt_seconds_total 0.48
# HELP llamacpp:tokens_predicted_total Number of generation tokens processed.
# TYPE llamacpp:tokens_predicted_total counter
llamacpp:tokens_predicted_total 64
# HELP llamacpp:tokens_predicted_seconds_total Predict process time
# TYPE llamacpp:tokens_predicted_seconds_total counter
llamacpp:tokens_predicted_seconds_total 1.6
# HELP llamacpp:n_decode_total Total number of llama_decode() calls
# TYPE llamacpp:n_decode_total counter
llamacpp:n_decode_total 68
# HELP llamacpp:n_tokens_max Largest observed n_tokens.
# TYPE llamacpp:n_tokens_max counter
llamacpp:n_tokens_max 40
# HELP llamacpp:n_busy_slots_per_decode Average number of busy slots per llama_decode() call
# TYPE llamacpp:n_busy_slots_per_decode counter
llamacpp:n_busy_slots_per_decode 1
# HELP llamacpp:prompt_tokens_seconds Average prompt throughput in tokens/s.
# TYPE llamacpp:prompt_tokens_seconds gauge
llamacpp:prompt_tokens_seconds 200
# HELP llamacpp:predicted_tokens_seconds Average generation throughput in tokens/s.
# TYPE llamacpp:predicted_tokens_seconds gauge
llamacpp:predicted_tokens_seconds 40
# HELP llamacpp:requests_processing Number of requests processing.
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 1
# HELP llamacpp:requests_deferred Number of requests deferred.
# TYPE llamacpp:requests_deferred gauge
llamacpp:requests_deferred 2
"""

# /api/chat's last chunk, "stream": false (durations in nanoseconds).
OLLAMA_RESPONSE = {
    "model": "edgeagents-course", "created_at": "2026-12-03T10:00:00Z",
    "message": {"role": "assistant", "content": "Hello!"}, "done": True, "done_reason": "length",
    "total_duration": 1_500_000_000, "load_duration": 250_000_000, "prompt_eval_count": 20,
    "prompt_eval_duration": 100_000_000, "eval_count": 32, "eval_duration": 800_000_000,
}


def test_vllm_page_parses_with_labels_and_histograms():
    parsed = sm.parse_prometheus(VLLM_PAGE)
    assert parsed[sm.RUNNING][0][0] == {"engine": "0", "model_name": "course"}
    flat = sm.flatten(parsed)
    assert "vllm:e2e_request_latency_seconds_bucket" not in flat
    snap = sm.vllm_snapshot(VLLM_PAGE)
    assert (snap.running, snap.waiting, snap.kv_cache_usage) == (3, 5, 0.25)
    assert (snap.prompt_tokens, snap.generation_tokens, snap.requests) == (420, 1234, 4)  # finish reasons summed
    assert snap.ttft_mean_s == pytest.approx(0.05)
    assert snap.inter_token_mean_s == pytest.approx(0.01)
    assert snap.e2e_mean_s == pytest.approx(1.5)


def test_vllm_older_names_are_read_too():
    snap = sm.vllm_snapshot(VLLM_OLD_PAGE)
    assert snap.kv_cache_usage == 0.5
    assert snap.inter_token_mean_s == pytest.approx(0.03)
    assert (snap.running, snap.ttft_mean_s) == (0, 0)  # absent: zero, not an error


def test_vllm_package_reads_through_the_same_parser():
    assert vllm_metrics.parse_prometheus is sm.parse_prometheus
    flat = vllm_metrics.flatten(vllm_metrics.parse_prometheus(VLLM_PAGE))
    assert vllm_metrics.sample(flat, 1.0).kv_cache_usage == 0.25


def test_llamacpp_page():
    snap = sm.llamacpp_snapshot(LLAMACPP_PAGE)
    assert (snap.prompt_tokens, snap.predicted_tokens, snap.decode_calls) == (96, 64, 68)
    assert (snap.prompt_s, snap.predicted_s) == (0.48, 1.6)
    assert (snap.prompt_tokens_per_s, snap.predicted_tokens_per_s) == (200, 40)
    assert (snap.requests_processing, snap.requests_deferred, snap.busy_slots_per_decode) == (1, 2, 1)
    # the gauge is llama.cpp's own mean: the counters agree with it
    assert snap.predicted_tokens / snap.predicted_s == pytest.approx(snap.predicted_tokens_per_s)


def test_not_prometheus_text_is_a_typed_error():
    with pytest.raises(InvalidRequestError) as err:
        sm.parse_prometheus('{"requests_processed": 3}\nnot a metric line at all')
    assert "--metrics" in (err.value.hint or "")


def test_ollama_durations_from_json_and_client_objects():
    d = sm.ollama_durations(OLLAMA_RESPONSE)
    assert (d.total_s, d.load_s, d.prompt_eval_s, d.eval_s) == (1.5, 0.25, 0.1, 0.8)
    assert (d.prompt_eval_count, d.eval_count) == (20, 32)
    assert d.eval_tokens_per_s == pytest.approx(40) and d.prompt_tokens_per_s == pytest.approx(200)
    ollama = pytest.importorskip("ollama")
    obj = ollama.ChatResponse(**OLLAMA_RESPONSE)
    assert sm.ollama_durations(obj) == d
    empty = sm.ollama_durations({"done": False})  # a streamed chunk before the last one
    assert (empty.eval_s, empty.eval_tokens_per_s) == (0, 0)


def _llama_server() -> str | None:
    return os.environ.get("EDGEAGENTS_LLAMA_SERVER") or shutil.which("llama-server")


@pytest.mark.skipif(_llama_server() is None, reason="no ggml llama-server binary (PATH or EDGEAGENTS_LLAMA_SERVER): "
                    "the course's llama.cpp server is llama-cpp-python's, which has no /metrics")
def test_real_llama_server_metrics(model_spec):
    from edgeagents.runtimes.process import free_port

    port = free_port()
    proc = subprocess.Popen([_llama_server(), "-m", str(model_spec.path), "--host", "127.0.0.1", "--port", str(port),
                             "-c", "512", "-t", "1", "--metrics"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        body = b'{"prompt": "The sky is", "n_predict": 8, "ignore_eos": true}'
        req = urllib.request.Request(f"{base}/completion", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            assert r.status == 200
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as r:
            snap = sm.llamacpp_snapshot(r.read().decode())
        assert snap.predicted_tokens >= 8 and snap.prompt_tokens > 0
        assert snap.requests_processing == 0 and snap.predicted_tokens_per_s > 0
    finally:
        proc.terminate()
        proc.wait(timeout=20)
