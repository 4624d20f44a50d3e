"""Hugging Face folder -> ONNX Runtime GenAI int4 folder (``genai_config.json``, ``model.onnx``, tokenizer).

``onnxruntime_genai.models.builder`` writes the graph, quantizes the MatMul weights to int4
(block-wise, MatMulNBits) and writes the GenAI config that ONNX Runtime GenAI and Foundry
Local's bring-your-own-model both read. It runs in a child process (about 2-3 min, ~4 GB).

Two fixes for the course model, both applied only inside that child process:

* transformers 5 stores Gemma 3's two RoPE bases per layer type (``rope_parameters`` =
  ``{"full_attention": ..., "sliding_attention": ...}``); the builder expects the flat
  ``rope_theta`` (1e6, global layers) and ``rope_local_base_freq`` (1e4, sliding layers).
* the GenAI search ``max_length`` is raised so prompt + output can cover Gemma's 512-token
  sliding window (ONNX Runtime GenAI refuses a shorter total with this model).

The GenAI tokenizer does **not** add ``<bos>``: whoever builds the prompt must (the course's
ONNX runtime does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from edgeagents.errors import ConversionError
from edgeagents.models.forge.cache import atomic_dir, forge_dir, is_fresh, output_sha, write_stamp
from edgeagents.models.forge.hf import FORGE_HINT, build_hf, require

RECIPE = "onnx-int4-cpu-v1"
ONNX_PACKAGES = ("onnxruntime_genai", "onnx", "onnx_ir", "torch", "transformers")
MAX_LENGTH = 2048

_CHILD = r"""
import runpy, sys
import transformers

_orig = transformers.AutoConfig.from_pretrained

def _flatten(cfg):
    rp = getattr(cfg, "rope_parameters", None)
    if isinstance(rp, dict) and "full_attention" in rp and "sliding_attention" in rp:
        cfg.rope_theta = float(rp["full_attention"]["rope_theta"])
        cfg.rope_local_base_freq = float(rp["sliding_attention"]["rope_theta"])
        cfg.rope_parameters = {"rope_type": "default", "rope_theta": cfg.rope_theta}
    return cfg

def _load(*args, **kwargs):
    return _flatten(_orig(*args, **kwargs))

transformers.AutoConfig.from_pretrained = _load
sys.argv = ["builder"] + sys.argv[1:]
runpy.run_module("onnxruntime_genai.models.builder", run_name="__main__")
"""


def onnx_dir() -> Path:
    return forge_dir() / "onnx-int4"


def _fix_genai_config(folder: Path) -> None:
    path = folder / "genai_config.json"
    if not path.exists():
        raise ConversionError(f"The ONNX builder wrote no genai_config.json in {folder}.")
    cfg = json.loads(path.read_text())
    search = cfg.setdefault("search", {})
    search["max_length"] = max(int(search.get("max_length") or 0), MAX_LENGTH)
    path.write_text(json.dumps(cfg, indent=4))


def verify_onnx(folder: Path) -> None:
    """Open the folder with ONNX Runtime GenAI's config reader (cheap) and check the files are there."""
    for name in ("genai_config.json", "model.onnx"):
        if not (folder / name).is_file():
            raise ConversionError(f"{folder} has no {name}: the ONNX build is incomplete.")
    import onnxruntime_genai as og

    og.Config(str(folder))


def build_onnx(*, force: bool = False, progress: bool = True, timeout: float = 1800) -> Path:
    """The course model as an ONNX Runtime GenAI int4 CPU folder. Builds the HF folder first if needed. Cached."""
    require(*ONNX_PACKAGES)
    hf = build_hf(progress=progress)
    target = onnx_dir()
    inputs = {"recipe": RECIPE, "source": "hf", "source_sha256": output_sha(hf), "max_length": MAX_LENGTH}
    if not force and is_fresh(target, inputs):
        return target
    if progress:
        print("HF -> ONNX Runtime GenAI int4: the builder exports and quantizes the graph (about 2-4 min)...", flush=True)
    from edgeagents.settings import load_settings

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error",
           "OMP_NUM_THREADS": str(load_settings().n_threads)}
    with atomic_dir(target) as tmp:
        cache = tmp.with_name(tmp.name + "-cache")
        try:
            proc = subprocess.run(
                [sys.executable, "-c", _CHILD, "-i", str(hf), "-o", str(tmp), "-p", "int4", "-e", "cpu", "-c", str(cache)],
                capture_output=True, text=True, timeout=timeout, env=env,
            )
        finally:
            import shutil

            shutil.rmtree(cache, ignore_errors=True)
        if proc.returncode != 0:
            raise ConversionError(
                "The ONNX Runtime GenAI builder failed:\n" + (proc.stderr or proc.stdout)[-2000:], hint=FORGE_HINT
            )
        _fix_genai_config(tmp)
        verify_onnx(tmp)
    write_stamp(target, inputs)
    return target
