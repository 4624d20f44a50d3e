"""Bring your own model: the course model registered in Foundry Local's *local* catalog.

Foundry Local runs ONNX Runtime GenAI folders (``genai_config.json`` + ONNX weights + tokenizer).
The model forge (lab 03/04) builds one from the course's GGUF. This module gives Foundry its own
*registration folder* for it, under Foundry's cache dir:

- the forge's big files are **hard-linked** (no copy; falls back to a copy across file systems),
- ``genai_config.json`` is rewritten with the course's context window (``search.max_length``)
  and Gemma's ``<end_of_turn>`` as an end-of-sequence token,
- ``tokenizer_config.json`` gets a **pass-through chat template**: the course renders the whole
  prompt itself (``<bos>`` and Gemma turn markers, see :mod:`edgeagents.runtimes.chat_template`),
  so Foundry must hand the text to the tokenizer unchanged,
- a stamp (``edgeagents_stamp.json``) records what it was made from; a stale folder is rebuilt,
  atomically (built beside, then renamed), so a failure never leaves half a folder.

Registrations persist in Foundry's cache between processes. :func:`ensure_registered` is
therefore idempotent: it reuses a registration that points at a fresh folder, and replaces one
that does not.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from edgeagents.errors import (
    CorruptModelError,
    InvalidRequestError,
    ModelInUseError,
    ModelNotFoundError,
    RuntimeUnavailableError,
)
from edgeagents.runtimes.foundry import sdk
from edgeagents.settings import load_settings

COURSE_NAME = "edgeagents-course"
STAMP = "edgeagents_stamp.json"
TEMPLATE_VERSION = 1
# Hands the (single) message's text to the tokenizer as it is: the course renders prompts itself.
PASS_THROUGH_TEMPLATE = "{% for message in messages %}{{ message['content'] }}{% endfor %}"
REWRITTEN = {"genai_config.json", "tokenizer_config.json", "chat_template.jinja", STAMP}
MIN_MAX_LENGTH = 512  # Gemma 3's sliding window: ORT GenAI needs max_length >= 512


def course_onnx_dir() -> Path:
    """The forge's ONNX Runtime GenAI folder of the course model (it may not be built yet).

    ``EDGEAGENTS_FOUNDRY_ONNX_DIR`` overrides it; otherwise the forge's own answer, else its default path.
    """
    env = os.environ.get("EDGEAGENTS_FOUNDRY_ONNX_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    try:
        from edgeagents.models.forge import onnx_dir  # type: ignore[attr-defined]

        return Path(onnx_dir())
    except Exception:
        return load_settings().home / "forge" / "onnx-int4"


def build_course_onnx() -> Path:
    """Build (or reuse) the forge's ONNX folder. Needs the forge extra; minutes and ~4 GB the first time."""
    try:
        from edgeagents.models.forge import build_onnx  # type: ignore[attr-defined]
    except ImportError as exc:
        raise RuntimeUnavailableError(
            f"The model forge is not available here ({exc}).",
            hint="Run `make setup` (it builds the ONNX folder), or `edgeagents models build --only onnx`.",
        ) from None
    return Path(build_onnx())


