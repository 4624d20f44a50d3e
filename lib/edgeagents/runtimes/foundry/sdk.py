"""The Foundry Local SDK (``foundry-local-sdk`` 2.x) as one process-wide manager with project-local folders.

The SDK's :class:`FoundryLocalManager` is a *process singleton*: ``initialize()`` twice raises,
and only ``close()`` lets a new one be made. Notebook cells and tests run in any order, so
everything in the course goes through :func:`manager`, which

- creates the manager once, with its cache, logs and app data under ``$EDGEAGENTS_HOME/foundry``
  (never the user's global Foundry folders),
- reuses it when it is already open with those folders,
- closes and re-creates it when something else opened it with other folders.

>>> from edgeagents.runtimes.foundry import sdk
>>> mgr = sdk.manager()          # FoundryLocalManager.instance, ready
>>> sdk.close_manager()          # unloads everything; the next manager() starts afresh
"""

from __future__ import annotations

import importlib.util
import sys
import weakref
from importlib import metadata
from pathlib import Path
from typing import Any

from edgeagents.errors import RuntimeUnavailableError
from edgeagents.settings import load_settings

APP_NAME = "edgeagents"
INSTALL_HINT = "Run `make setup` (it installs the foundry extra), or `pip install -e '.[foundry]'` (Python 3.11+)."


def sdk_available() -> bool:
    """True when ``foundry_local_sdk`` can be imported here (Python 3.11+ with the extra installed)."""
    if sys.version_info < (3, 11):
        return False
    try:
        return importlib.util.find_spec("foundry_local_sdk") is not None
    except (ImportError, ValueError):
        return False


def why_unavailable() -> str:
    """One line that says how to get the SDK (empty when it is there)."""
    if sdk_available():
        return ""
    if sys.version_info < (3, 11):
        return f"Foundry Local's Python SDK needs Python 3.11+, this is {sys.version.split()[0]}."
    return "foundry-local-sdk is not installed. " + INSTALL_HINT


def require_sdk():  # noqa: ANN201 - the module
    """Import ``foundry_local_sdk`` or raise :class:`RuntimeUnavailableError` with what to run."""
    if not sdk_available():
        raise RuntimeUnavailableError(why_unavailable(), hint=INSTALL_HINT)
    import foundry_local_sdk

    return foundry_local_sdk


def versions() -> dict[str, str | None]:
    """Versions of the SDK and the ONNX Runtime packages it runs on."""
    out: dict[str, str | None] = {}
    for dist in ("foundry-local-sdk", "onnxruntime", "onnxruntime-genai-core", "onnxruntime-genai"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def foundry_home() -> Path:
    """``$EDGEAGENTS_HOME/foundry``: the course's Foundry Local cache, logs and app data."""
    return load_settings().home / "foundry"


def folders() -> dict[str, Path]:
    root = foundry_home()
    return {"model_cache_dir": root / "cache", "logs_dir": root / "logs", "app_data_dir": root / "app"}


def _wanted_config():  # noqa: ANN202
    fl = require_sdk()
    dirs = folders()
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    return fl.Configuration(
        app_name=APP_NAME,
        model_cache_dir=str(dirs["model_cache_dir"]),
        logs_dir=str(dirs["logs_dir"]),
        app_data_dir=str(dirs["app_data_dir"]),
        # The native library prints warnings (catalog retries) to the console; keep notebooks quiet.
        # Everything still goes to the log file under logs_dir.
        log_level=fl.LogLevel.FATAL,
        disable_nonessential_telemetry=True,
    )


def current_manager() -> Any | None:
    """The open manager, or ``None`` (never creates one)."""
    if not sdk_available():
        return None
    from foundry_local_sdk import FoundryLocalManager

    return FoundryLocalManager.instance


def manager() -> Any:
    """The process's :class:`FoundryLocalManager`, created on first use with the course's folders."""
    fl = require_sdk()
    config = _wanted_config()
    mgr = fl.FoundryLocalManager.instance
    if mgr is not None:
        same = getattr(mgr.config, "model_cache_dir", None) == config.model_cache_dir
        if same:
            return mgr
        close_manager()  # opened elsewhere with other folders: start again with ours
    fl.FoundryLocalManager.initialize(config)
    _on_new_manager()
    return fl.FoundryLocalManager.instance


_listeners: weakref.WeakSet[Any] = weakref.WeakSet()


def on_close(owner: Any) -> None:
    """Call ``owner._manager_closing()`` before the manager closes (runtimes mark themselves unusable)."""
    _listeners.add(owner)


_new_manager_hooks: list[Any] = []


def on_new_manager(hook: Any) -> None:
    """Call ``hook()`` whenever a new manager starts (the catalog clears its cached local list): modules
    above this one register themselves, so this module imports none of them."""
    _new_manager_hooks.append(hook)


def _on_new_manager() -> None:
    for hook in _new_manager_hooks:
        hook()


def close_manager() -> bool:
    """Close the manager: the SDK unloads every model and ends every session. Returns whether one was open."""
    mgr = current_manager()
    if mgr is None:
        return False
    for owner in list(_listeners):
        try:
            owner._manager_closing()
        except Exception:  # a listener must never stop the shutdown
            pass
    mgr.close()
    return True


def sdk_error_text(exc: BaseException) -> str:
    """The useful last part of a native error ("model not found: x:1"), without the C++ source location."""
    text = str(exc).strip()
    # native messages look like "file.cc:123 signature... message": keep the message after the signature
    if ") " in text and ".cc:" in text.split(" ", 1)[0]:
        text = text.split(") ", 1)[-1]
    return text


def web_service_probe(model_id: str, timeout_s: float = 30.0) -> dict[str, Any]:
    """Start the SDK's built-in OpenAI-compatible web service, ask it for models and one chat, stop it.

    Returns what it answered (status codes and bodies, shortened): on 2.2.1 offline it lists no
    bring-your-own model and answers chat with 404, which lab 08 shows rather than hides.
    """
    import httpx

    mgr = manager()
    mgr.start_web_service()
    out: dict[str, Any] = {"urls": list(mgr.urls or [])}
    try:
        base = out["urls"][0].rstrip("/")
        with httpx.Client(timeout=timeout_s, trust_env=False) as client:
            r = client.get(f"{base}/v1/models")
            out["models_status"], out["models_body"] = r.status_code, r.text[:300]
            body = {"model": model_id, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8}
            r = client.post(f"{base}/v1/chat/completions", json=body)
            out["chat_status"], out["chat_body"] = r.status_code, r.text[:300]
    finally:
        mgr.stop_web_service()
    return out
