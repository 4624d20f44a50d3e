"""Moving the course adapter between formats, with the ``gguf`` package only (no torch needed).

- :func:`peft_to_gguf_adapter`: a PEFT folder (``adapter_config.json`` + ``adapter_model.safetensors``)
  -> a GGUF LoRA adapter that llama.cpp applies at load time (``Llama(..., lora_path=...)``).
- :func:`gguf_adapter_to_peft`: the shipped GGUF adapter -> a PEFT folder again (for vLLM ``--enable-lora``).
- :func:`merge_adapter`: base GGUF + adapter -> one merged GGUF (F16 expansion with the LoRA deltas
  added, tokenizer metadata kept), then quantized with llama.cpp to Q8_0 or Q6_K, for runtimes
  that cannot apply adapters. **Never quantize a merged model to Q4**: the deltas are smaller than
  a Q4 step and vanish (lab 07 shows it), so :func:`merge_adapter` refuses unless told otherwise.

Names: PEFT ``...layers.N.self_attn.q_proj.lora_A.weight`` (shape r x in) becomes GGUF
``blk.N.attn_q.weight.lora_a``; ``lora_B`` (out x r) becomes ``.lora_b``. llama.cpp scales by
``adapter.lora.alpha / r``, as PEFT does.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edgeagents.errors import CorruptModelError, InvalidRequestError, ModelNotFoundError

HF_TO_GGUF = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
GGUF_TO_HF = {v: k for k, v in HF_TO_GGUF.items()}
_PEFT_KEY = re.compile(r"layers\.(\d+)\.(self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)\.lora_([AB])\.weight$")
_GGUF_KEY = re.compile(r"^blk\.(\d+)\.(\w+)\.weight\.lora_([ab])$")
SAFE_MERGE_TYPES = ("F16", "Q8_0", "Q6_K")


def _atomic_target(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".part")
    os.close(fd)
    return Path(tmp)


def read_peft(folder: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The adapter config and its tensors (numpy, float32) from a PEFT folder."""
    from safetensors.numpy import load_file

    folder = Path(folder)
    cfg_path, weights = folder / "adapter_config.json", folder / "adapter_model.safetensors"
    if not cfg_path.exists() or not weights.exists():
        raise ModelNotFoundError(f"{folder} is not a PEFT adapter folder (adapter_config.json and "
                                 "adapter_model.safetensors are needed).", hint="Train first, or export one from the GGUF adapter.")
    return json.loads(cfg_path.read_text()), {k: v.astype(np.float32) for k, v in load_file(str(weights)).items()}


def peft_to_gguf_adapter(folder: str | os.PathLike[str], out: str | os.PathLike[str], *, arch: str = "gemma3",
                         dtype: str = "F32") -> Path:
    """Write a GGUF LoRA adapter for llama.cpp from a PEFT folder (atomically).

    ``dtype`` is F32 by default, though F16 halves the file: on this project's 2-core CPU the course
    adapter decoded at 0.75-0.87x the base model's speed in F16 and at 0.93-1.05x in F32. Its matrix
    products are tiny (inner size r = 16), so per-row kernel overhead dominates, and llama.cpp's F16
    path adds work (the activations are converted to F16 first) that buys nothing at this size.
    ``benchmarks/bench_adapter.py --shapes`` measures both side by side.
    """
    import gguf

    if dtype not in ("F16", "F32"):
        raise InvalidRequestError(f"dtype={dtype!r} is not an adapter storage type.", hint="Use 'F32' or 'F16'.")
    cfg, tensors = read_peft(folder)
    out = Path(out)
    tmp = _atomic_target(out)
    try:
        writer = gguf.GGUFWriter(str(tmp), arch)
        writer.add_string("general.type", "adapter")
        writer.add_string("adapter.type", "lora")
        writer.add_float32("adapter.lora.alpha", float(cfg["lora_alpha"]))
        writer.add_string("general.name", "edgeagents course LoRA")
        n = 0
        for key in sorted(tensors, key=_sort_key):
            m = _PEFT_KEY.search(key)
            if not m:
                continue
            layer, module, ab = m.groups()
            arr = tensors[key].astype(np.float16 if dtype == "F16" else np.float32)
            writer.add_tensor(f"blk.{layer}.{HF_TO_GGUF[module]}.weight.lora_{ab.lower()}", arr)
            n += 1
        if n == 0:
            raise CorruptModelError(f"No LoRA tensors found in {folder}.")
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _sort_key(key: str) -> tuple[int, str]:
    m = re.search(r"layers\.(\d+)\.", key) or re.search(r"blk\.(\d+)\.", key)
    return (int(m.group(1)) if m else -1, key)


