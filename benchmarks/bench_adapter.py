"""Decode speed of the course model with and without its LoRA adapter, side by side (target >= 0.85x).

llama.cpp applies a LoRA adapter at run time: each adapted matrix gets two extra small matmuls
per token. This prints decode tokens/s of the base Q4_K_M alone and with the adapter, interleaved
in one process (the machine is shared and noisy; only the ratio means much). ``--shapes`` also
shows why the export stores adapters in F32: the same r = 16 adapter in F16 decodes more slowly.

    python benchmarks/bench_adapter.py                      # the shipped adapter
    python benchmarks/bench_adapter.py --shapes             # random adapters of several shapes (r, modules, F16/F32)
    python benchmarks/bench_adapter.py --rounds 5 --max-tokens 64 --threads 1
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from edgeagents.finetune.speed import compare_decode
from edgeagents.models.course import course_adapter_path
from edgeagents.settings import load_settings

DIMS = {  # Gemma 3 270M: (in, out) of each adaptable matrix
    "q_proj": (640, 1024), "k_proj": (640, 256), "v_proj": (640, 256), "o_proj": (1024, 640),
    "gate_proj": (640, 2048), "up_proj": (640, 2048), "down_proj": (2048, 640),
}
SHAPES = {  # name: (rank, modules, storage type)
    "r8 attention (q,k,v,o)": (8, ("q_proj", "k_proj", "v_proj", "o_proj"), "F32"),
    "r16 attention (q,k,v,o)": (16, ("q_proj", "k_proj", "v_proj", "o_proj"), "F32"),
    "r16 all 7 modules": (16, tuple(DIMS), "F32"),
    "r16 all 7 modules, F16": (16, tuple(DIMS), "F16"),
    "r8 all 7 modules": (8, tuple(DIMS), "F32"),
}


def random_adapter(rank: int, modules: tuple[str, ...], out: Path, dtype: str = "F32", layers: int = 18,
                   seed: int = 0) -> Path:
    """A random GGUF adapter of a given shape (for timing only: its outputs are meaningless)."""
    from safetensors.numpy import save_file

    from edgeagents.models.lora_gguf import peft_to_gguf_adapter

    rng = np.random.default_rng(seed)
    tensors = {}
    for layer in range(layers):
        for m in modules:
            fan_in, fan_out = DIMS[m]
            part = "self_attn" if m[0] in "qkvo" else "mlp"
            key = f"base_model.model.model.layers.{layer}.{part}.{m}"
            tensors[f"{key}.lora_A.weight"] = (rng.standard_normal((rank, fan_in)) * 0.01).astype(np.float32)
            tensors[f"{key}.lora_B.weight"] = (rng.standard_normal((fan_out, rank)) * 0.01).astype(np.float32)
    folder = out.with_suffix("")
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    (folder / "adapter_config.json").write_text(json.dumps({"r": rank, "lora_alpha": 2 * rank,
                                                             "target_modules": list(modules)}))
    return peft_to_gguf_adapter(folder, out, dtype=dtype)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", action="store_true", help="time random adapters of several shapes instead")
    ap.add_argument("--adapter", type=Path, default=None, help="a GGUF adapter (default: the shipped one)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=load_settings().n_threads)
    args = ap.parse_args()
    adapters: dict[str, Path | None] = {"base (no adapter)": None}
    with tempfile.TemporaryDirectory() as tmp:
        if args.shapes:
            for i, (name, (rank, modules, dtype)) in enumerate(SHAPES.items()):
                adapters[name] = random_adapter(rank, modules, Path(tmp) / f"shape{i}.gguf", dtype)
        else:
            adapter = args.adapter or course_adapter_path()
            if adapter is None:
                raise SystemExit("No adapter shipped yet: pass --adapter, run `make adapter`, or use --shapes.")
            adapters["with course adapter"] = adapter
        tps = compare_decode(adapters, args.rounds, args.max_tokens, args.threads)
    base = tps["base (no adapter)"]
    print(f"decode tok/s, {args.threads} thread(s), median of {args.rounds} interleaved rounds, {args.max_tokens} tokens")
    for name, v in tps.items():
        print(f"  {name:28s} {v:6.1f} tok/s   ratio {v / base if base else 0:.2f}x")


if __name__ == "__main__":
    main()
