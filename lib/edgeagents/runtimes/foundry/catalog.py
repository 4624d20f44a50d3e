"""Foundry Local's two catalogs: the public one (Microsoft's models, over the network) and the local one (yours).

The public catalog is fetched from ``api.catalog.azureml.ms``. Without a network the SDK retries
for a few seconds and then returns an empty list: no exception, no hang. :func:`public_catalog`
does that once per process and remembers the answer (with how long it took), so a lab does not
pay the retries twice; ``refresh=True`` asks again.

Each public *alias* (``phi-4-mini``) groups several *variants* (CPU, CUDA, NPU builds); the SDK
picks the variant that fits this machine. :func:`catalog_choice` shows that choice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from edgeagents.runtimes.foundry import sdk

# The guide's model-by-use-case table. Sizes are the guide's claims, not measured here.
GUIDE_ALIASES: dict[str, str] = {
    "lightweight_routing": "qwen2.5-0.5b",
    "general_conversation": "phi-4-mini",
    "complex_reasoning": "phi-4",
    "code_assistance": "qwen2.5-coder-0.5b",
}


@dataclass(frozen=True)
class CatalogSnapshot:
    """What the public catalog answered, once."""

    models: tuple[dict[str, Any], ...]
    seconds: float
    fetched_at: float
    online: bool
    note: str = ""

    @property
    def aliases(self) -> list[str]:
        return sorted({m["alias"] for m in self.models})


@dataclass
class _Cache:
    public: CatalogSnapshot | None = None
    local_ids: dict[str, Any] = field(default_factory=dict)


_cache = _Cache()


def _local_cache_clear() -> None:
    _cache.local_ids.clear()


sdk.on_new_manager(_local_cache_clear)


def describe(model: Any) -> dict[str, Any]:
    """The facts of one SDK model (an ``IModel``) as a plain dict."""
    info = model.info
    runtime = info.runtime
    return {
        "id": model.id,
        "alias": model.alias,
        "task": info.task,
        "device": str(runtime.device_type.value) if runtime and runtime.device_type else None,
        "execution_provider": runtime.execution_provider if runtime else None,
        "file_size_mb": info.file_size_mb,
        "context_length": model.context_length,
        "supports_tool_calling": model.supports_tool_calling,
        "cached": model.is_cached,
        "loaded": model.is_loaded,
    }


def public_catalog(*, refresh: bool = False) -> CatalogSnapshot:
    """List the public catalog once per process (offline: ``online=False`` after the SDK's retries)."""
    if _cache.public is not None and not refresh:
        return _cache.public
    mgr = sdk.manager()
    start = time.perf_counter()
    note = ""
    try:
        models = mgr.catalog.list_models()
    except Exception as exc:  # the SDK may also raise instead of returning []
        models, note = [], sdk.sdk_error_text(exc)
    seconds = time.perf_counter() - start
    rows = tuple(describe(m) for m in models)
    if not rows and not note:
        note = (
            "The public catalog is empty: the SDK could not reach api.catalog.azureml.ms "
            f"and gave up after {seconds:.1f} s of retries (offline). Local models still work."
        )
    _cache.public = CatalogSnapshot(rows, seconds, time.time(), bool(rows), note)
    return _cache.public


def catalog_choice(alias: str) -> dict[str, Any]:
    """Which variant Foundry Local would run for ``alias`` on this machine, and the other variants.

    Offline (empty public catalog) the answer says so instead of guessing.
    """
    snap = public_catalog()
    if not snap.online:
        return {"alias": alias, "available": False, "chosen": None, "variants": [], "note": "catalog offline"}
    model = sdk.manager().catalog.get_model(alias)
    if model is None:
        return {"alias": alias, "available": False, "chosen": None, "variants": [], "note": "not in the catalog"}
    variants = [describe(v) for v in model.variants]
    return {"alias": alias, "available": True, "chosen": model.id, "variants": variants, "note": ""}


def guide_aliases_table() -> list[dict[str, Any]]:
    """The guide's use-case table with what the catalog answers for each alias here."""
    rows = []
    for use_case, alias in GUIDE_ALIASES.items():
        choice = catalog_choice(alias)
        chosen = next((v for v in choice["variants"] if v["id"] == choice["chosen"]), {})
        rows.append(
            {
                "use case": use_case,
                "alias": alias,
                "in catalog": choice["available"],
                "variant chosen here": choice["chosen"] or "—",
                "device": chosen.get("device") or "—",
                "size MB": chosen.get("file_size_mb"),
                "note": choice["note"],
            }
        )
    return rows


def local_models() -> list[dict[str, Any]]:
    """Every model registered in the local catalog (bring-your-own models)."""
    fl = sdk.require_sdk()
    local = sdk.manager().get_catalog(fl.CatalogType.LOCAL)
    return [describe(m) for m in local.list_models()]


def loaded_models() -> list[str]:
    """Ids of the models loaded in this process (local and public catalogs)."""
    fl = sdk.require_sdk()
    mgr = sdk.manager()
    ids: list[str] = []
    for kind in (fl.CatalogType.LOCAL, fl.CatalogType.PUBLIC):
        try:
            ids += [m.id for m in mgr.get_catalog(kind).get_loaded_models()]
        except Exception:
            pass
    return sorted(set(ids))
