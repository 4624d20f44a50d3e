"""Cost accounting: local energy + hardware per 1k requests, cloud list prices, blended costs."""

import json

import pytest

from edgeagents.errors import InvalidRequestError
from edgeagents.routing.costs import (
    CloudPrice,
    LocalAssumptions,
    blended_cost_per_1k,
    cloud_cost_per_1k,
    compare_costs,
    load_cloud_prices,
    local_cost_per_1k,
    max_requests_per_day,
    seconds_for_request,
    share_handled_locally,
)


def test_price_table_is_dated_and_sourced():
    table = load_cloud_prices()
    assert table.as_of and table.as_of != "unknown"
    assert len(table.prices) >= 4
    assert all(p.source.startswith("https://") and p.input > 0 and p.output > 0 for p in table.prices)
    assert table.get("gpt-4o").output == pytest.approx(10.0)


def test_unknown_model_is_a_typed_error():
    with pytest.raises(InvalidRequestError, match="No price"):
        load_cloud_prices().get("gpt-99")


def test_malformed_table_is_a_typed_error(tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"models": [{"model": "x"}]}))
    with pytest.raises(InvalidRequestError, match="malformed"):
        load_cloud_prices(bad)
    with pytest.raises(InvalidRequestError, match="No price table"):
        load_cloud_prices(tmp_path / "missing.json")


def test_local_cost_energy_and_hardware():
    a = LocalAssumptions(watts=36, usd_per_kwh=0.5, hardware_usd=1095, amortisation_years=1, requests_per_day=1000)
    c = local_cost_per_1k(seconds_per_request=100, assumptions=a)
    # 36 W x 100 s x 1000 = 3.6e6 J = 1 kWh
    assert c.energy_kwh == pytest.approx(1.0)
    assert c.energy_usd == pytest.approx(0.5)
    # 1095 $ over 365,000 requests = 0.003 $ each, 3 $ per 1k
    assert c.hardware_usd == pytest.approx(3.0)
    assert c.total_usd == pytest.approx(3.5)


@pytest.mark.parametrize("bad", [dict(watts=-1), dict(requests_per_day=0), dict(amortisation_years=0), dict(share_of_hardware=2)])
def test_bad_assumptions_are_typed_errors(bad):
    with pytest.raises(InvalidRequestError):
        local_cost_per_1k(1.0, LocalAssumptions(**bad))


def test_cloud_cost_and_comparison():
    p = CloudPrice("X", "m", input=2.0, output=10.0)
    assert cloud_cost_per_1k(1000, 500, p) == pytest.approx(1000 * (2000 + 5000) / 1e6)
    with pytest.raises(InvalidRequestError):
        cloud_cost_per_1k(-1, 0, p)
    rows = compare_costs(1.0, 300, 200, LocalAssumptions(), load_cloud_prices())
    assert rows[0]["x_local"] == 1.0 and all(r["usd_per_1k"] > 0 for r in rows)


def test_share_handled_locally_and_blend():
    rates = {"a": 0.9, "b": 0.5, "c": 0.85}
    assert share_handled_locally(rates, {"a": 2, "b": 1, "c": 1}, threshold=0.8) == pytest.approx(0.75)
    with pytest.raises(InvalidRequestError, match="No measured"):
        share_handled_locally(rates, {"z": 1})
    with pytest.raises(InvalidRequestError):
        share_handled_locally(rates, {})
    assert blended_cost_per_1k(0.75, 1.0, 9.0) == pytest.approx(3.0)
    with pytest.raises(InvalidRequestError):
        blended_cost_per_1k(1.5, 1, 1)


def test_seconds_and_capacity():
    assert seconds_for_request(200, 40, prompt_tps=100, decode_tps=20) == pytest.approx(4.0)
    assert max_requests_per_day(4.0) == pytest.approx(21_600)
    with pytest.raises(InvalidRequestError):
        seconds_for_request(10, 10, 0, 10)
    with pytest.raises(InvalidRequestError):
        max_requests_per_day(0)
