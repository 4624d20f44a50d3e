"""Fold a GGUF LoRA adapter into an F16 GGUF, for Ollama builds that cannot apply adapters.

Ollama's newer Go engine, which runs Gemma 3, refuses ``ADAPTER`` at load time ("loras are not
yet implemented"). The same effect is had by adding the adapter's low-rank update into the
weights once: ``W += (alpha / r) * B @ A`` for every ``<name>.lora_a`` / ``<name>.lora_b`` pair
(the scaling llama.cpp applies at run time). Done in F16 — never re-quantized to 4 bits, where
the small deltas would vanish.

The merged file is cached next to the F16 model, keyed by both inputs, and written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from edgeagents.errors import CorruptModelError, ModelNotFoundError


def _key(path: Path) -> str:
    st = path.stat()
    return f"{path.name}:{st.st_size}:{st.st_mtime_ns}"


def read_lora(adapter: Path) -> tuple[float, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The adapter's alpha and its ``{base tensor name: (A, B)}`` pairs (numpy, float32)."""
    from gguf import GGUFReader
    from gguf.quants import dequantize

    if not adapter.is_file():
        raise ModelNotFoundError(f"No adapter file at {adapter}.")
    try:
        reader = GGUFReader(adapter)
    except Exception as exc:  # noqa: BLE001
        raise CorruptModelError(f"{adapter} is not a readable GGUF file ({exc}).") from None
    field = reader.fields.get("adapter.lora.alpha")
    alpha = float(field.contents()) if field is not None else 0.0
    parts: dict[str, dict[str, np.ndarray]] = {}
    for t in reader.tensors:
        for suffix in (".lora_a", ".lora_b"):
            if t.name.endswith(suffix):
                shape = [int(x) for x in reversed(t.shape)]
                arr = dequantize(t.data, t.tensor_type).reshape(shape).astype(np.float32)
                parts.setdefault(t.name[: -len(suffix)], {})[suffix] = arr
    pairs = {}
    for name, p in parts.items():
        if set(p) != {".lora_a", ".lora_b"}:
            raise CorruptModelError(f"{adapter}: {name} has only one of lora_a / lora_b.")
        pairs[name] = (p[".lora_a"], p[".lora_b"])
    if not pairs:
        raise CorruptModelError(f"{adapter} holds no LoRA tensors (expected names ending in .lora_a / .lora_b).")
    return alpha, pairs


def merge_lora(base_f16: Path, adapter: Path, target: Path) -> Path:
    """Write ``target``: ``base_f16`` with the adapter folded in (cached; atomic)."""
    from gguf import GGUFReader, GGUFValueType, GGUFWriter
    from gguf.quants import dequantize

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
    alpha, pairs = read_lora(adapter)
    reader = GGUFReader(base_f16)
    names = {t.name for t in reader.tensors}
    unknown = sorted(set(pairs) - names)
    if unknown:
        raise CorruptModelError(f"The adapter targets tensors the model lacks: {unknown[:3]}...",
                                hint="Was the adapter trained for this base model?")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".merge-", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer = GGUFWriter(tmp, reader.fields["general.architecture"].contents())
        for name, fld in reader.fields.items():
            if name.startswith("GGUF.") or name == "general.architecture":
                continue
            if fld.types[0] == GGUFValueType.ARRAY:
                writer.add_key_value(name, fld.contents(), fld.types[0], sub_type=fld.types[-1])
            else:
                writer.add_key_value(name, fld.contents(), fld.types[0])
        for t in reader.tensors:
            shape = [int(x) for x in reversed(t.shape)]
            data = dequantize(t.data, t.tensor_type).reshape(shape)
            if t.name in pairs:
                a, b = pairs[t.name]
                scale = alpha / a.shape[0] if alpha else 1.0
                data = (data.astype(np.float32) + scale * (b @ a)).astype(data.dtype)
            writer.add_tensor(t.name, np.ascontiguousarray(data))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    stamp.write_text(json.dumps(key))
    return target