def check_onnx_dir(path: str | Path) -> dict[str, Any]:
    """Check an ONNX Runtime GenAI folder before Foundry sees it; return its ``genai_config.json``.

    Missing folder -> :class:`ModelNotFoundError`; missing or broken files -> :class:`CorruptModelError`.
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ModelNotFoundError(
            f"There is no model folder at {folder}.",
            hint="Build it with `edgeagents models build --only onnx` (or `make setup`), or pass the right path.",
        )
    cfg_path = folder / "genai_config.json"
    if not cfg_path.is_file():
        raise CorruptModelError(
            f"{folder} has no genai_config.json, so it is not an ONNX Runtime GenAI model folder.",
            hint="Rebuild it with `edgeagents models build --only onnx`.",
        )
    try:
        config = json.loads(cfg_path.read_text())
        decoder = config["model"]["decoder"]
        weights = folder / decoder["filename"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CorruptModelError(
            f"{cfg_path} is not a valid genai_config.json ({type(exc).__name__}: {exc}).",
            hint="Delete the folder and rebuild it with `edgeagents models build --only onnx`.",
        ) from None
    missing = [p.name for p in (weights, folder / "tokenizer.json") if not p.is_file()]
    if missing:
        raise CorruptModelError(
            f"{folder} is missing {', '.join(missing)}.",
            hint="Delete the folder and rebuild it with `edgeagents models build --only onnx`.",
        )
    if weights.stat().st_size < 1024:
        raise CorruptModelError(f"{weights} is truncated ({weights.stat().st_size} bytes).")
    return config


def _fingerprint(folder: Path) -> dict[str, list[int]]:
    return {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in sorted(folder.iterdir()) if p.is_file()}


def _special_id(folder: Path, token: str) -> int | None:
    try:
        data = json.loads((folder / "tokenizer.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    for added in data.get("added_tokens", []):
        if added.get("content") == token:
            return int(added["id"])
    vocab = data.get("model", {}).get("vocab")
    if isinstance(vocab, dict) and token in vocab:
        return int(vocab[token])
    return None


def registration_dir(name: str = COURSE_NAME, version: int = 1) -> Path:
    return sdk.folders()["model_cache_dir"] / "byom" / f"{name}-v{version}"


def prepare_folder(
    source: str | Path | None = None,
    *,
    name: str = COURSE_NAME,
    version: int = 1,
    n_ctx: int | None = None,
    n_threads: int | None = None,
) -> tuple[Path, bool]:
    """Make (or reuse) Foundry's registration folder for an ONNX GenAI folder. Returns (folder, rebuilt).

    ``n_ctx`` becomes ``search.max_length``; ``n_threads`` (default ``EDGEAGENTS_THREADS``) becomes
    ONNX Runtime's ``intra_op_num_threads``: the SDK has no thread setting, genai_config does.
    """
    src = Path(source).expanduser() if source is not None else course_onnx_dir()
    config = check_onnx_dir(src)
    settings = load_settings()
    n_ctx = int(n_ctx or settings.n_ctx)
    n_threads = int(n_threads or settings.n_threads)
    if n_ctx < MIN_MAX_LENGTH:
        raise InvalidRequestError(
            f"n_ctx={n_ctx} is below {MIN_MAX_LENGTH}; Gemma 3's sliding window needs at least that in ONNX Runtime GenAI.",
            hint=f"Use n_ctx >= {MIN_MAX_LENGTH}.",
        )
    dest = registration_dir(name, version)
    stamp = {"source": str(src.resolve()), "files": _fingerprint(src), "n_ctx": n_ctx, "threads": n_threads,
             "template": TEMPLATE_VERSION}
    try:
        if json.loads((dest / STAMP).read_text()) == stamp and all((dest / f).exists() for f in stamp["files"]):
            return dest, False
    except (OSError, json.JSONDecodeError):
        pass

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        for item in src.iterdir():
            if item.is_file() and item.name not in REWRITTEN:
                try:
                    os.link(item, tmp / item.name)
                except OSError:
                    shutil.copy2(item, tmp / item.name)
        model = config.setdefault("model", {})
        end_of_turn = _special_id(src, "<end_of_turn>")
        eos = model.get("eos_token_id", [])
        eos = list(eos) if isinstance(eos, list) else [eos]
        if end_of_turn is not None and end_of_turn not in eos:
            eos.append(end_of_turn)
        model["eos_token_id"] = eos
        model["context_length"] = n_ctx
        config.setdefault("search", {})["max_length"] = n_ctx
        options = model.setdefault("decoder", {}).setdefault("session_options", {})
        options["intra_op_num_threads"] = n_threads
        options["inter_op_num_threads"] = 1
        (tmp / "genai_config.json").write_text(json.dumps(config, indent=2))
        tok_cfg: dict[str, Any] = {}
        if (src / "tokenizer_config.json").is_file():
            tok_cfg = json.loads((src / "tokenizer_config.json").read_text())
        tok_cfg["chat_template"] = PASS_THROUGH_TEMPLATE
        (tmp / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2))
        if (src / "chat_template.jinja").is_file():
            (tmp / "chat_template.jinja").write_text(PASS_THROUGH_TEMPLATE)
        (tmp / STAMP).write_text(json.dumps(stamp))
        if dest.exists():
            old = dest.with_name(dest.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            dest.rename(old)
            tmp.rename(dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest, True


def _local_catalog():  # noqa: ANN202
    fl = sdk.require_sdk()
    return sdk.manager().get_catalog(fl.CatalogType.LOCAL)


def find_registered(model_id: str) -> Any | None:
    """The registered local model with this id (``name:version``), or ``None``."""
    try:
        return _local_catalog().get_model_variant(model_id)
    except Exception:
        return None


def _map_sdk_error(exc: BaseException, folder: Path) -> Exception:
    text = sdk.sdk_error_text(exc)
    low = text.lower()
    if "existing directory" in low or "no such file" in low:
        return ModelNotFoundError(f"Foundry Local found no model folder at {folder}: {text}")
    if "genai_config" in low or "parse" in low:
        return CorruptModelError(f"Foundry Local rejected the model folder {folder}: {text}")
    if "format <name>:<version>" in low:
        return InvalidRequestError(f"Bad model id: {text}", hint="Use 'name:version', e.g. 'my-model:1'.")
    return InvalidRequestError(f"Foundry Local refused the registration: {text}")


def ensure_registered(
    source: str | Path | None = None,
    *,
    name: str = COURSE_NAME,
    version: int = 1,
    n_ctx: int | None = None,
    display_name: str = "Edge Agents course model (Gemma 3 270M, int4 ONNX)",
) -> Any:
    """Register an ONNX GenAI folder (default: the course model) in the local catalog; reuse a fresh one.

    Returns the SDK's ``IModel``.
    """
    fl = sdk.require_sdk()
    if not name or ":" in name:
        raise InvalidRequestError(f"Bad model name {name!r}.", hint="Use letters, digits and dashes, e.g. 'my-model'.")
    folder, rebuilt = prepare_folder(source, name=name, version=version, n_ctx=n_ctx)
    model_id = f"{name}:{version}"
    existing = find_registered(model_id)
    if existing is not None:
        fresh = not rebuilt and Path(existing.get_path() or "").resolve() == folder.resolve()
        if fresh:
            return existing
        unregister(model_id)
    with fl.ModelInfoBuilder() as meta:
        meta.set_string_property("task", "chat-completion")
        meta.set_string_property("display_name", display_name)
        try:
            return _local_catalog().register_model(folder, model_id, meta)
        except Exception as exc:
            if isinstance(exc, fl.FoundryLocalException):
                raise _map_sdk_error(exc, folder) from None
            raise


def unregister(model_id: str, *, missing_ok: bool = True) -> bool:
    """Unload (if loaded) and unregister a local model. Returns whether it was registered."""
    model = find_registered(model_id)
    if model is None:
        if missing_ok:
            return False
        raise ModelNotFoundError(f"No local model {model_id!r} is registered.", hint="See catalog.local_models().")
    if model.is_loaded:
        unload_model(model)
    _local_catalog().unregister_model(model_id)
    return True


def unload_model(model: Any) -> None:
    """Unload an SDK model; a session still open on it becomes :class:`ModelInUseError`."""
    try:
        model.unload()
    except Exception as exc:
        text = sdk.sdk_error_text(exc)
        if "session" in text.lower():
            raise ModelInUseError(f"{model.id} is still used by an open session: {text}") from None
        raise


def remove_folder(name: str = COURSE_NAME, version: int = 1) -> None:
    """Delete a registration folder (the forge's files stay: they were hard links)."""
    shutil.rmtree(registration_dir(name, version), ignore_errors=True)
