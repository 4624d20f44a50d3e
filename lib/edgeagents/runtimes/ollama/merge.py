"""Fold a GGUF LoRA adapter into an F16 GGUF, for Ollama builds that cannot apply adapters.

Ollama's newer Go engine, which runs Gemma 3, refuses ``ADAPTER`` at load time ("loras are not
yet implemented"). The same effect is had by adding the adapter's low-rank update into the
weights once, ``W += (alpha / r) * B @ A``: the course's one merge,
:func:`edgeagents.models.lora_gguf.merge_adapter`, at F16 (never re-quantized to 4 bits,
where the small deltas would vanish). This module only caches its result for Ollama, next to the
F16 model, keyed by both inputs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from edgeagents.errors import ModelNotFoundError
from edgeagents.models.lora_gguf import merge_adapter


def _key(path: Path) -> str:
    st = path.stat()
    return f"{path.name}:{st.st_size}:{st.st_mtime_ns}"


def merge_lora(base_f16: Path, adapter: Path, target: Path) -> Path:
    """Write ``target``: ``base_f16`` with the adapter folded in (cached; written atomically)."""
    if not adapter.is_file():
        raise ModelNotFoundError(f"No adapter file at {adapter}.")
    stamp = target.with_name(target.name + ".merge.json")
    key = {"base": _key(base_f16), "adapter": hashlib.sha256(adapter.read_bytes()).hexdigest()}
    if target.exists() and stamp.exists():
        try:
            if json.loads(stamp.read_text()) == key:
                return target
        except (OSError, json.JSONDecodeError):
            pass
    merge_adapter(base_f16, adapter, target, qtype="F16")
    stamp.write_text(json.dumps(key))
    return target
