"""GGUF -> Hugging Face folder (``config.json``, ``model.safetensors``, tokenizer), for vLLM, ONNX and Foundry.

transformers reads the GGUF itself (``from_pretrained(folder, gguf_file=...)``, which needs
``accelerate``): it dequantizes every tensor to float32 and rebuilds the tokenizer from the
GGUF's vocabulary. Three things then need fixing before the folder is usable elsewhere:

* ``save_pretrained`` refuses a model that still carries the GGUF loader's quantization flags;
* ``config.architectures`` must name ``Gemma3ForCausalLM`` (the text-only Gemma 3 class);
* the tokenizer must **add BOS** (``<bos>``, id 2): Gemma without it degenerates.

The load runs in a child process (60-80 s, ~3.5 GB peak), so the notebook or CLI that asked
gets all that memory back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from edgeagents.errors import ConversionError, RuntimeUnavailableError
from edgeagents.models.forge.cache import atomic_dir, forge_dir, is_fresh, write_stamp

RECIPE = "hf-fp32-v1"
BOS_ID = 2
HF_PACKAGES = ("torch", "transformers", "accelerate", "safetensors", "sentencepiece")
FORGE_HINT = "Install the forge extra: pip install -e '.[forge]'  (or `make setup`)."


def hf_dir() -> Path:
    return forge_dir() / "hf"


def require(*modules: str) -> None:
    """Raise RuntimeUnavailableError naming the first missing module of the forge extra."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise RuntimeUnavailableError(f"The model forge needs {', '.join(missing)}, which is not installed.", hint=FORGE_HINT)


_CHILD = r"""
import json, sys
from pathlib import Path
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
src, out, bos = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(int(sys.argv[4]))
tok = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
model = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, dtype=torch.float32)
# the GGUF loader marks the model as quantized; these are plain float32 weights now
for attr in ("hf_quantizer", "quantization_method"):
    if hasattr(model, attr):
        try:
            setattr(model, attr, None)
        except Exception:
            pass
for obj in (model, model.config):
    for attr in ("is_quantized", "_is_quantized"):
        if hasattr(obj, attr):
            try:
                setattr(obj, attr, False)
            except Exception:
                pass
if hasattr(model.config, "quantization_config"):
    try:
        del model.config.quantization_config
    except Exception:
        model.config.quantization_config = None
model.config.architectures = ["Gemma3ForCausalLM"]
model.config.torch_dtype = "float32"
model.generation_config.bos_token_id = bos
model.save_pretrained(out, safe_serialization=True)
tok.add_bos_token = True
try:
    tok.update_post_processor()
except Exception:
    pass
tok.save_pretrained(out)
print(json.dumps({"n_params": sum(p.numel() for p in model.parameters())}))
"""


def _fix_tokenizer_config(folder: Path) -> None:
    """Make sure every loader of the folder adds ``<bos>``."""
    cfg_path = folder / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
    cfg["add_bos_token"] = True
    cfg["add_eos_token"] = False
    cfg.setdefault("bos_token", "<bos>")
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False))


def verify_hf(folder: Path) -> dict[str, object]:
    """Reload the folder's tokenizer and check it adds BOS; return a few facts about the folder."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    ids = tok("The capital of France is")["input_ids"]
    if not ids or ids[0] != BOS_ID:
        raise ConversionError(f"The tokenizer in {folder} does not start with <bos> (id {BOS_ID}): got {ids[:3]}.")
    config = json.loads((folder / "config.json").read_text())
    if config.get("architectures") != ["Gemma3ForCausalLM"] or "quantization_config" in config:
        raise ConversionError(f"{folder}/config.json is not a plain Gemma3ForCausalLM config.")
    return {"first_ids": ids[:4], "model_type": config.get("model_type")}


def build_hf(*, force: bool = False, progress: bool = True, source: Path | None = None, timeout: float = 1200) -> Path:
    """The course model as a Hugging Face folder (float32 safetensors; tokenizer adds BOS). Cached.

    Built from the course GGUF (Q4_K_M) by transformers' GGUF loader, in a child process.
    """
    from edgeagents.models.course import BASE_SHA256, prepare_base_model, verify_base_model
    from edgeagents.settings import load_settings

    require(*HF_PACKAGES)
    source = Path(source) if source else prepare_base_model(progress=progress)
    verify_base_model(source)
    target = hf_dir()
    inputs = {"recipe": RECIPE, "source": source.name, "source_sha256": BASE_SHA256}
    if not force and is_fresh(target, inputs):
        return target
    if progress:
        print("GGUF -> Hugging Face folder: transformers loads and dequantizes the GGUF (about 1-2 min)...", flush=True)
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}
    with atomic_dir(target) as tmp:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(source), str(tmp), str(BOS_ID), str(load_settings().n_threads)],
            capture_output=True, text=True, timeout=timeout, env=env,
        )
        if proc.returncode != 0:
            raise ConversionError(
                "transformers could not convert the GGUF to a Hugging Face folder:\n" + proc.stderr[-2000:],
                hint="Check that the forge extra's versions are installed (pip install -e '.[forge]').",
            )
        _fix_tokenizer_config(tmp)
        verify_hf(tmp)
    write_stamp(target, inputs)
    return target
