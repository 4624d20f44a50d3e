"""Settings read from environment variables, with defaults that are safe on a small laptop.

| variable                    | default                              | what it sets                                |
|-----------------------------|--------------------------------------|---------------------------------------------|
| ``EDGEAGENTS_HOME``         | ``$XDG_CACHE_HOME/edgeagents``       | root of everything the course builds        |
| ``EDGEAGENTS_MODELS_DIR``   | ``$EDGEAGENTS_HOME/models``          | where the course model and its builds live  |
| ``EDGEAGENTS_THREADS``      | half the cores, at most 4, at least 1| decode threads for llama.cpp                |
| ``EDGEAGENTS_BATCH_THREADS``| same as ``EDGEAGENTS_THREADS``       | prompt-processing threads for llama.cpp     |
| ``EDGEAGENTS_N_CTX``        | ``2048``                             | context window of the in-process runtime    |
| ``EDGEAGENTS_MODEL``        | ``course``                           | ``course`` (base + course adapter) or ``base`` |

Why so few threads by default: on a busy 2-core machine, llama.cpp with 2 threads can be
20x slower than with 1, because each decode step waits for the slowest thread. Lab 02
measures it on your machine; raise ``EDGEAGENTS_THREADS`` when your machine is idle.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from edgeagents.errors import InvalidRequestError


def default_threads(cores: int | None = None) -> int:
    """Half the logical cores, between 1 and 4: safe when other programs share the CPU."""
    cores = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, min(4, cores // 2))


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequestError(
            f"{name}={raw!r} is not a whole number.", hint=f"Set {name} to a positive integer, or unset it."
        ) from None
    if value <= 0:
        raise InvalidRequestError(f"{name}={value} must be positive.", hint=f"Set {name} to 1 or more, or unset it.")
    return value


@dataclass(frozen=True)
class Settings:
    home: Path
    models_dir: Path
    n_threads: int
    n_threads_batch: int
    n_ctx: int
    model_variant: str

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings() -> Settings:
    """Read the settings from the environment now (nothing is cached, so a cell can change them)."""
    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    home = Path(os.environ.get("EDGEAGENTS_HOME") or cache_root / "edgeagents").expanduser()
    models_dir = Path(os.environ.get("EDGEAGENTS_MODELS_DIR") or home / "models").expanduser()
    threads = _int_env("EDGEAGENTS_THREADS", default_threads())
    batch_threads = _int_env("EDGEAGENTS_BATCH_THREADS", threads)
    n_ctx = _int_env("EDGEAGENTS_N_CTX", 2048)
    variant = os.environ.get("EDGEAGENTS_MODEL", "course").strip().lower() or "course"
    if variant not in {"course", "base"}:
        raise InvalidRequestError(
            f"EDGEAGENTS_MODEL={variant!r} is not a course model variant.",
            hint="Use EDGEAGENTS_MODEL=course (base model + course adapter) or EDGEAGENTS_MODEL=base.",
        )
    return Settings(home, models_dir, threads, batch_threads, n_ctx, variant)