def read_gguf_adapter(path: str | os.PathLike[str]) -> tuple[float, dict[str, np.ndarray]]:
    """``(alpha, {gguf tensor name: float32 array})`` of a GGUF LoRA adapter."""
    import gguf

    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"No adapter file at {path}.")
    try:
        reader = gguf.GGUFReader(str(path))
    except (ValueError, OSError) as exc:
        raise CorruptModelError(f"{path} is not a readable GGUF file: {exc}") from None
    fields = reader.fields
    if "adapter.lora.alpha" not in fields or "general.type" not in fields:
        raise CorruptModelError(f"{path} is a GGUF file but not a LoRA adapter.",
                                hint="Pass the adapter (course-lora.gguf), not a model.")
    alpha = float(fields["adapter.lora.alpha"].parts[-1][0])
    tensors = {t.name: np.array(t.data, dtype=np.float32).reshape(tuple(int(x) for x in reversed(t.shape)))
               for t in reader.tensors}
    return alpha, tensors


def gguf_adapter_to_peft(path: str | os.PathLike[str], out_dir: str | os.PathLike[str],
                         base_model: str = "google/gemma-3-270m") -> Path:
    """Re-create a PEFT adapter folder from a GGUF adapter (for vLLM ``--enable-lora`` and friends)."""
    from safetensors.numpy import save_file

    alpha, tensors = read_gguf_adapter(path)
    out: dict[str, np.ndarray] = {}
    targets: set[str] = set()
    rank = 0
    for name, arr in tensors.items():
        m = _GGUF_KEY.match(name)
        if not m or m.group(2) not in GGUF_TO_HF:
            continue
        layer, module, ab = m.groups()
        hf = GGUF_TO_HF[module]
        targets.add(hf.split(".")[-1])
        if ab == "a":
            rank = arr.shape[0]
        out[f"base_model.model.model.layers.{layer}.{hf}.lora_{ab.upper()}.weight"] = np.ascontiguousarray(arr)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(out, str(out_dir / "adapter_model.safetensors"))
    config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": base_model, "r": rank,
              "lora_alpha": alpha, "lora_dropout": 0.0, "bias": "none", "target_modules": sorted(targets),
              "fan_in_fan_out": False, "inference_mode": True}
    (out_dir / "adapter_config.json").write_text(json.dumps(config, indent=1))
    return out_dir


