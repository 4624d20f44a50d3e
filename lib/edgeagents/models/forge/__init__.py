"""The model forge: turn the course model into every format the course uses, cached and verified.

>>> from edgeagents.models.forge import build_f16, build_hf, build_onnx, build_ladder
>>> build_f16()            # $EDGEAGENTS_HOME/forge/f16/gemma-3-270m-f16.gguf
>>> build_ladder()         # {"Q8_0": Path, "Q6_K": Path, ...} in $EDGEAGENTS_HOME/forge/ladder/
>>> build_hf()             # $EDGEAGENTS_HOME/forge/hf/  (safetensors; the tokenizer adds <bos>)
>>> build_onnx()           # $EDGEAGENTS_HOME/forge/onnx-int4/  (ONNX Runtime GenAI, Foundry Local BYOM)

Each step lives in its own module (f16, ladder, hf, onnx; cache holds the shared stamps and
atomic writes). Each returns at once when its output is already built and intact, shows a
progress bar otherwise, and raises a typed error from :mod:`edgeagents.errors` on bad input.
The command line is ``edgeagents models build [--only f16|ladder|hf|onnx] [--force]``.
"""

from __future__ import annotations

from pathlib import Path

from edgeagents.models.forge.cache import forge_dir, is_fresh, read_stamp
from edgeagents.models.forge.f16 import build_f16, f16_path
from edgeagents.models.forge.hf import build_hf, hf_dir
from edgeagents.models.forge.ladder import LADDER, build_ladder, build_level, ladder_dir, ladder_path
from edgeagents.models.forge.onnx import build_onnx, onnx_dir

STEPS = ("f16", "ladder", "hf", "onnx")


def build_all(only: str | None = None, *, force: bool = False, progress: bool = True) -> dict[str, object]:
    """Build every artefact (or just ``only``) and return what was built, by step name."""
    from edgeagents.errors import InvalidRequestError

    if only is not None and only not in STEPS:
        raise InvalidRequestError(f"Unknown forge step {only!r}.", hint=f"Use one of: {', '.join(STEPS)}.")
    builders = {"f16": build_f16, "ladder": build_ladder, "hf": build_hf, "onnx": build_onnx}
    out: dict[str, object] = {}
    for step in STEPS:
        if only in (None, step):
            out[step] = builders[step](force=force, progress=progress)
    return out


def status() -> dict[str, bool]:
    """Which artefacts are built and intact (quick check), without building anything."""
    paths: dict[str, Path] = {"f16": f16_path(), "hf": hf_dir(), "onnx": onnx_dir()}
    paths.update({f"ladder/{lvl}": ladder_path(lvl) for lvl in LADDER})
    return {name: bool(read_stamp(p)) and is_fresh(p, (read_stamp(p) or {}).get("inputs")) for name, p in paths.items()}


__all__ = [
    "LADDER",
    "STEPS",
    "build_all",
    "build_f16",
    "build_hf",
    "build_ladder",
    "build_level",
    "build_onnx",
    "f16_path",
    "forge_dir",
    "hf_dir",
    "ladder_dir",
    "ladder_path",
    "onnx_dir",
    "status",
]
