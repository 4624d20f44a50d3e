"""GGUF -> F16 GGUF: undo the course model's quantization, tensor by tensor, with the ``gguf`` package.

The course model ships as Q4_K_M. Every quantized tensor is read with ``GGUFReader``,
expanded with ``gguf.quants.dequantize`` and written as float16 by ``GGUFWriter``; float32
tensors (the norms) are copied as they are, and every metadata key is kept (tokenizer, BOS,
sizes), only ``general.file_type`` changes to F16. Tensors are streamed one at a time, so
memory stays near the size of the largest tensor.

Honest caveat: this F16 holds exactly the Q4_K_M numbers, stored wider. It is the *reference*
for the quantization ladder, not Google's original bf16 weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeagents.errors import ConversionError, CorruptModelError, ModelNotFoundError
from edgeagents.models.forge.cache import atomic_file, forge_dir, is_fresh, progress_bar, read_stamp, write_stamp

F16_FILENAME = "gemma-3-270m-f16.gguf"
RECIPE = "f16-v1"
LLAMA_FTYPE_MOSTLY_F16 = 1


def f16_path() -> Path:
    return forge_dir() / "f16" / F16_FILENAME


def open_gguf(path: Path):  # noqa: ANN201 - gguf.GGUFReader
    """Open a GGUF file, turning a missing, truncated or foreign file into a clear error."""
    import gguf

    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"No GGUF file at {path}.")
    try:
        reader = gguf.GGUFReader(path, "r")
        for t in reader.tensors:  # every tensor's bytes must lie inside the file
            if t.data.nbytes != t.n_bytes:
                raise ValueError(f"tensor {t.name} is cut short")
    except (ValueError, IndexError, OSError, TypeError, KeyError) as exc:
        raise CorruptModelError(
            f"{path} is not a readable GGUF file ({exc}).",
            hint="The file is truncated or not a GGUF: delete it and rebuild it (`edgeagents models prepare`).",
        ) from None
    return reader


def _source_key(source: Path) -> dict[str, object]:
    from edgeagents.models.course import BASE_SHA256, base_model_path, verify_base_model

    if Path(source) == base_model_path():
        verify_base_model(source)
        return {"source": source.name, "source_sha256": BASE_SHA256}
    from edgeagents.models.forge.cache import sha256_file

    return {"source": Path(source).name, "source_sha256": sha256_file(source)}


def convert_to_f16(source: Path, target: Path, *, progress: bool = True) -> Path:
    """Write ``target``, the F16 expansion of the GGUF ``source`` (atomically)."""
    import gguf

    reader = open_gguf(source)
    arch_field = reader.get_field(gguf.Keys.General.ARCHITECTURE)
    if arch_field is None:
        raise CorruptModelError(f"{source} has no general.architecture key: not a model GGUF.")
    arch = arch_field.contents()
    keep_as_is = {gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16}
    bar = progress_bar(len(reader.tensors), "GGUF -> F16", progress, unit="tensor")
    try:
        with atomic_file(target) as tmp:
            writer = gguf.GGUFWriter(tmp, arch)
            for field in reader.fields.values():
                if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
                    continue
                vtype = field.types[0]
                sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
                value = field.contents()
                if field.name == gguf.Keys.General.FILE_TYPE:
                    value = LLAMA_FTYPE_MOSTLY_F16
                writer.add_key_value(field.name, value, vtype, sub_type=sub)
            for t in reader.tensors:
                if t.tensor_type in keep_as_is:
                    writer.add_tensor_info(t.name, t.data.shape, t.data.dtype, t.data.nbytes, t.tensor_type)
                else:
                    shape = tuple(int(d) for d in reversed(t.shape))
                    writer.add_tensor_info(t.name, shape, np.dtype(np.float16), 2 * int(t.n_elements),
                                           gguf.GGMLQuantizationType.F16)
            writer.write_header_to_file()
            writer.write_kv_data_to_file()
            writer.write_ti_data_to_file()
            for t in reader.tensors:
                if t.tensor_type in keep_as_is:
                    data = t.data
                else:
                    data = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float16)
                    if not np.isfinite(data).all():
                        raise ConversionError(f"Tensor {t.name} has non-finite values after expansion to F16.")
                writer.write_tensor_data(data, tensor_endianess=reader.endianess)
                bar.update(1)
            writer.close()
            check = open_gguf(tmp)
            if len(check.tensors) != len(reader.tensors):
                raise ConversionError(f"The F16 file has {len(check.tensors)} tensors, the source {len(reader.tensors)}.")
    finally:
        bar.close()
    return target


def build_f16(*, force: bool = False, progress: bool = True, source: Path | None = None) -> Path:
    """The course model expanded to F16 GGUF (``$EDGEAGENTS_HOME/forge/f16/``), built once and cached.

    Returns the path. A second call checks the stamp (sizes, source hash) and returns at once.
    """
    from edgeagents.models.course import prepare_base_model

    source = Path(source) if source else prepare_base_model(progress=progress)
    target = f16_path()
    inputs = {"recipe": RECIPE, **_source_key(source)}
    if not force and is_fresh(target, inputs):
        return target
    convert_to_f16(source, target, progress=progress)
    write_stamp(target, inputs)
    return target


def f16_sha(path: Path | None = None) -> str:
    """The sha256 of the built F16 file, from its stamp."""
    path = path or f16_path()
    stamp = read_stamp(path) or {}
    out = stamp.get("output", {})
    return next(iter(out.values()))["sha256"] if out else ""