def lora_deltas(adapter: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """``{base tensor name: scale * B @ A}`` for every adapted weight (shape out x in)."""
    alpha, tensors = read_gguf_adapter(adapter)
    deltas = {}
    for name, a in tensors.items():
        if not name.endswith(".lora_a"):
            continue
        base = name[: -len(".lora_a")]
        b = tensors[base + ".lora_b"]
        deltas[base] = (alpha / a.shape[0]) * (b @ a)
    return deltas


def merge_adapter(base: str | os.PathLike[str], adapter: str | os.PathLike[str], out: str | os.PathLike[str], *,
                  qtype: str = "Q8_0", allow_q4: bool = False, threads: int = 1,
                  log: Callable[[str], None] = lambda s: None) -> Path:
    """Base GGUF + LoRA -> a merged GGUF at ``qtype`` (F16, Q8_0, Q6_K; anything else only with ``allow_q4``)."""
    import gguf

    qtype = qtype.upper()
    if qtype not in SAFE_MERGE_TYPES and not allow_q4:
        raise InvalidRequestError(
            f"Quantizing a merged model to {qtype} erases the adapter: its deltas are smaller than a {qtype} step.",
            hint="Use Q8_0 or Q6_K, or keep the Q4 base and load the adapter with lora_path (allow_q4=True to see it fail).")
    out = Path(out)
    deltas = lora_deltas(adapter)
    reader = gguf.GGUFReader(str(base))
    f16 = out.with_name(out.stem + ".f16.gguf") if qtype != "F16" else out
    tmp = _atomic_target(f16)
    try:
        arch = str(bytes(reader.fields["general.architecture"].parts[-1]), "utf-8")
        writer = gguf.GGUFWriter(str(tmp), arch)
        for fld in reader.fields.values():
            if fld.name.startswith("GGUF.") or fld.name == "general.architecture":
                continue
            if fld.name == "general.file_type":
                writer.add_uint32(fld.name, int(gguf.LlamaFileType.MOSTLY_F16))
                continue
            vtype = fld.types[0]
            if vtype == gguf.GGUFValueType.ARRAY:
                sub = fld.types[-1]
                if sub == gguf.GGUFValueType.STRING:
                    val = [str(bytes(fld.parts[i]), "utf-8") for i in fld.data]
                else:
                    val = [fld.parts[i].tolist()[0] for i in fld.data]
                writer.add_array(fld.name, val)
            elif vtype == gguf.GGUFValueType.STRING:
                writer.add_string(fld.name, str(bytes(fld.parts[-1]), "utf-8"))
            else:
                writer.add_key_value(fld.name, fld.parts[-1].tolist()[0], vtype)
        used = 0
        for t in reader.tensors:
            data = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
            if t.name in deltas:
                data = data + deltas[t.name].reshape(data.shape)
                used += 1
            keep32 = data.ndim == 1
            writer.add_tensor(t.name, data.astype(np.float32 if keep32 else np.float16))
        if used != len(deltas):
            raise CorruptModelError(f"Only {used} of {len(deltas)} adapter tensors matched the base model.")
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        tmp.replace(f16)
    finally:
        tmp.unlink(missing_ok=True)
    if qtype == "F16":
        return out
    log(f"quantizing to {qtype}...")
    quantize(f16, out, qtype, threads=threads)
    f16.unlink(missing_ok=True)
    return out


def quantize(src: str | os.PathLike[str], out: str | os.PathLike[str], qtype: str, *, threads: int = 1) -> Path:
    """llama.cpp's own quantizer (``llama_model_quantize``), written atomically."""
    import llama_cpp

    ftype = {"Q8_0": 7, "Q6_K": 18, "Q4_K_M": 15, "Q4_0": 2, "Q5_K_M": 17, "F16": 1}.get(qtype.upper())
    if ftype is None:
        raise InvalidRequestError(f"Unknown quantization type {qtype!r}.", hint="Use Q8_0, Q6_K or Q4_K_M.")
    out = Path(out)
    tmp = _atomic_target(out)
    try:
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = ftype
        params.nthread = threads
        rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), params)
        if rc != 0:
            raise CorruptModelError(f"llama.cpp failed to quantize {src} to {qtype} (code {rc}).")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def delta_survival(base: str | os.PathLike[str], adapter: str | os.PathLike[str], tensor: str = "blk.0.ffn_down.weight",
                   qtype: str = "Q4_0") -> dict[str, float]:
    """How much of one LoRA delta survives quantizing the merged weight: the Q4 merge trap in numbers.

    Quantizes ``W`` and ``W + delta`` at ``qtype`` (``Q8_0`` or ``Q4_0``, the types the ``gguf`` package
    can write) and compares what changed with the delta: ``kept`` is the projection of the change on the
    delta (1.0 = all of it survives), ``cosine`` the direction agreement, ``delta_over_step`` the size of
    the delta against the typical rounding error of that type.
    """
    import gguf
    from gguf.quants import dequantize, quantize

    types = {"Q8_0": gguf.GGMLQuantizationType.Q8_0, "Q4_0": gguf.GGMLQuantizationType.Q4_0}
    if qtype.upper() not in types:
        raise InvalidRequestError(f"delta_survival() supports {sorted(types)}, not {qtype!r}.")
    t = types[qtype.upper()]
    deltas = lora_deltas(adapter)
    if tensor not in deltas:
        raise InvalidRequestError(f"The adapter does not change {tensor!r}.", hint=f"Try one of {sorted(deltas)[:4]}...")
    reader = gguf.GGUFReader(str(base))
    found = [x for x in reader.tensors if x.name == tensor]
    if not found:
        raise CorruptModelError(f"{tensor!r} is not in {base}.")
    w = dequantize(found[0].data, found[0].tensor_type).astype(np.float32).reshape(deltas[tensor].shape)
    d = deltas[tensor].astype(np.float32)
    q0 = dequantize(quantize(w, t), t)
    q1 = dequantize(quantize(w + d, t), t)
    change = (q1 - q0).ravel()
    dv = d.ravel()
    kept = float(change @ dv / (dv @ dv))
    cosine = float(change @ dv / (np.linalg.norm(change) * np.linalg.norm(dv) + 1e-12))
    step = float(np.abs(q0 - w).mean())
    return {"kept": kept, "cosine": cosine, "delta_over_step": float(np.abs(dv).mean() / (step + 1e-12))}
