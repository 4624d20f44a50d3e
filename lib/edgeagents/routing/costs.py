"""Cost of a request: on your own machine versus a cloud API, with every assumption visible.

The guide says small models are "10–30x cheaper". Whether that holds for *you* depends on a
handful of numbers you can change: how many watts the machine draws while generating, what a
kWh costs, what the hardware cost and over how many years and requests it is written off, and
which cloud model you compare with. :class:`LocalAssumptions` holds them; the functions here
turn measured seconds and tokens into dollars per 1,000 requests.

>>> a = LocalAssumptions(watts=30, usd_per_kwh=0.30, hardware_usd=1200, amortisation_years=3, requests_per_day=2000)
>>> local_cost_per_1k(seconds_per_request=1.5, assumptions=a).total_usd
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from edgeagents.errors import InvalidRequestError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PRICES_FILE = DATA_DIR / "cloud_prices.json"


@dataclass(frozen=True)
class CloudPrice:
    """List price of one hosted model, in USD per 1M tokens."""

    provider: str
    model: str
    input: float
    output: float
    source: str = ""

    def cost_usd(self, prompt_tokens: float, completion_tokens: float) -> float:
        """Price of one request with these token counts."""
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1e6


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    note: str
    prices: tuple[CloudPrice, ...]

    def get(self, model: str) -> CloudPrice:
        for p in self.prices:
            if p.model == model or p.model.split(" ")[0] == model:
                return p
        names = ", ".join(p.model for p in self.prices)
        raise InvalidRequestError(f"No price for {model!r} in the table.", hint=f"Pick one of: {names}.")

    def rows(self) -> list[dict[str, Any]]:
        return [asdict(p) | {"as_of": self.as_of} for p in self.prices]


def load_cloud_prices(path: str | Path | None = None) -> PriceTable:
    """Read the dated cloud price table (the course's copy by default: update it, prices change)."""
    file = Path(path) if path else PRICES_FILE
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
        prices = tuple(
            CloudPrice(m["provider"], m["model"], float(m["input"]), float(m["output"]), m.get("source", ""))
            for m in raw["models"]
        )
    except FileNotFoundError:
        raise InvalidRequestError(f"No price table at {file}.", hint="Pass the path of a JSON file shaped like cloud_prices.json.") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidRequestError(
            f"The price table {file} is malformed ({type(exc).__name__}: {exc}).",
            hint="Each model needs provider, model, input and output (USD per 1M tokens).",
        ) from None
    for p in prices:
        if p.input < 0 or p.output < 0:
            raise InvalidRequestError(f"Negative price for {p.model} in {file}.")
    return PriceTable(str(raw.get("as_of", "unknown")), str(raw.get("note", "")), prices)


@dataclass(frozen=True)
class LocalAssumptions:
    """What running the model yourself costs. Every field is a guess you should change.

    Attributes:
        watts: extra power the machine draws while generating (a laptop CPU ~15–45 W, a desktop GPU 150–350 W).
        usd_per_kwh: electricity price.
        hardware_usd: purchase price of the machine (0 if you already own it and would anyway).
        amortisation_years: over how many years the hardware is written off.
        requests_per_day: how many requests share that hardware cost.
        share_of_hardware: fraction of the machine's cost charged to this workload (0–1).
    """

    watts: float = 30.0
    usd_per_kwh: float = 0.30
    hardware_usd: float = 1200.0
    amortisation_years: float = 3.0
    requests_per_day: float = 2000.0
    share_of_hardware: float = 1.0

    def validate(self) -> LocalAssumptions:
        for name in ("watts", "usd_per_kwh", "hardware_usd"):
            if getattr(self, name) < 0:
                raise InvalidRequestError(f"{name} cannot be negative.")
        if self.amortisation_years <= 0 or self.requests_per_day <= 0:
            raise InvalidRequestError(
                "amortisation_years and requests_per_day must be positive.",
                hint="Hardware is shared by the requests over its life; both numbers must be above 0.",
            )
        if not 0 <= self.share_of_hardware <= 1:
            raise InvalidRequestError("share_of_hardware must be between 0 and 1.")
        return self


@dataclass(frozen=True)
class LocalCost:
    """Local cost per 1,000 requests, split into energy and hardware."""

    energy_kwh: float
    energy_usd: float
    hardware_usd: float

    @property
    def total_usd(self) -> float:
        return self.energy_usd + self.hardware_usd


def seconds_for_request(prompt_tokens: float, completion_tokens: float, prompt_tps: float, decode_tps: float) -> float:
    """Estimated local seconds for a request of this size, from measured prompt and decode speeds."""
    if prompt_tps <= 0 or decode_tps <= 0:
        raise InvalidRequestError("prompt_tps and decode_tps must be positive (measure them first).")
    if prompt_tokens < 0 or completion_tokens < 0:
        raise InvalidRequestError("Token counts cannot be negative.")
    return prompt_tokens / prompt_tps + completion_tokens / decode_tps


def max_requests_per_day(seconds_per_request: float, parallel: int = 1) -> float:
    """How many requests one machine can serve in a day at this latency (one at a time per slot)."""
    if seconds_per_request <= 0 or parallel < 1:
        raise InvalidRequestError("seconds_per_request must be positive and parallel at least 1.")
    return 86_400 * parallel / seconds_per_request


def local_cost_per_1k(seconds_per_request: float, assumptions: LocalAssumptions) -> LocalCost:
    """Cost of 1,000 local requests that each keep the machine busy ``seconds_per_request``."""
    if seconds_per_request < 0:
        raise InvalidRequestError("seconds_per_request cannot be negative.")
    a = assumptions.validate()
    kwh = a.watts * seconds_per_request * 1000 / 3.6e6
    lifetime_requests = a.amortisation_years * 365 * a.requests_per_day
    hardware = a.hardware_usd * a.share_of_hardware / lifetime_requests * 1000
    return LocalCost(kwh, kwh * a.usd_per_kwh, hardware)


def cloud_cost_per_1k(prompt_tokens: float, completion_tokens: float, price: CloudPrice) -> float:
    """Cost of 1,000 requests of this size at a cloud list price."""
    if prompt_tokens < 0 or completion_tokens < 0:
        raise InvalidRequestError("Token counts cannot be negative.")
    return 1000 * price.cost_usd(prompt_tokens, completion_tokens)


def compare_costs(
    seconds_per_request: float,
    prompt_tokens: float,
    completion_tokens: float,
    assumptions: LocalAssumptions,
    table: PriceTable,
) -> list[dict[str, Any]]:
    """One row per cloud model: its cost per 1k requests and how many times the local cost it is."""
    local = local_cost_per_1k(seconds_per_request, assumptions)
    rows = [{"model": "local SLM (this machine)", "usd_per_1k": local.total_usd, "x_local": 1.0}]
    for p in table.prices:
        cloud = cloud_cost_per_1k(prompt_tokens, completion_tokens, p)
        rows.append({
            "model": f"{p.provider} {p.model}",
            "usd_per_1k": cloud,
            "x_local": cloud / local.total_usd if local.total_usd > 0 else float("inf"),
        })
    return rows


def share_handled_locally(pass_rates: dict[str, float], mix: dict[str, float], threshold: float = 0.8) -> float:
    """The guide's "70–80 % of agent tasks", computed: the share of your traffic whose task type the
    SLM passes at ``threshold`` or better.

    Args:
        pass_rates: measured pass rate per task type (0–1).
        mix: how much of your traffic each task type is (any non-negative weights).
        threshold: the pass rate you accept for keeping a task type local.
    """
    if not mix or any(w < 0 for w in mix.values()):
        raise InvalidRequestError("mix needs at least one task type and no negative weights.")
    total = sum(mix.values())
    if total <= 0:
        raise InvalidRequestError("mix weights sum to zero.")
    unknown = set(mix) - set(pass_rates)
    if unknown:
        raise InvalidRequestError(f"No measured pass rate for {sorted(unknown)}.", hint="Measure them first, or drop them from the mix.")
    return sum(w for k, w in mix.items() if pass_rates[k] >= threshold) / total


def blended_cost_per_1k(local_share: float, local_usd_per_1k: float, cloud_usd_per_1k: float) -> float:
    """Cost per 1k requests when ``local_share`` of them stay local and the rest go to the cloud."""
    if not 0 <= local_share <= 1:
        raise InvalidRequestError("local_share must be between 0 and 1.")
    return local_share * local_usd_per_1k + (1 - local_share) * cloud_usd_per_1k


def mean(values: Sequence[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0
