"""System sampling: this process's memory and CPU, the machine's, the GPU through NVML where there is one, and
their gauges in the Prometheus exposition beside prometheus-client's own process collector."""

from __future__ import annotations

import time

import pytest
from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from edgeagents.errors import InvalidRequestError
from edgeagents.monitoring import Collector, system
from edgeagents.monitoring import prometheus as prom


def test_snapshot_reads_this_process():
    cpu = system._CPU()
    first = system.snapshot(cpu)
    assert first.rss_bytes > 10 * 2**20  # a Python with pandas and numpy is well over 10 MiB
    assert first.process_cpu_percent is None  # no interval to measure over yet
    assert 0 < first.memory_percent <= 100
    sum(i * i for i in range(200_000))  # some CPU time for the next sample to see
    second = system.snapshot(cpu)
    assert second.process_cpu_percent is not None and second.process_cpu_percent >= 0
    assert 0 <= second.machine_cpu_percent <= 100


def test_proc_fallback_agrees_with_psutil(monkeypatch):
    rss, mem = system._memory()
    proc_s, busy_s, all_s = system._cpu_times(system.psutil.Process())
    monkeypatch.setattr(system, "psutil", None)
    rss2, mem2 = system._memory()
    proc2, busy2, all2 = system._cpu_times(None)
    assert rss2 == pytest.approx(rss, rel=0.2)
    assert mem2 == pytest.approx(mem, abs=10)
    assert proc2 >= proc_s * 0.9 and all2 >= all_s * 0.9 and busy2 <= all2


def test_gpu_is_reported_in_one_line_or_read():
    line = system.gpu_status()
    assert "\n" not in line
    sample = system.snapshot()
    if system.gpu_reading() is None:
        assert line.startswith("No GPU figures") and "None" in line
        assert (sample.gpu_utilization_percent, sample.gpu_memory_used_bytes) == (None, None)
    else:
        assert 0 <= sample.gpu_utilization_percent <= 100 and sample.gpu_memory_used_bytes > 0


def test_sampler_runs_in_the_background_and_stays_bounded():
    with system.SystemSampler(interval_s=0.01, max_samples=3) as sampler:
        assert sampler.running
        ballast = b"x" * (64 * 2**20)  # touched pages: resident
        while len(sampler.samples) < 3:
            time.sleep(0.005)
        seen = list(sampler.samples)
    assert not sampler.running
    assert len(sampler.samples) == 3  # the oldest fell out
    assert sampler.samples[-1].wall_time >= seen[-1].wall_time
    assert sampler.peak_rss_bytes >= 64 * 2**20 and len(ballast) > 0
    frame = sampler.frame()
    assert list(frame.columns[:2]) == ["t_s", "wall_time"] and frame["t_s"].iloc[0] == 0
    sampler.stop()  # stopping twice is harmless
    assert not sampler.running


def test_sampler_arguments_are_checked():
    for kwargs in ({"interval_s": 0}, {"max_samples": 0}, {"max_samples": system.MAX_SAMPLES + 1}):
        with pytest.raises(InvalidRequestError):
            system.SystemSampler(**kwargs)


def test_system_gauges_in_the_exposition_beside_the_process_collector():
    collector = Collector()
    sampler = system.SystemSampler(interval_s=60)
    assert "process_memory_usage" not in prom.exposition(collector, sampler)  # nothing sampled yet
    with sampler:
        pass
    text = prom.exposition(collector, sampler)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["process_memory_usage_bytes"].samples[0].value == sampler.latest().rss_bytes
    assert 0 <= families["system_memory_utilization_ratio"].samples[0].value <= 1
    assert ("hw_gpu_utilization_ratio" in families) == (sampler.latest().gpu_utilization_percent is not None)

    # prometheus-client's own process collector in the same registry: no name is taken twice
    reg = prom.registry(collector, sampler)
    ProcessCollector(registry=reg)
    ours = set(families)
    theirs = {f.name for f in text_string_to_metric_families(generate_latest(
        _only(ProcessCollector(registry=None))).decode())}
    assert theirs and not ours & theirs
    names = [f.name for f in text_string_to_metric_families(generate_latest(reg).decode())]
    assert len(names) == len(set(names))


def _only(c) -> CollectorRegistry:
    reg = CollectorRegistry()
    reg.register(c)
    return reg
