"""The small language models the guide picks, as data, and the memory maths to size them.

The guide defines a small language model (SLM) as one that runs on a consumer device and
answers one user's agentic requests fast enough to be practical; in practice, fewer than
10 billion parameters. Its picks are below, with the course model added for reference.

Memory maths (what Lab 02 teaches):

- weights: ``params × bits_per_weight / 8`` bytes (:func:`weights_gb`);
- KV cache: ``2 (K and V) × layers × kv_heads × head_dim × context × bytes per element``
  (:func:`kv_cache_gb`);
- "does it fit": weights + KV cache + a runtime overhead against the RAM you have (:func:`fits`).

Figures marked ``approximate=True`` were taken from model cards as remembered, not read
from a file here: check the model card before you rely on them. GB means 10⁹ bytes.

>>> from edgeagents.models.catalog import get, weights_gb, fits
>>> round(weights_gb(get("phi-4-mini").params_b, "Q4_K_M"), 2)
2.33
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import psutil

from edgeagents.errors import InvalidRequestError, ModelNotFoundError

SLM_MAX_PARAMS_B = 10.0
"""The guide's rule of thumb: an SLM has fewer than 10 billion parameters."""

DEFAULT_OVERHEAD_GB = 0.3
"""Runtime overhead on top of weights and KV cache (compute buffers, the runtime itself); a rough figure."""


@dataclass(frozen=True)
class Precision:
    """A storage format for weights and how many bits one weight costs in it.

    ``exact`` is True for the fixed-block formats (the bits per weight follow from the
    block layout); the ``_K_M`` / ``_K`` mixes keep some tensors at a higher precision, so
    their effective figure is an average measured on 7–8B models and varies per model.
    """

    name: str
    bits_per_weight: float
    exact: bool
    note: str


PRECISIONS: dict[str, Precision] = {
    p.name: p
    for p in (
        Precision("F32", 32.0, True, "full single precision; how models are trained"),
        Precision("F16", 16.0, True, "half precision; how most checkpoints ship"),
        Precision("Q8_0", 8.5, True, "8-bit blocks of 32 with one F16 scale; near lossless"),
        Precision("Q6_K", 6.5625, True, "6-bit K-quant super-blocks"),
        Precision("Q5_K_M", 5.7, False, "mostly 5-bit K-quants, some tensors at 6 bits"),
        Precision("Q4_K_M", 4.9, False, "mostly 4-bit K-quants, some tensors at 6 bits; the usual default"),
        Precision("Q4_0", 4.5, True, "4-bit blocks of 32 with one F16 scale; simple and fast"),
        Precision("Q3_K_M", 3.9, False, "mostly 3-bit K-quants; quality starts to drop"),
        Precision("Q2_K", 3.2, False, "2-bit K-quants with larger tensors kept higher; large quality loss"),
    )
}
"""Bits per weight of the llama.cpp formats Lab 02 and Lab 03 use."""


@dataclass(frozen=True)
class ModelCard:
    """One model of the catalog.

    ``kv_heads`` × ``head_dim`` × ``layers`` set the KV cache per token. ``approximate`` is
    True where a figure comes from memory of the model card rather than from a file.
    """

    key: str
    name: str
    params_b: float
    role: str
    context_length: int
    licence: str
    layers: int
    kv_heads: int
    head_dim: int
    guide_says: str = ""
    approximate: bool = True
    note: str = ""

    @property
    def is_slm(self) -> bool:
        """Below the guide's own 10-billion-parameter line."""
        return self.params_b < SLM_MAX_PARAMS_B

    def kv_bytes_per_token(self, bytes_per_element: float = 2.0) -> float:
        return 2 * self.layers * self.kv_heads * self.head_dim * bytes_per_element

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["is_slm"] = self.is_slm
        return row


