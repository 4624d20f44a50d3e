"""The guide's model catalog and the memory maths of Lab 02."""

import pytest

from edgeagents.errors import InvalidRequestError, ModelNotFoundError
from edgeagents.models import catalog as c


def test_catalog_has_the_guides_picks_and_the_course_model():
    keys = set(c.names())
    assert {"phi-4-mini", "qwen2.5-0.5b", "qwen2.5-coder-0.5b", "phi-4", "phi-3.5-mini", "gemma-3-270m"} <= keys
    assert any(k.startswith("llama-3.2") for k in keys)
    assert len(keys) == len(c.CATALOG)  # keys are unique


def test_phi4_is_above_the_guides_own_slm_line_and_says_so():
    phi4 = c.get("phi-4")
    assert phi4.params_b > c.SLM_MAX_PARAMS_B and not phi4.is_slm
    assert "10B" in phi4.note or "<10B" in phi4.note
    assert all(m.is_slm for m in c.CATALOG if m.key != "phi-4")


def test_course_model_figures_match_the_gguf():
    g = c.get("gemma-3-270m")
    assert (g.layers, g.kv_heads, g.head_dim, g.context_length) == (18, 1, 256, 32768)
    assert g.approximate is False


def test_get_forgives_case_and_rejects_unknown():
    assert c.get(" Phi-4-Mini ").key == "phi-4-mini"
    with pytest.raises(ModelNotFoundError) as exc:
        c.get("gpt-5")
    assert "Known keys" in str(exc.value)


def test_bits_per_weight_ordering_and_exact_formats():
    order = ["F32", "F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_0", "Q3_K_M", "Q2_K"]
    bits = [c.bits_per_weight(p) for p in order]
    assert bits == sorted(bits, reverse=True)
    assert c.bits_per_weight("q8_0") == 8.5 and c.bits_per_weight("Q4_0") == 4.5 and c.bits_per_weight("Q6_K") == 6.5625
    with pytest.raises(InvalidRequestError):
        c.bits_per_weight("Q7_Z")


def test_weights_gb():
    assert c.weights_gb(1.0, 16) == pytest.approx(2.0)
    assert c.weights_gb(7.0, "F32") == pytest.approx(28.0)
    assert c.weights_gb(3.8, "Q4_0") == pytest.approx(3.8 * 4.5 / 8)
    for bad in [(0, 16), (-1, 16), (1, 0), ("7", 16)]:
        with pytest.raises(InvalidRequestError):
            c.weights_gb(*bad)


def test_kv_cache_gb():
    # 2 (K,V) x 18 layers x 1 head x 256 dims x 2 bytes = 18,432 bytes per token
    assert c.kv_cache_gb("gemma-3-270m", 1000) == pytest.approx(18_432 * 1000 / 1e9)
    assert c.kv_cache_gb("phi-3.5-mini", 4096) > 2.5 * c.kv_cache_gb("phi-4-mini", 4096)  # 32 KV heads vs 8
    with pytest.raises(InvalidRequestError):
        c.kv_cache_gb("phi-4-mini", 0)


def test_fits_against_given_and_machine_ram():
    small = c.fits("qwen2.5-0.5b", "Q4_K_M", ram_gb=2.0, n_ctx=2048)
    assert small.fits and bool(small) and small.headroom_gb > 0
    big = c.fits("phi-4", "F16", ram_gb=16.0)
    assert not big.fits and big.needed_gb > 29
    here = c.fits("gemma-3-270m", "Q4_K_M")
    assert here.ram_gb == pytest.approx(c.available_ram_gb(), rel=0.2)
    assert set(here.as_row()) >= {"model", "precision", "weights_gb", "kv_cache_gb", "needed_gb", "ram_gb", "fits"}
    with pytest.raises(InvalidRequestError):
        c.fits("phi-4-mini", "Q4_K_M", ram_gb=-1)


def test_rows_for_tables():
    rows = c.memory_rows(["F16", "Q4_K_M"], ram_gb=8.0)
    assert len(rows) == 2 * len(c.CATALOG)
    assert len(c.catalog_rows()) == len(c.CATALOG) and "is_slm" in c.catalog_rows()[0]
