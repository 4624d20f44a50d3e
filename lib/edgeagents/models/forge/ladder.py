"""The quantization ladder: F16 GGUF -> Q8_0, Q6_K, ... Q2_K, with llama.cpp's own quantizer.

``llama_cpp.llama_model_quantize`` is llama.cpp's C function (the one behind the
``llama-quantize`` tool), called through ctypes. Every level is quantized from the F16 file.

Be honest about what this measures: the F16 is an *expanded Q4_K_M*, so every level here is a
requantization of numbers that were already 4-bit. Q4_K_M comes out nearly lossless (it lands
on the same grid), and every level is judged against the Q4_K_M model, not Google's original.

Why the sizes barely move: K-quants work on blocks of 256 weights, and the model's width (640)
is not a multiple of 256, so llama.cpp falls back to a legacy 32-block type for many tensors;
the token embedding (63 % of the parameters) stays Q8_0 unless ``token_embedding_type`` says
otherwise -- hence the extra ``Q4_0-embQ4`` rung.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from edgeagents.errors import ConversionError, InvalidRequestError, RuntimeUnavailableError
from edgeagents.models.forge.cache import atomic_file, forge_dir, is_fresh, progress_bar, write_stamp

RECIPE = "ladder-v1"


@dataclass(frozen=True)
class Level:
    """One rung: the llama.cpp file type, and optionally a type forced on the token embedding."""

    name: str
    ftype: str  # name of the LLAMA_FTYPE_MOSTLY_* constant
    token_embedding_type: str | None = None  # name of a GGML_TYPE_* constant
    note: str = ""


LADDER: dict[str, Level] = {
    lvl.name: lvl
    for lvl in (
        Level("Q8_0", "LLAMA_FTYPE_MOSTLY_Q8_0", note="8-bit, 32-weight blocks: near-lossless"),
        Level("Q6_K", "LLAMA_FTYPE_MOSTLY_Q6_K", note="6-bit K-quant"),
        Level("Q5_K_M", "LLAMA_FTYPE_MOSTLY_Q5_K_M", note="5-bit K-quant, some tensors kept wider"),
        Level("Q5_1", "LLAMA_FTYPE_MOSTLY_Q5_1", note="legacy 5-bit with offset"),
        Level("Q4_K_M", "LLAMA_FTYPE_MOSTLY_Q4_K_M", note="4-bit K-quant: the course model's own level"),
        Level("Q4_0", "LLAMA_FTYPE_MOSTLY_Q4_0", note="legacy 4-bit, no offset"),
        Level("Q3_K_M", "LLAMA_FTYPE_MOSTLY_Q3_K_M", note="3-bit K-quant"),
        Level("Q2_K", "LLAMA_FTYPE_MOSTLY_Q2_K", note="2-bit K-quant: extreme"),
        Level("Q4_0-embQ4", "LLAMA_FTYPE_MOSTLY_Q4_0", "GGML_TYPE_Q4_0", note="Q4_0 with the embedding quantized too"),
    )
}


def ladder_dir() -> Path:
    return forge_dir() / "ladder"


def ladder_path(level: str) -> Path:
    return ladder_dir() / f"gemma-3-270m-{level.lower().replace('_', '-')}.gguf"


def _llama_cpp():  # noqa: ANN202 - the llama_cpp module
    try:
        import llama_cpp
    except ImportError:
        raise RuntimeUnavailableError(
            "llama-cpp-python is not installed: the ladder uses llama.cpp's quantizer.", hint="Run `make setup`."
        ) from None
    return llama_cpp


@contextlib.contextmanager
def _quiet_stderr(enabled: bool = True):  # noqa: ANN202
    """llama.cpp's quantizer logs every tensor to file descriptor 2; hide that chatter while it runs."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quantize(source: Path, target: Path, level: Level, *, threads: int = 1) -> Path:
    """Quantize the GGUF ``source`` to ``target`` at ``level`` (atomically; nothing partial is left)."""
    llama_cpp = _llama_cpp()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, level.ftype)
    params.nthread = threads
    if level.token_embedding_type:
        params.token_embedding_type = getattr(llama_cpp, level.token_embedding_type)
    with atomic_file(target) as tmp:
        with _quiet_stderr():
            rc = llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(), ctypes.byref(params))
        if rc != 0:
            raise ConversionError(f"llama.cpp's quantizer failed for {level.name} (return code {rc}).",
                                  hint="Check that the source is a valid F16 GGUF: `edgeagents models build --only f16 --force`.")
        from edgeagents.models.forge.f16 import open_gguf

        open_gguf(tmp)  # the result must parse back
    return target


def build_level(level: str, *, force: bool = False, progress: bool = True) -> Path:
    """One rung of the ladder, quantized from the F16 file (built first if needed). Cached."""
    from edgeagents.models.forge.f16 import build_f16, f16_sha
    from edgeagents.settings import load_settings

    if level not in LADDER:
        raise InvalidRequestError(f"Unknown quantization level {level!r}.", hint=f"Use one of: {', '.join(LADDER)}.")
    lvl = LADDER[level]
    f16 = build_f16(progress=progress)
    target = ladder_path(level)
    inputs = {"recipe": RECIPE, "source_sha256": f16_sha(f16), "ftype": lvl.ftype,
              "token_embedding_type": lvl.token_embedding_type}
    if not force and is_fresh(target, inputs):
        return target
    quantize(f16, target, lvl, threads=load_settings().n_threads)
    write_stamp(target, inputs)
    return target


def build_ladder(levels: list[str] | tuple[str, ...] | None = None, *, force: bool = False,
                 progress: bool = True) -> dict[str, Path]:
    """Every rung (or ``levels``), with a progress bar over the levels. Returns {level: path}."""
    from edgeagents.models.forge.f16 import build_f16

    names = list(levels) if levels else list(LADDER)
    build_f16(progress=progress)
    bar = progress_bar(len(names), "quantization ladder", progress, unit="level")
    out = {}
    try:
        for name in names:
            bar.set_postfix_str(name)
            out[name] = build_level(name, force=force, progress=False)
            bar.update(1)
    finally:
        bar.close()
    return out