CATALOG: tuple[ModelCard, ...] = (
    ModelCard(
        "phi-4-mini", "Phi-4-mini (instruct)", 3.8, "general agent tasks, balanced (the guide's default)",
        131_072, "MIT", 32, 8, 128,
        guide_says="3.8B; '2.4GB' as a Foundry Local download",
    ),
    ModelCard(
        "qwen2.5-0.5b", "Qwen2.5-0.5B (instruct)", 0.49, "routing and classification, very fast",
        32_768, "Apache-2.0", 24, 2, 64,
        guide_says="0.5B; '500MB', '<100ms'",
    ),
    ModelCard(
        "qwen2.5-coder-0.5b", "Qwen2.5-Coder-0.5B (instruct)", 0.49, "code-related agent tasks",
        32_768, "Apache-2.0", 24, 2, 64,
        guide_says="0.5B",
    ),
    ModelCard(
        "phi-4", "Phi-4", 14.7, "complex reasoning when resources allow",
        16_384, "MIT", 40, 10, 128,
        guide_says="'7B', '7GB'",
        note="The guide calls it 7B; Phi-4 has about 14.7B parameters, above the guide's own <10B SLM line.",
    ),
    ModelCard(
        "llama-3.2-1b", "Llama 3.2 1B (instruct)", 1.24, "lightweight chat and summarising on device",
        131_072, "Llama 3.2 Community License", 16, 8, 64,
        guide_says="used via Ollama (llama3.2:1b)",
    ),
    ModelCard(
        "llama-3.2-3b", "Llama 3.2 3B (instruct)", 3.21, "general assistant on device",
        131_072, "Llama 3.2 Community License", 28, 8, 128,
        guide_says="used via vLLM (meta-llama/Llama-3.2-3B-Instruct)",
    ),
    ModelCard(
        "phi-3.5-mini", "Phi-3.5-mini (instruct)", 3.8, "general agent tasks, long context",
        131_072, "MIT", 32, 32, 96,
        guide_says="used via Ollama and vLLM (microsoft/Phi-3.5-mini-instruct)",
        note="No grouped-query attention (32 KV heads): its KV cache per token is large.",
    ),
    ModelCard(
        "gemma-3-270m", "Gemma 3 270M (base) — the course model", 0.268, "the course model: completion, scoring, constrained output",
        32_768, "Gemma Terms of Use", 18, 1, 256,
        guide_says="not in the guide",
        approximate=False,
        note="Figures read from the course GGUF (Lab 02 shows them). Base model: no chat template.",
    ),
)


def names() -> list[str]:
    """The catalog's keys."""
    return [m.key for m in CATALOG]


def get(key: str) -> ModelCard:
    """A catalog entry by key (``"phi-4-mini"``); case and spaces are forgiven."""
    wanted = key.strip().lower().replace(" ", "-")
    for card in CATALOG:
        if card.key == wanted:
            return card
    raise ModelNotFoundError(f"No model {key!r} in the catalog.", hint=f"Known keys: {', '.join(names())}.")


def precision(name: str) -> Precision:
    """A precision by name (``"Q4_K_M"``, case forgiven)."""
    p = PRECISIONS.get(name.strip().upper())
    if p is None:
        raise InvalidRequestError(f"Unknown precision {name!r}.", hint=f"Use one of: {', '.join(PRECISIONS)}.")
    return p


def bits_per_weight(name: str) -> float:
    """Bits one weight costs in the format ``name`` (approximate for the K-quant mixes)."""
    return precision(name).bits_per_weight


def weights_gb(params_b: float, bits: float | str) -> float:
    """Size of the weights in GB: ``params_b`` billion parameters at ``bits`` bits each.

    ``bits`` is a number of bits per weight or a precision name (``"Q4_K_M"``).
    """
    if isinstance(bits, str):
        bits = bits_per_weight(bits)
    if not isinstance(params_b, (int, float)) or params_b <= 0:
        raise InvalidRequestError(f"params_b={params_b!r} must be a positive number of billions of parameters.")
    if not isinstance(bits, (int, float)) or bits <= 0:
        raise InvalidRequestError(f"bits={bits!r} must be a positive number of bits per weight.")
    return params_b * 1e9 * bits / 8 / 1e9


def kv_cache_gb(model: ModelCard | str, n_ctx: int, bytes_per_element: float = 2.0) -> float:
    """KV cache for ``n_ctx`` tokens in GB (F16 cache by default; 1.0 for a Q8_0 cache).

    An upper estimate: models with sliding-window layers (Gemma 3) keep fewer tokens in those layers.
    """
    card = get(model) if isinstance(model, str) else model
    if not isinstance(n_ctx, int) or n_ctx <= 0:
        raise InvalidRequestError(f"n_ctx={n_ctx!r} must be a positive whole number of tokens.")
    return card.kv_bytes_per_token(bytes_per_element) * n_ctx / 1e9


def available_ram_gb() -> float:
    """RAM this machine can give a new program now (psutil's "available"), in GB."""
    return psutil.virtual_memory().available / 1e9


def total_ram_gb() -> float:
    return psutil.virtual_memory().total / 1e9


@dataclass(frozen=True)
class Fit:
    """The answer to "does this model fit this device?"."""

    model: str
    precision: str
    n_ctx: int
    weights_gb: float
    kv_cache_gb: float
    overhead_gb: float
    ram_gb: float

    @property
    def needed_gb(self) -> float:
        return self.weights_gb + self.kv_cache_gb + self.overhead_gb

    @property
    def fits(self) -> bool:
        return self.needed_gb <= self.ram_gb

    @property
    def headroom_gb(self) -> float:
        return self.ram_gb - self.needed_gb

    def __bool__(self) -> bool:
        return self.fits

    def as_row(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "precision": self.precision,
            "n_ctx": self.n_ctx,
            "weights_gb": round(self.weights_gb, 3),
            "kv_cache_gb": round(self.kv_cache_gb, 3),
            "needed_gb": round(self.needed_gb, 3),
            "ram_gb": round(self.ram_gb, 1),
            "fits": self.fits,
        }


def fits(
    model: ModelCard | str,
    precision_name: str = "Q4_K_M",
    ram_gb: float | None = None,
    *,
    n_ctx: int = 4096,
    overhead_gb: float = DEFAULT_OVERHEAD_GB,
) -> Fit:
    """Would ``model`` at ``precision_name`` with an ``n_ctx`` context fit in ``ram_gb``?

    ``ram_gb`` defaults to the RAM available on this machine now. ``bool(fits(...))`` is the yes/no.
    """
    card = get(model) if isinstance(model, str) else model
    if ram_gb is None:
        ram_gb = available_ram_gb()
    if not isinstance(ram_gb, (int, float)) or ram_gb <= 0:
        raise InvalidRequestError(f"ram_gb={ram_gb!r} must be a positive number of GB.")
    return Fit(
        model=card.key,
        precision=precision(precision_name).name,
        n_ctx=n_ctx,
        weights_gb=weights_gb(card.params_b, precision_name),
        kv_cache_gb=kv_cache_gb(card, n_ctx),
        overhead_gb=overhead_gb,
        ram_gb=float(ram_gb),
    )


def catalog_rows() -> list[dict[str, Any]]:
    """The catalog as plain dicts (``pandas.DataFrame(catalog_rows())``)."""
    return [card.as_row() for card in CATALOG]


def memory_rows(precisions: list[str] | None = None, *, n_ctx: int = 4096, ram_gb: float | None = None) -> list[dict[str, Any]]:
    """One row per (model, precision): weights, KV cache, total and whether it fits ``ram_gb``."""
    ram = available_ram_gb() if ram_gb is None else ram_gb
    rows = []
    for card in CATALOG:
        for p in precisions or list(PRECISIONS):
            rows.append(fits(card, p, ram, n_ctx=n_ctx).as_row())
    return rows


__all__ = [
    "CATALOG",
    "DEFAULT_OVERHEAD_GB",
    "PRECISIONS",
    "SLM_MAX_PARAMS_B",
    "Fit",
    "ModelCard",
    "Precision",
    "available_ram_gb",
    "bits_per_weight",
    "catalog_rows",
    "fits",
    "get",
    "kv_cache_gb",
    "memory_rows",
    "names",
    "precision",
    "total_ram_gb",
    "weights_gb",
]
